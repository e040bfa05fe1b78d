"""Shared fixtures: the sample bulletin, Prefect's test harness, telemetry off."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Before Prefect or Great Expectations are imported: state inside the project, no telemetry.
os.environ["PREFECT_HOME"] = str(PROJECT_DIR / ".prefect" / "tests")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"

SAMPLE = next((PROJECT_DIR / "data" / "raw").glob("*.txt"))


def query(path: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    """Rows of one query on a warehouse file, opened read-only."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, parameters or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="session")
def sample_text() -> str:
    """The sample bulletin's text."""
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def prefect_api():
    """One temporary Prefect API for the whole session (the flow tests run real flows)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """A raw folder holding a copy of the sample."""
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / SAMPLE.name)
    return folder


@pytest.fixture(scope="session")
def published_sample(prefect_api, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse (and its report, data/report/index.html) published from the sample alone,
    once for the tests that only read it."""
    from flows.nightly import nightly

    folder = tmp_path_factory.mktemp("published-sample")
    raw = folder / "raw"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / SAMPLE.name)
    warehouse = folder / "data" / "warehouse.duckdb"
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.exit_code == 0, report.markdown()
    return warehouse


@contextmanager
def held_read_write(path: Path) -> Iterator[int]:
    """Another program (an analyst's session) holding a DuckDB file read-write; its PID."""
    hold = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('holding', flush=True)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", f"{hold}; time.sleep(600)", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
