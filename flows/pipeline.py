"""The steps of a run as plain functions: parse, check bulletins, build, check, publish."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from flows import database
from flows.ingest.editions import (
    EDITION_COLUMNS,
    Edition,
    RawFolder,
    Rejection,
    cache_version,
    store_path,
)
from flows.publish import publish
from flows.quality import freshness
from flows.quality.gate import Finding, QualityGate
from flows.report.html import PAGE, write_report
from flows.settings import pause_point
from flows.warehouse import build as warehouse

# Folders of the published state that are written from the checked warehouse file, by their name
# beside it: each writer fills its folder of the staging folder, and writes it again from the
# verified published file when an unchanged run finds it damaged.
DERIVED = (publish.MARTS, "report")
# Derived folders that say something about the day they were written (the report judges the
# figures' freshness on that day): unchanged runs write them again.
DAILY = ("report",)
REPORT_PAGE = f"report/{PAGE}"
# The manifest's record of what the published report judged by besides the warehouse.
REPORT_BASIS = "report_basis"
# Where a bulletin's row is, for the checks: its page (0 outside a PDF) and line in one integer
# that sorts as the file reads, so that "the first offending row" is found across a PDF's pages
# with plain min and arg_min; these macros split it again for messages and results.
PLACE = "(coalesce(staged.page_number, 0)::bigint << 32) + staged.line_number"
PLACE_MACROS = """
create or replace temp macro place_line(place) as (place & 4294967295)::integer;
create or replace temp macro place_page(place) as nullif(place >> 32, 0)::integer;
create or replace temp macro place_text(place) as
    if(place >> 32 > 0, 'page ' || (place >> 32) || ', ', '') || 'line ' || (place & 4294967295);
"""


@dataclass
class RunLog:
    """What a build records about its run: its id, its inputs and what was kept out."""

    run_id: str
    fingerprint: str
    rejected: list[Rejection]


@dataclass
class Checked:
    """Bulletins after the bulletin suites: accepted, rejected, and every finding."""

    accepted: list[Edition]
    rejected: list[Rejection]
    findings: list[Finding] = field(default_factory=list)


def inputs_fingerprint(folder: RawFolder, expectations_dir: Path) -> str:
    """A digest of everything a build reads: files (and files refused), code, SQL, suites and
    reference data."""
    digest = hashlib.sha256(cache_version().encode())
    for raw in folder.files:
        digest.update(f"{raw.path.name}\0{raw.sha256}\0".encode())
    for refused in folder.refused:
        digest.update(f"{refused.file}\0{refused.reason}\0".encode())
    package = Path(__file__).resolve().parent
    sources = [*package.rglob("*.py"), *warehouse.SQL_DIR.rglob("*.sql")]
    for path in [*sorted(sources), *sorted(expectations_dir.glob("*.json"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def duplicate_findings(editions: list[Edition]) -> list[Finding]:
    """A warning for each file whose content another file of the raw folder has too."""
    return [
        Finding(
            suite="raw_folder",
            expectation="each_file_has_its_own_content",
            severity="warning",
            success=False,
            observed=f"the same content as {edition.file_name}: loaded once, under both names",
            bulletin=other,
        )
        for edition in editions
        for other in edition.edition.get("also_named", [])
    ]


def register_accepted(con: duckdb.DuckDBPyConnection, editions: list[Edition]) -> None:
    """Register `accepted`: the editions of this run, by their current file names."""
    columns = {"sha256": pl.String, "file_name": pl.String, **EDITION_COLUMNS}
    accepted = pl.DataFrame(
        [{name: e.edition.get(name) for name in columns} for e in editions], schema=columns
    ).with_columns(
        also_named=pl.Series(
            [e.edition.get("also_named") or [] for e in editions], dtype=pl.List(pl.String)
        )
    )
    con.register("accepted", accepted)


def attach_rows(con: duckdb.DuckDBPyConnection, editions: list[Edition], rows: Path) -> None:
    """Attach the new warehouse file read-only, with `accepted` (see `register_accepted`) and
    `staged_observations` (the staged rows of those editions, with file, line, place and
    subject; see PLACE)."""
    con.execute("attach ? as rows (read_only)", [str(rows)])
    register_accepted(con, editions)
    con.execute(
        "create temp view staged_observations as"
        " select staged.*, accepted.file_name as file, staged.line_number as line,"
        f" {PLACE} as place, staged.row_label || ' ' || staged.period_code as subject"
        " from rows.staging.observations as staged inner join accepted using (sha256)"
    )
    con.execute(PLACE_MACROS)


def check_bulletins(editions: list[Edition], gate: QualityGate, rows: Path) -> Checked:
    """Run the bulletin suites on all editions at once, on their staged rows gathered in the new
    warehouse file `rows`; a critical failure rejects a bulletin."""
    if not editions:
        return Checked([], [])
    con = database.connect()
    try:
        attach_rows(con, editions, rows)
        warehouse.register_reference(con)
        findings = gate.check("bulletin", con)
    finally:
        con.close()
    failures: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.success or finding.severity != "critical":
            continue
        # A critical expectation that failed for the whole batch keeps every bulletin out.
        for edition in editions:
            if finding.bulletin in (None, edition.file_name):
                failures.setdefault(edition.file_name, []).append(finding)
    rejected = [
        rejection(edition, failures[edition.file_name])
        for edition in editions
        if edition.file_name in failures
    ]
    accepted = [e for e in editions if e.file_name not in failures]
    # Warnings of rejected bulletins too: the report lists them under their rejection.
    return Checked(accepted, rejected, findings + parse_warnings(editions))


def rejection(edition: Edition, failed: list[Finding]) -> Rejection:
    """One rejection naming every critical check a bulletin fails, the first line first."""
    failed = sorted(failed, key=lambda f: (f.line is None, f.page or 0, f.line or 0))
    return Rejection(
        edition.file_name,
        edition.sha256,
        "; ".join(f"fails {f.expectation}: {f.observed}" for f in failed),
        failed[0].line,
        check=", ".join(f.expectation for f in failed),
        page=failed[0].page,
    )


def parse_warnings(editions: list[Edition]) -> list[Finding]:
    """What the parser read but did not load (a table it does not know), as warnings."""
    return [
        Finding(
            "parse", "every_table_is_known", "warning", False, warning["reason"],
            edition.file_name, warning["line"],
        )
        for edition in editions
        for warning in edition.warnings
    ]  # fmt: skip


def build_warehouse(editions: list[Edition], new_path: Path, log: RunLog, cache_dir: Path) -> None:
    """Build dimensions, fact and marts of the accepted editions into the new file, which holds
    the staged rows of the run's editions."""
    con = warehouse.open_new(new_path)
    try:
        con.execute("attach ? as store (read_only)", [str(store_path(cache_dir))])
        register_accepted(con, editions)
        warehouse.build(con)
        pause_point("in-build")
        con.execute("detach store")
        warehouse.write_run_log(
            con, log.run_id, log.fingerprint, [r.__dict__ for r in log.rejected], len(editions)
        )
        warehouse.describe(con)
    finally:
        warehouse.close(con)


