"""The quality gate: expectation suites (JSON under expectations/) run by Great Expectations.

Great Expectations 1.x reads neither polars nor DuckDB (its SQL datasource fails on duckdb-engine),
so every batch is a DuckDB query handed over as one pandas DataFrame. Queries aggregate first
(stated totals against their parts, one row per invariant), so the frames stay small however
many rows the warehouse holds.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl

from flows.warehouse.build import SQL_DIR

SEVERITIES = ("critical", "warning", "info")


@dataclass
class Finding:
    """One expectation's result, for one bulletin or for the warehouse."""

    suite: str
    expectation: str
    severity: str
    success: bool
    observed: str
    bulletin: str | None = None
    line: int | None = None
    details: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        """What failed, where, in words."""
        where = f"{self.bulletin}: " if self.bulletin else ""
        return f"{where}{self.expectation} ({self.severity}) failed: {self.observed}"


def load_suites(expectations_dir: Path, layer: str) -> list[dict]:
    """The suites of one layer ("bulletin" or "warehouse"), read from their JSON files."""
    suites = []
    for path in sorted(expectations_dir.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        if suite.get("meta", {}).get("layer") == layer:
            for expectation in suite["expectations"]:
                if expectation.get("severity", "critical") not in SEVERITIES:
                    raise ValueError(f"{path.name}: severity must be one of {SEVERITIES}")
            suites.append(suite)
    return suites


def batch_query(suite: dict) -> str:
    """The SQL that produces a suite's batch: inline, or a file under sql/."""
    meta = suite["meta"]
    if "batch_sql_file" in meta:
        return (SQL_DIR / meta["batch_sql_file"]).read_text()
    return meta["batch_query"]


class QualityGate:
    """Runs suites against DuckDB queries and keeps their results for Data Docs."""

    def __init__(self, expectations_dir: Path, docs_root: Path, run_id: str) -> None:
        # Imported here: Great Expectations costs seconds to import and is needed only to check.
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        import great_expectations as gx

        self.gx = gx
        self.expectations_dir = expectations_dir
        self.context = gx.get_context(mode="file", project_root_dir=str(docs_root))
        self.context.variables.progress_bars = {"globally": False}
        source = self.context.data_sources.add_or_update_pandas("batches")
        self.batch = source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe(
            "whole frame"
        )
        self.run_id = run_id
        self.checked_at = datetime.now(UTC)
        self.findings: list[Finding] = []

    def check(self, layer: str, con: duckdb.DuckDBPyConnection) -> list[Finding]:
        """Run every suite of a layer on the connection's data; return and keep the findings."""
        findings = []
        for suite in load_suites(self.expectations_dir, layer):
            frame = con.sql(batch_query(suite)).df()
            findings += self.validate(suite, frame, per_bulletin=layer == "bulletin")
        self.findings += findings
        return findings

    def validate(self, suite: dict, frame: pd.DataFrame, per_bulletin: bool) -> list[Finding]:
        """Validate one batch; failures are reported per bulletin where the batch has files."""
        gx = self.gx
        name = suite["name"]
        definition = gx.ExpectationSuite(
            name=name, expectations=suite["expectations"], meta=suite.get("meta", {})
        )
        definition = self.context.suites.add_or_update(definition)
        validation = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=self.batch, suite=definition)
        )
        index = [c for c in suite["meta"].get("index_columns", []) if c in frame.columns]
        result = validation.run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index},
        )
        # Warehouse suites may report per file too (a disagreement names the file it concerns).
        per_file = per_bulletin or suite["meta"].get("per_file", False)
        files = sorted(frame["file"].dropna().unique()) if per_file and "file" in frame else []
        findings = []
        for outcome in result.results:
            config = outcome.expectation_config
            meta = config.meta or {}
            base = Finding(
                suite=name,
                expectation=meta.get("name") or config.type,
                severity=str(getattr(config.severity, "value", config.severity)),
                success=bool(outcome.success),
                observed=observed(outcome),
            )
            error = outcome.exception_info or {}
            if error.get("raised_exception"):
                # An expectation that cannot be evaluated (a column renamed, say) never passes.
                message = f"could not be evaluated: {error.get('exception_message')}"
                findings.append(replace(base, success=False, observed=message))
                continue
            if outcome.success:
                findings.append(base)
                continue
            rows = [plain(row) for row in outcome.result.get("unexpected_index_list") or []]
            if not files:
                findings.append(failure(base, rows, meta, None))
                continue
            failed = sorted({row["file"] for row in rows})
            for file in failed:
                findings.append(failure(base, [r for r in rows if r["file"] == file], meta, file))
            if passed := len(files) - len(failed):
                findings.append(
                    replace(base, success=True, observed=f"passed for {passed} bulletins")
                )
        return findings

    def results(self) -> pl.DataFrame:
        """The findings of this run in the columns of marts.data_quality."""
        return pl.DataFrame(
            [
                {
                    "run_id": self.run_id,
                    "checked_at": self.checked_at,
                    "suite": f.suite,
                    "expectation": f.expectation,
                    "severity": f.severity,
                    "success": f.success,
                    "observed": f.observed,
                    "bulletin": f.bulletin,
                    "details": json.dumps(f.details, default=str, ensure_ascii=False),
                }
                for f in self.findings
            ],
            schema={
                "run_id": pl.String,
                "checked_at": pl.Datetime("us", "UTC"),
                "suite": pl.String,
                "expectation": pl.String,
                "severity": pl.String,
                "success": pl.Boolean,
                "observed": pl.String,
                "bulletin": pl.String,
                "details": pl.String,
            },
        )

    def build_docs(self) -> Path:
        """Render Data Docs of this run's validations; the path of their index page."""
        self.context.build_data_docs()
        sites = self.context.get_docs_sites_urls()
        return Path(sites[0]["site_url"].removeprefix("file://"))


