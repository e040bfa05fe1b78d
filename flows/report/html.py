"""The HTML report: one self-contained, offline page of a published warehouse.

Jinja2 writes it with autoescape on, so every label, file name and message from an input file is
text; the only markup not escaped again is the charts' SVG (see charts.svg). The page loads
nothing: styles are inline, charts are inline SVG, there is no script, and its Content Security
Policy forbids any request.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import jinja2

from flows import reference
from flows.quality.freshness import FreshnessLimits
from flows.quality.gate import page_column_of
from flows.report import figures, notation

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE = "index.html"


def environment() -> jinja2.Environment:
    """Jinja2 with autoescape and the report's notation as filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(count=notation.count, percent=notation.percent, change=notation.change)
    return env


def offending(details: list[dict], bulletin: str | None) -> list[dict]:
    """A failed expectation's offending rows as file, page (of a PDF), line and the other values,
    in words."""
    found = []
    for row in details:
        line_key = next((key for key in row if key == "line" or key.endswith("_line")), None)
        page_key = page_column_of(line_key) if line_key else None
        found.append(
            {
                "file": row.get("file") or row.get("bulletin") or bulletin or "",
                "line": row.get(line_key) if line_key else None,
                "page": row.get(page_key) if page_key else None,
                "values": "; ".join(
                    f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}"
                    for key, value in row.items()
                    if key not in ("file", "bulletin", line_key, page_key)
                    and value not in (None, "")
                ),
            }
        )
    return found


def outcome(result: dict) -> tuple:
    """The expectation and outcome a quality result is one of."""
    return result["suite"], result["expectation"], result["severity"], result["success"]


def render(data: figures.ReportData, generated_at: datetime) -> str:
    """The page's HTML."""
    # Imported here: altair costs most of a second, and a run that keeps its page needs none.
    from flows.report import charts

    shown = Counter(outcome(result) for result in data.quality)
    seen: Counter = Counter()
    for result in data.quality:
        result["offending"] = offending(result["details"], result["bulletin"])
        seen[outcome(result)] += 1
        # The last result shown of an expectation and outcome says how many more there are.
        last = seen[outcome(result)] == shown[outcome(result)]
        result["more"] = result["outcome_count"] - shown[outcome(result)] if last else 0
    failed = [r for r in data.quality if not r["success"]]
    chart_svgs = {}
    if data.headline:
        chart_svgs["monthly"] = charts.monthly(data.monthly, data.headline.year)
    if data.annual:
        chart_svgs["history"] = charts.history(data.annual)
    for name in ("countries", "categories", "channels"):
        if getattr(data, name).rows:
            chart_svgs[name] = getattr(charts, name)(getattr(data, name).rows)
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            charts=chart_svgs,
            months=reference.month_names("en"),
            failed_critical=[r for r in failed if r["severity"] == "critical"],
            failed_warning=[r for r in failed if r["severity"] != "critical"],
            generated_at=generated_at,
        )
    )


def write_report(
    warehouse: Path, output_dir: Path, limits: FreshnessLimits, today: date | None = None
) -> Path:
    """Write the report of a published warehouse as `output_dir/index.html`; its path.

    The page is written beside and renamed over the old one, so a reader never sees half a page.
    Freshness is judged on `today` (default: the machine's date) with `limits` (the run's
    settings). Raises duckdb.Error when the file is not a warehouse of this project.
    """
    data = figures.read(warehouse, today or date.today(), limits)
    page = render(data, datetime.now(UTC))
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / PAGE
    temporary = output_dir / f".{PAGE}.{os.getpid()}.new"
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, target)
    return target
