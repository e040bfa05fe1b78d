"""The run report: what was loaded, skipped, rejected, warned and published."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flows.ingest.editions import Edition, Rejection
from flows.quality.gate import Finding
from flows.report import shown

# Up to this many warnings are listed one by one; more are summed up per expectation, each with
# its count and first files (every one stays in marts.data_quality).
LISTED = 20
FIRST_FILES = 5


@dataclass
class RunReport:
    """Everything an operator needs to know about one run."""

    run_id: str
    raw_dir: Path
    warehouse: Path
    files: int = 0
    parsed_now: int = 0
    loaded: list[Edition] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    published: bool = False
    unchanged: bool = False
    stopped: str = ""
    row_counts: dict[str, int] = field(default_factory=dict)
    docs: Path | None = None
    page: Path | None = None  # the HTML report of the published file
    notes: list[str] = field(default_factory=list)  # repairs and clean-ups, one line each
    skipped: list[str] = field(default_factory=list)
    kept_editions: int = 0  # editions of the published file, when nothing was published

    @property
    def warnings(self) -> list[Finding]:
        """Failed expectations of severity warning, each once."""
        unique = {
            (f.suite, f.expectation, f.bulletin, f.observed): f
            for f in self.findings
            if not f.success and f.severity == "warning"
        }
        return list(unique.values())

    @property
    def blocking(self) -> list[Finding]:
        """Failed critical expectations of the warehouse suites: nothing was published."""
        # By layer, not by file: a warehouse suite may name the file a failure concerns.
        return [
            f
            for f in self.findings
            if not f.success and f.severity == "critical" and f.layer == "warehouse"
        ]

    @property
    def exit_code(self) -> int:
        """0 when published (or nothing changed) and nothing was rejected; 1 otherwise."""
        return 0 if (self.published or self.unchanged) and not self.rejected else 1

    def markdown(self) -> str:
        """The report as Markdown, for a Prefect artifact: names and reasons escaped."""
        return "\n".join(self.lines(shown.markdown, markdown=True))

    def terminal(self) -> str:
        """The report for a terminal: control characters escaped, long texts cut."""
        return "\n".join(self.lines(shown.terminal, markdown=False))

    def lines(self, show: Callable[[object], str], markdown: bool) -> list[str]:
        """The report's lines, every untrusted text passed through `show`."""
        bold, quote = ("**", "> ") if markdown else ("", "")
        warehouse = show(self.warehouse)
        lines = [f"# Voluntary-return warehouse run {self.run_id}", ""]
        if self.published:
            outcome = f"{bold}Published{bold} {warehouse} and its marts as Parquet."
        elif self.unchanged:
            outcome = f"{bold}Nothing changed{bold}: {warehouse} was left as it was."
        elif self.kept_editions:
            outcome = (
                f"{bold}Not published{bold}: {self.stopped}; the published warehouse keeps its"
                f" {self.kept_editions} editions ({warehouse})."
            )
        else:
            outcome = f"{bold}Not published{bold}: {self.stopped}; no warehouse at {warehouse}."
        rejected_files = {r.file for r in self.rejected}
        warnings = self.warnings
        by_file: dict[str | None, list[Finding]] = {}
        for finding in warnings:
            by_file.setdefault(finding.bulletin, []).append(finding)
        editions = "editions published" if self.unchanged else "editions loaded"
        lines += [outcome, ""]
        if self.notes:
            lines += [f"{quote}{show(note)}" for note in self.notes] + [""]
        lines += [
            f"- files in {show(self.raw_dir)}: {self.files}",
            f"- parsed now: {self.parsed_now}; unchanged: {self.files - self.parsed_now}",
            f"- {editions}: {len(self.loaded)}",
            f"- rejected: {len(self.rejected)}",
            f"- warnings: {len(warnings)}",
        ]
        if self.loaded:
            lines += ["", f"## {editions.capitalize()}", ""]
            for edition in sorted(self.loaded, key=lambda e: e.edition["file_name"])[:50]:
                e = edition.edition
                names = [e["file_name"], *(e.get("also_named") or [])]
                published = (
                    f", published {show(e['published_on'])}" if e.get("published_on") else ""
                )
                lines.append(
                    f"- {', '.join(show(name) for name in names)}: {show(e['format'])},"
                    f" report year {e['report_year']},"
                    f" {show(e['coverage_start'])} to {show(e['coverage_end'])},"
                    f" source {show(e.get('source_code') or 'UNKNOWN')}{published}"
                )
            if len(self.loaded) > 50:
                lines.append(f"- and {len(self.loaded) - 50} more")
        if self.rejected:
            lines += ["", "## Rejected (kept out of the warehouse)", ""]
            for rejection in sorted(self.rejected, key=lambda r: r.file):
                lines.append(f"- {show(rejection)}")
                lines += [
                    f"    - warning: {show(finding.describe(with_file=False))}"
                    for finding in by_file.get(rejection.file, [])
                ]
        if self.skipped:
            lines += ["", "## Skipped (not read)", ""]
            lines += [f"- {show(item)}" for item in self.skipped]
        if self.blocking:
            lines += ["", "## Failed checks of the new warehouse (nothing published)", ""]
            lines += [f"- {show(finding.describe())}" for finding in self.blocking]
        if others := [w for w in warnings if w.bulletin not in rejected_files]:
            kept = self.published or self.unchanged
            fate = "published with the data" if kept else "not published"
            lines += ["", f"## Warnings ({fate})", ""]
            lines += summed_up(others, show, kept)
        if self.row_counts:
            lines += ["", "## Rows published", ""]
            lines += [f"- {table}: {count}" for table, count in self.row_counts.items()]
        if self.page:
            lines += ["", f"Report: {show(self.page.as_uri())}"]
        if self.docs:
            lines += ["", f"Data Docs: {show(self.docs)}"]
        return lines

    def quality_table(self) -> list[dict]:
        """The quality results as rows, for a table artifact: at most LISTED results of each
        expectation, then a row saying how many more there are and where they all are."""
        rows = []
        for (suite, expectation, severity, success), findings in grouped(self.findings).items():
            rows += [
                {
                    "suite": suite,
                    "expectation": expectation,
                    "severity": severity,
                    "success": success,
                    "bulletin": f.bulletin or "",
                    "observed": f.observed[:200],
                }
                for f in findings[:LISTED]
            ]
            if len(findings) > LISTED:
                more = f"and {len(findings) - LISTED} more files (all in marts.data_quality)"
                rows.append(rows[-1] | {"bulletin": more, "observed": ""})
        return rows