def check_warehouse(
    new_path: Path, gate: QualityGate, limits: freshness.FreshnessLimits
) -> list[Finding]:
    """Run the warehouse suites and the freshness check on the new file; store every finding."""
    con = database.connect(new_path)
    try:
        findings = gate.check("warehouse", con)
        fresh = freshness.check(con, gate.checked_at.date(), limits).finding()
        gate.findings.append(fresh)
        findings.append(fresh)
        warehouse.write_quality(con, gate.results())
        con.execute("checkpoint")
    finally:
        con.close()
    return findings


def writers(limits: freshness.FreshnessLimits) -> dict[str, publish.Writer]:
    """The writer of each derived folder; the report judges freshness with the run's limits."""
    return {publish.MARTS: publish.export_marts, "report": partial(write_report, limits=limits)}


def publish_state(
    stage: Path, published: Path, record: dict, limits: freshness.FreshnessLimits
) -> None:
    """Write the derived folders from the new warehouse in the staging folder, and put the whole
    state in place. Raises publish.WarehouseHeld."""
    new_path = stage / published.name
    basis = report_basis(limits)  # before the report is written: a day that ends meanwhile is older
    for folder, write in writers(limits).items():
        write(new_path, stage / folder)
    publish.publish(stage, published, record | {REPORT_BASIS: basis})


def report_basis(limits: freshness.FreshnessLimits) -> dict:
    """What a report written now with the run's freshness limits judges by besides the
    warehouse: the day and the limits ({"day": "2026-01-31", "warn_after_days": 60, ...})."""
    return {"day": date.today().isoformat()} | asdict(limits)


def report_is_current(manifest: dict, limits: freshness.FreshnessLimits) -> bool:
    """Whether the published report was written on the basis a report written now would have:
    written again, it would differ only in its time of writing."""
    return manifest.get(REPORT_BASIS) == report_basis(limits)


def republish(
    published: Path,
    run_id: str,
    folders: Collection[str] = DERIVED,
    *,
    limits: freshness.FreshnessLimits,
) -> None:
    """Write derived folders again from the verified published warehouse, and put them in
    place; the warehouse file and the other members are left as they are."""
    stage = publish.staging_folder(published, run_id)
    stage.mkdir()
    try:
        basis = report_basis(limits)
        write = writers(limits)
        for folder in folders:
            write[folder](published, stage / folder)
        noted = {REPORT_BASIS: basis} if "report" in folders else {}
        publish.publish(stage, published, noted=noted)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def published_state(published: Path) -> tuple[list[Edition], list[Finding]]:
    """The editions and the expectation results recorded in the published file; none when
    there is no published file or it cannot be read."""
    if not published.is_file():
        return [], []
    try:
        con = database.connect(published, read_only=True)
    except duckdb.Error:
        return [], []
    try:
        editions = [Edition(row) for row in con.sql("select * from raw.bulletins").pl().to_dicts()]
        findings = [
            Finding(**row)
            for row in con.sql(
                "select suite, expectation, severity, success, observed, bulletin"
                " from marts.data_quality"
            )
            .pl()
            .to_dicts()
        ]
    except duckdb.Error:
        return [], []
    finally:
        con.close()
    return editions, findings
