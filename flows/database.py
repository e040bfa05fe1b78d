"""DuckDB connections with the project's bounds, shared by every stage."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl

# DuckDB spills to disk past this, so that millions of rows never take the machine's memory
# (a run of 10 million tidy rows peaks at 1.4 GiB with its Prefect server, against 1.6 with 1GB,
# for 3 % more CPU); and rows need not keep their input order, which lets large copies stream.
DUCKDB_CONFIG = {
    "memory_limit": "768MB",
    "preserve_insertion_order": False,
}
# DuckDB 1.x readers (the CLI 1.5, BI drivers) cannot open files in 2.x's default format. Files
# in the v1.3.0 format open in DuckDB 1.3 and newer, and are written twice as fast as v1.2.0's
# (10 million rows: 2.5 s against 4.5 s on the benchmark machine).
STORAGE_VERSION = "v1.3.0"
# DuckDB's error when another process holds a file's lock names the program and its PID.
LOCK_CONFLICT = re.compile(r"Could not set lock on file.*?held in (.*?) \(PID (\d+)\)", re.S)
# DuckDB's error when a block it reads does not match its checksum (bit rot, a torn write).
CORRUPT_BLOCK = "Corrupt database file"


def connect(path: Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory, or to a file) with the project's bounded memory."""
    return duckdb.connect(str(path or ":memory:"), read_only=read_only, config=DUCKDB_CONFIG)


def arrow(frame: pl.DataFrame) -> object:
    """A polars frame as Arrow for DuckDB, strings handed over without copying."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())


def lock_holder(error: duckdb.Error) -> str | None:
    """The program holding a file's lock ("/usr/bin/python3, PID 1234"), when that is the error."""
    if match := LOCK_CONFLICT.search(str(error)):
        return f"{match[1]}, PID {match[2]}"
    return None


def is_corrupt(error: BaseException | None) -> bool:
    """Whether the error is DuckDB finding a block of a file damaged (its checksum differs)."""
    return isinstance(error, duckdb.Error) and CORRUPT_BLOCK in str(error)