def grouped(findings: list[Finding]) -> dict[tuple[str, str, str, bool], list[Finding]]:
    """Findings by suite, expectation, severity and outcome, in the order they came."""
    groups: dict[tuple[str, str, str, bool], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.suite, f.expectation, f.severity, f.success), []).append(f)
    return groups


def summed_up(warnings: list[Finding], show: Callable[[object], str], kept: bool) -> list[str]:
    """A line per warning when there are LISTED or fewer; else a line per expectation with its
    count and first files, and where every warning is."""
    if len(warnings) <= LISTED:
        return [f"- {show(finding.describe())}" for finding in warnings]
    lines = []
    for (_, expectation, severity, _), findings in grouped(warnings).items():
        files = sorted({f.bulletin or "the whole warehouse" for f in findings})
        first = ", ".join(show(file) for file in files[:FIRST_FILES])
        more = f" and {len(files) - FIRST_FILES} more" if len(files) > FIRST_FILES else ""
        lines.append(
            f"- {show(expectation)} ({severity}) failed in {len(files)} files: {first}{more}"
        )
    where = "marts.data_quality of the published warehouse" if kept else "the Data Docs"
    return [
        *lines,
        "",
        f"{len(warnings)} warnings in all; each, with its file and figures, is in {where}.",
    ]
