"""DuckDB connections with the project's bounds, shared by every stage."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

# DuckDB spills to disk past this, so that millions of rows never take the machine's memory;
# and rows need not keep their input order, which lets large copies stream.
DUCKDB_CONFIG = {
    "memory_limit": "1GB",
    "preserve_insertion_order": False,
}


def connect(path: Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory, or to a file) with the project's bounded memory."""
    return duckdb.connect(str(path or ":memory:"), read_only=read_only, config=DUCKDB_CONFIG)


def arrow(frame: pl.DataFrame) -> object:
    """A polars frame as Arrow for DuckDB, strings handed over without copying."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())
