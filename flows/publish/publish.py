"""Publishing a checked warehouse: its exports, the renames, and what an unchanged run checks."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from flows import database
from flows.ingest.editions import Rejection
from flows.warehouse import build as warehouse

MART_EXPORTS = (*warehouse.MART_TABLES, "data_quality", "rejected_bulletins", "publication")


def unchanged_publication(published: Path, fingerprint: str) -> tuple | None:
    """Row counts, rejections and Data Docs of the published file if built from these inputs."""
    exports = [published.parent / "marts" / f"{table}.parquet" for table in MART_EXPORTS]
    if not published.exists() or not all(path.exists() for path in exports):
        return None  # a missing file or export is published again
    try:
        con = database.connect(published, read_only=True)
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


def publish(new_path: Path, published: Path) -> dict[str, int]:
    """Export the marts to Parquet, then rename the new file and the exports into place."""
    marts_dir = published.parent / "marts"
    marts_dir.mkdir(parents=True, exist_ok=True)
    con = database.connect(new_path, read_only=True)
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
