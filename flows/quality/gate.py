"""The quality gate: expectation suites (JSON under expectations/) run by Great Expectations.

Great Expectations 1.x reads neither polars nor DuckDB (its SQL datasource fails on duckdb-engine),
so every batch is a DuckDB query handed over as one pandas DataFrame. Queries aggregate first
(stated totals against their parts, one row per invariant), so the frames stay small however
many rows the warehouse holds.
"""

from __future__ import annotations

import html
import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from flows.database import is_corrupt
from flows.warehouse.build import SQL_DIR

if TYPE_CHECKING:
    import pandas as pd

SEVERITIES = ("critical", "warning", "info")
LAYERS = ("bulletin", "warehouse")
# Suites that every folder of suites must have, each with at least one expectation: without them
# a run would publish bulletins and a warehouse that nothing checked.
REQUIRED_SUITES = ("bulletin_observations", "bulletin_totals", "core")
# What Great Expectations raises for an expectation it cannot build (unknown type, bad kwargs).
UNREADABLE = (TypeError, ValueError)


class SuitesError(Exception):
    """A folder of suites that cannot check a run: missing, unreadable, or lacking a suite."""


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
    page: int | None = None  # of a PDF, where the line is
    details: list[dict] = field(default_factory=list)
    layer: str = "warehouse"  # of its suite: a critical failure of the warehouse layer blocks

    def describe(self, with_file: bool = True) -> str:
        """What failed, where, in words."""
        where = f"{self.bulletin}: " if self.bulletin and with_file else ""
        return f"{where}{self.expectation} ({self.severity}) failed: {self.observed}"


def load_suites(expectations_dir: Path, layer: str) -> list[dict]:
    """The suites of one layer ("bulletin" or "warehouse"), read from their JSON files."""
    return [suite for suite in read_suites(expectations_dir) if suite["meta"]["layer"] == layer]


def read_suites(expectations_dir: Path) -> list[dict]:
    """Every suite of the folder, in file order; SuitesError says which file is wrong and why."""
    if not expectations_dir.is_dir():
        raise SuitesError(f"no folder of expectation suites at {expectations_dir}")
    suites = []
    for path in sorted(expectations_dir.glob("*.json")):
        try:
            suite = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SuitesError(f"{path}: not a readable JSON suite ({error})") from None
        if not isinstance(suite, dict) or not isinstance(suite.get("expectations"), list):
            raise SuitesError(f"{path}: a suite needs a name, a meta.layer and expectations")
        if not suite.get("name") or (suite.get("meta") or {}).get("layer") not in LAYERS:
            raise SuitesError(f"{path}: a suite needs a name and a meta.layer in {LAYERS}")
        meta = suite["meta"]
        if "batch_query" not in meta and not (SQL_DIR / meta.get("batch_sql_file", "")).is_file():
            raise SuitesError(f"{path}: meta.batch_query or an existing meta.batch_sql_file needed")
        for number, expectation in enumerate(suite["expectations"], start=1):
            if not isinstance(expectation, dict):
                raise SuitesError(f"{path}: expectation {number} is not an object")
            if expectation.get("severity", "critical") not in SEVERITIES:
                raise SuitesError(
                    f"{path}: expectation {number}: severity must be one of {SEVERITIES}"
                )
        suites.append(suite)
    names = {suite["name"] for suite in suites if suite["expectations"]}
    if missing := [name for name in REQUIRED_SUITES if name not in names]:
        raise SuitesError(
            f"{expectations_dir} has no {' or '.join(missing)} suite with expectations:"
            " every run is checked by the bulletin and core suites"
        )
    return suites


def batch_query(suite: dict) -> str:
    """The SQL that produces a suite's batch: inline, or a file under sql/."""
    meta = suite["meta"]
    if "batch_sql_file" in meta:
        return (SQL_DIR / meta["batch_sql_file"]).read_text()
    return meta["batch_query"]


