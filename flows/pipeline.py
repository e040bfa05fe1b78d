"""The steps of a run as plain functions: parse, check bulletins, build, check, publish."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from flows import warehouse
from flows.editions import Edition, RawFile, Rejection, is_cached, load_or_parse
from flows.quality import Finding, QualityGate

MART_EXPORTS = (*warehouse.MART_TABLES, "data_quality")


@dataclass
class Checked:
    """Bulletins after the bulletin suites: accepted, rejected, and every finding."""

    accepted: list[Edition]
    rejected: list[Rejection]
    findings: list[Finding] = field(default_factory=list)


def parse_all(
    files: list[RawFile], cache_dir: Path, progress: Callable[[int, int], None] | None = None
) -> tuple[list[Edition], list[Rejection], int]:
    """Parsed editions, rejected files and how many were parsed now (not read from the cache)."""
    editions: dict[str, Edition] = {}
    rejections = []
    parsed_now = 0
    for number, raw in enumerate(files, start=1):
        cached = is_cached(raw, cache_dir)
        outcome = load_or_parse(raw, cache_dir)
        parsed_now += not cached
        if isinstance(outcome, Rejection):
            rejections.append(outcome)
        elif outcome.sha256 not in editions:  # the same bytes under two names load once
            editions[outcome.sha256] = outcome
        if progress:
            progress(number, len(files))
    return list(editions.values()), rejections, parsed_now


def staged_batch(editions: list[Edition]) -> pl.DataFrame:
    """The staged observations of many editions in one frame, with file, line and subject."""
    frames = [e.frame("staged").with_columns(file=pl.lit(e.edition["file_name"])) for e in editions]
    return pl.concat(frames, how="vertical_relaxed").with_columns(
        line=pl.col("line_number"),
        subject=pl.concat_str("row_label", pl.lit(" "), "period_code"),
    )


def check_bulletins(editions: list[Edition], gate: QualityGate) -> Checked:
    """Run the bulletin suites on all editions at once; a critical failure rejects a bulletin."""
    if not editions:
        return Checked([], [])
    con = duckdb.connect()
    con.register("staged_observations", warehouse.arrow(staged_batch(editions)))
    findings = gate.check("bulletin", con)
    con.close()
    rejected_files: dict[str, Rejection] = {}
    for finding in findings:
        if finding.success or finding.severity != "critical" or not finding.bulletin:
            continue
        edition = next(e for e in editions if e.edition["file_name"] == finding.bulletin)
        if finding.bulletin not in rejected_files:
            rejected_files[finding.bulletin] = Rejection(
                finding.bulletin,
                edition.sha256,
                f"fails {finding.expectation}: {finding.observed}",
                finding.line,
                check=finding.expectation,
            )
    accepted = [e for e in editions if e.edition["file_name"] not in rejected_files]
    return Checked(accepted, list(rejected_files.values()), findings)


def build_warehouse(editions: list[Edition], new_path: Path) -> None:
    """Build dimensions, fact and marts of the accepted editions into a new file."""
    con = warehouse.open_new(new_path)
    try:
        warehouse.build(con, editions)
    finally:
        warehouse.close(con)


def check_warehouse(new_path: Path, gate: QualityGate) -> list[Finding]:
    """Run the warehouse suites on the new file and store every finding in it."""
    con = duckdb.connect(str(new_path))
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
    con = duckdb.connect(str(new_path), read_only=True)
    counts = {}
    staged_exports = []
    try:
        for table in MART_EXPORTS:
            target = marts_dir / f".{table}.parquet.new"
            con.execute(f"copy (select * from marts.{table}) to '{target}' (format parquet)")
            staged_exports.append((target, marts_dir / f"{table}.parquet"))
        for schema, table in (("core", "fact_returns"), *(("marts", t) for t in MART_EXPORTS)):
            counts[f"{schema}.{table}"] = con.execute(
                f"select count(*) from {schema}.{table}"
            ).fetchone()[0]
    finally:
        con.close()
    # A reader holding the old file keeps reading it; new connections see the new one.
    os.replace(new_path, published)
    for temporary, final in staged_exports:
        os.replace(temporary, final)
    return counts