def forget_results(docs_root: Path) -> None:
    """Remove what Great Expectations kept of earlier runs: the Data Docs show the last run.

    Everything under gx/ is generated: the suites are read anew from expectations/ each run.
    """
    shutil.rmtree(docs_root / "gx", ignore_errors=True)


def plain(row: dict) -> dict:
    """An unexpected row with numpy scalars and pandas' missing values as plain Python."""
    return {
        key: None
        if pd.api.types.is_scalar(value) and pd.isna(value)
        else value.item()
        if hasattr(value, "item")
        else value
        for key, value in row.items()
    }


def observed(outcome: object) -> str:
    """A short account of what an expectation saw."""
    result = outcome.result
    if "observed_value" in result:
        return f"observed {result['observed_value']}"
    if "unexpected_count" in result:
        return f"{result['unexpected_count']} of {result.get('element_count', '?')} rows unexpected"
    return ""


def summarise(rows: list[dict], meta: dict) -> str:
    """The offending rows in words: subject, label, stated and computed figures, line; or the
    row's own account where the suite names a `message_column`."""
    line_column = meta.get("line_column", "line")
    parts = []
    for row in rows[:5]:
        if message := row.get(meta.get("message_column", "")):
            parts.append(str(message))
            continue
        text = str(row.get("subject", ""))
        if (detail := row.get(meta.get("detail_column", ""))) is not None:
            text += f": '{detail}'"
        if row.get("stated") is not None and row.get("computed") is not None:
            text += f": stated {row['stated']:g}, computed {row['computed']:g}"
        if row.get(line_column):
            text += f" (line {row[line_column]})"
        parts.append(text)
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return "; ".join(parts) + more


def failure(base: Finding, rows: list[dict], meta: dict, file: str | None) -> Finding:
    """A failed finding with its offending rows, in line order, and the line of the first."""
    column = meta.get("line_column", "line")
    rows = sorted(rows, key=lambda row: (row.get(column) is None, row.get(column) or 0))
    lines = [row[column] for row in rows if row.get(column)]
    return replace(
        base,
        observed=summarise(rows, meta) if rows else base.observed,
        bulletin=file,
        line=min(lines) if lines else None,
        details=rows,
    )