class QualityGate:
    """Runs suites against DuckDB queries and keeps their results for Data Docs."""

    def __init__(self, expectations_dir: Path, project_dir: Path, run_id: str) -> None:
        """Suites from `expectations_dir`; results and Data Docs under `project_dir`/gx."""
        gx = self.gx = great_expectations()
        self.expectations_dir = expectations_dir
        self.context = gx.get_context(mode="file", project_root_dir=str(project_dir))
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
            try:
                frame = html_safe(con.sql(batch_query(suite)).df())
            except duckdb.Error as error:
                if is_corrupt(error):  # a damaged file, not a suite that cannot check it
                    raise
                # A batch that cannot be queried checks nothing: each of its expectations fails.
                reason = f"its batch could not be queried: {one_line(error)}"
                findings += [unchecked(suite, config, reason) for config in suite["expectations"]]
                continue
            findings += self.validate(suite, frame, per_bulletin=layer == "bulletin")
        findings = [replace(finding, layer=layer) for finding in findings]
        self.findings += findings
        return findings

    def validate(self, suite: dict, frame: pd.DataFrame, per_bulletin: bool) -> list[Finding]:
        """Validate one batch; failures are reported per bulletin where the batch has files.

        A failure that names no offending row (an aggregate such as a column's maximum or a
        table's row count, or an expectation that cannot be built or evaluated) fails every
        bulletin of the batch: it cannot tell which one is wrong, and none may pass unchecked.
        """
        gx = self.gx
        name = suite["name"]
        # Warehouse suites may report per file too (a disagreement names the file it concerns).
        per_file = per_bulletin or suite["meta"].get("per_file", False)
        files = (
            sorted({html.unescape(file) for file in frame["file"].dropna()})
            if per_file and "file" in frame
            else []
        )
        expectations, findings = self.build_expectations(suite, files)
        definition = gx.ExpectationSuite(
            name=name, expectations=expectations, meta=suite.get("meta", {})
        )
        definition = self.context.suites.add_or_update(definition)
        validation = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=self.batch, suite=definition)
        )
        wanted = ["file"] if files else []
        wanted += suite["meta"].get("index_columns", [])
        index = [c for c in dict.fromkeys(wanted) if c in frame.columns]
        result = validation.run(
            batch_parameters={"dataframe": frame},
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index},
        )
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
                findings += for_batch(replace(base, success=False, observed=message), files)
                continue
            if outcome.success:
                findings.append(base)
                continue
            rows = [plain(row) for row in outcome.result.get("unexpected_index_list") or []]
            by_file: dict[str, list[dict]] = {}
            for row in rows:
                if row.get("file") is not None:
                    by_file.setdefault(row["file"], []).append(row)
            failed = sorted(by_file)
            if not failed:
                findings += for_batch(failure(base, rows, meta, None), files)
                continue
            for file in failed:
                findings.append(failure(base, by_file[file], meta, file))
            if passed := len(files) - len(failed):
                findings.append(
                    replace(base, success=True, observed=f"passed for {passed} bulletins")
                )
        return findings

    def build_expectations(self, suite: dict, files: list[str]) -> tuple[list, list[Finding]]:
        """The suite's expectations as Great Expectations objects, and a failed finding for each
        one it cannot build (an unknown type, a missing argument), which would otherwise be
        dropped from the suite with no more than a log line."""
        from great_expectations.exceptions import GreatExpectationsError
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        built, unreadable = [], []
        for config in suite["expectations"]:
            try:
                built.append(ExpectationConfiguration(**config).to_domain_obj())
            except (GreatExpectationsError, *UNREADABLE) as error:
                reason = f"cannot be read: {one_line(error)}"
                unreadable += for_batch(unchecked(suite, config, reason), files)
        return built, unreadable

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


