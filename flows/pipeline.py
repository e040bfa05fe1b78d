"""The steps of a run as plain functions: parse, check bulletins, build, check, publish."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from flows import warehouse
from flows.editions import (
    Edition,
    RawFile,
    Rejection,
    cache_version,
    store_path,
)
from flows.quality import Finding, QualityGate

MART_EXPORTS = (*warehouse.MART_TABLES, "data_quality", "rejected_bulletins", "publication")


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


def inputs_fingerprint(files: list[RawFile], expectations_dir: Path) -> str:
    """A digest of everything a build reads: files, code, SQL, suites and reference data."""
    digest = hashlib.sha256(cache_version().encode())
    for raw in files:
        digest.update(f"{raw.path.name}\0{raw.sha256}\0".encode())
    package = Path(__file__).resolve().parent
    sources = [*package.glob("*.py"), *warehouse.SQL_DIR.rglob("*.sql")]
    for path in [*sorted(sources), *sorted(expectations_dir.glob("*.json"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def unchanged_publication(published: Path, fingerprint: str) -> tuple | None:
    """Row counts, rejections and Data Docs of the published file if built from these inputs."""
    exports = [published.parent / "marts" / f"{table}.parquet" for table in MART_EXPORTS]
    if not published.exists() or not all(path.exists() for path in exports):
        return None  # a missing file or export is published again
    try:
        con = warehouse.connect(published, read_only=True)
    except duckdb.Error:
        return None  # not a warehouse this project can read: rebuild it
    try:
        if con.sql("select inputs_fingerprint from marts.publication").fetchall() != [
            (fingerprint,)
        ]:
            return None
        counts = row_counts(con)
        rejected = [
            Rejection(**r)
            for r in con.sql("select * from marts.rejected_bulletins").pl().to_dicts()
        ]
    except duckdb.Error:
        return None
    finally:
        con.close()
    docs = published.parent / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return counts, rejected, docs if docs.exists() else None


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of the fact and of every exported mart."""
    tables = [("core", "fact_returns"), *(("marts", t) for t in MART_EXPORTS)]
    return {
        f"{schema}.{table}": con.sql(f"select count(*) from {schema}.{table}").fetchall()[0][0]
        for schema, table in tables
    }


def attach_store(con: duckdb.DuckDBPyConnection, editions: list[Edition], cache_dir: Path) -> None:
    """Attach the store read-only, with `accepted` (the editions of this run, by their current
    file names) and `staged_observations` (their staged rows, with file, line and subject)."""
    con.execute(f"attach '{store_path(cache_dir)}' as store (read_only)")
    accepted = pl.DataFrame([e.edition for e in editions]).select(
        "sha256", "file_name", "format", "encoding", "language", "report_year",
        "coverage_start", "coverage_end", "parsed_at",
    )  # fmt: skip
    con.register("accepted", accepted)
    con.execute(
        "create temp view staged_observations as"
        " select staged.*, accepted.file_name as file, staged.line_number as line,"
        " staged.row_label || ' ' || staged.period_code as subject"
        " from store.staged as staged inner join accepted using (sha256)"
    )


def check_bulletins(editions: list[Edition], gate: QualityGate, cache_dir: Path) -> Checked:
    """Run the bulletin suites on all editions at once; a critical failure rejects a bulletin."""
    if not editions:
        return Checked([], [])
    con = warehouse.connect()
    try:
        attach_store(con, editions, cache_dir)
        findings = gate.check("bulletin", con)
    finally:
        con.close()
    rejected_files: dict[str, Rejection] = {}
    for finding in findings:
        if finding.success or finding.severity != "critical":
            continue
        # A critical expectation that failed for the whole batch keeps every bulletin out.
        for edition in editions:
            if finding.bulletin in (None, edition.file_name):
                rejected_files.setdefault(
                    edition.file_name,
                    Rejection(
                        edition.file_name,
                        edition.sha256,
                        f"fails {finding.expectation}: {finding.observed}",
                        finding.line,
                        check=finding.expectation,
                    ),
                )
    accepted = [e for e in editions if e.file_name not in rejected_files]
    return Checked(accepted, list(rejected_files.values()), findings)


def build_warehouse(editions: list[Edition], new_path: Path, log: RunLog, cache_dir: Path) -> None:
    """Build dimensions, fact and marts of the accepted editions into a new file."""
    con = warehouse.open_new(new_path)
    try:
        attach_store(con, editions, cache_dir)
        warehouse.build(con)
        con.execute("detach store")
        warehouse.write_run_log(
            con, log.run_id, log.fingerprint, [r.__dict__ for r in log.rejected], len(editions)
        )
    finally:
        warehouse.close(con)


def check_warehouse(new_path: Path, gate: QualityGate) -> list[Finding]:
    """Run the warehouse suites on the new file and store every finding in it."""
    con = warehouse.connect(new_path)
    try:
        findings = gate.check("warehouse", con)
        warehouse.write_quality(con, gate.results())
        con.execute("checkpoint")
    finally:
        con.close()
    return findings


def publish(new_path: Path, published: Path) -> dict[str, int]:
    """Export the marts to Parquet, then rename the new file and the exports into place."""
    marts_dir = published.parent / "marts"
    marts_dir.mkdir(parents=True, exist_ok=True)
    con = warehouse.connect(new_path, read_only=True)
    staged_exports = []
    try:
        for table in MART_EXPORTS:
            target = marts_dir / f".{table}.parquet.new"
            con.execute(f"copy (select * from marts.{table}) to '{target}' (format parquet)")
            staged_exports.append((target, marts_dir / f"{table}.parquet"))
        counts = row_counts(con)
    finally:
        con.close()
    # A reader holding the old file keeps reading it; new connections see the new one.
    os.replace(new_path, published)
    for temporary, final in staged_exports:
        os.replace(temporary, final)
    return counts