def great_expectations() -> ModuleType:
    """Great Expectations, imported on first use (seconds of CPU: only a run that checks needs
    it), quiet and without analytics."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    return gx


def html_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The batch with `&`, `<` and `>` of its texts as HTML entities.

    Great Expectations writes the values of offending rows into its Data Docs unescaped (its
    templates end in .j2, which its Jinja environment does not autoescape): a label such as
    `<script>` would run in the page. `plain` turns the values back into text.
    """
    texts = frame.select_dtypes(include=["object", "string"]).columns
    return frame.assign(**{column: escaped(frame[column]) for column in texts})


def escaped(column: pd.Series) -> pd.Series:
    """A column with `&`, `<` and `>` of its texts escaped, `&` first; other values as they are.

    A column of texts (and missing values) is escaped whole by pandas; one that mixes texts with
    other values (lists, structs) value by value.
    """
    import pandas as pd

    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind == "string":
        for character, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            column = column.str.replace(character, entity, regex=False)
        return column
    if kind == "empty":
        return column
    return column.map(
        lambda value: html.escape(value, quote=False) if isinstance(value, str) else value
    )


def plain(row: dict) -> dict:
    """An unexpected row as plain Python: numpy scalars and pandas' missing values converted,
    texts unescaped again (see `html_safe`)."""
    import pandas as pd

    return {
        key: None
        if pd.api.types.is_scalar(value) and pd.isna(value)
        else value.item()
        if hasattr(value, "item")
        else html.unescape(value)
        if isinstance(value, str)
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
    page_column = page_column_of(line_column)
    parts = []
    for row in rows[:5]:
        if message := row.get(meta.get("message_column", "")):
            parts.append(str(message))
            continue
        text = str(row.get("subject", ""))
        if (detail := row.get(meta.get("detail_column", ""))) is not None:
            text += f": '{detail}'"
        if (value := row.get(meta.get("value_column", ""))) is not None:
            text += f" is {value:g}"
        if row.get("stated") is not None and row.get("computed") is not None:
            text += f": stated {row['stated']:g}, computed {row['computed']:g}"
        if row.get(line_column):
            page = f"page {row[page_column]}, " if row.get(page_column) else ""
            text += f" ({page}line {row[line_column]})"
        parts.append(text)
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return "; ".join(parts) + more


def unchecked(suite: dict, config: dict, reason: str) -> Finding:
    """A failed finding for an expectation that could not be checked, saying why."""
    return Finding(
        suite=suite["name"],
        expectation=(config.get("meta") or {}).get("name") or str(config.get("type")),
        severity=config.get("severity", "critical"),
        success=False,
        observed=reason,
    )


def one_line(error: Exception) -> str:
    """An error message on one line, cut to a readable length."""
    return " ".join(str(error).split())[:300]


def for_batch(finding: Finding, files: list[str]) -> list[Finding]:
    """A finding about a whole batch, once for each bulletin in it (once if it has none)."""
    if not files or finding.success:
        return [finding]
    where = f" (a result of the {len(files)} bulletins checked together)" if len(files) > 1 else ""
    return [replace(finding, bulletin=file, observed=finding.observed + where) for file in files]


def failure(base: Finding, rows: list[dict], meta: dict, file: str | None) -> Finding:
    """A failed finding with its offending rows, in line order, and the line of the first."""
    column = meta.get("line_column", "line")
    page = page_column_of(column)
    rows = sorted(
        rows, key=lambda row: (not row.get(column), row.get(page) or 0, row.get(column) or 0)
    )
    first = rows[0] if rows and rows[0].get(column) else {}
    return replace(
        base,
        observed=summarise(rows, meta) if rows else base.observed or "failed, naming no value",
        bulletin=file,
        line=first.get(column),
        page=first.get(page),
        details=rows,
    )


def page_column_of(line_column: str) -> str:
    """The column giving the page of a PDF beside a line column: page, min_returns_page, ..."""
    return line_column.removesuffix("line") + "page"
