"""Shared fixtures: the sample bulletin, Prefect's test harness, telemetry off."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from processes import processes_with

from flows import local_server

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Before Prefect or Great Expectations are imported: state inside the project, no telemetry.
os.environ["PREFECT_HOME"] = str(PROJECT_DIR / ".prefect" / "tests")
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
os.environ.pop("PREFECT_API_URL", None)
# Every process the session starts inherits this: none may outlive the session.
SESSION = ("TEST_SESSION_OF_VOLUNTARY_RETURNS", uuid.uuid4().hex)
os.environ[SESSION[0]] = SESSION[1]

SAMPLE = next((PROJECT_DIR / "data" / "raw").glob("*.txt"))


def query(path: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    """Rows of one query on a warehouse file, opened read-only."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, parameters or []).fetchall()
    finally:
        con.close()


def rendered(markdown: str) -> str:
    """The text a Markdown document shows once rendered (CommonMark), without its tags."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(MarkdownIt("commonmark").render(markdown))
    return "".join(parser.parts)


@pytest.fixture(scope="session")
def sample_text() -> str:
    """The sample bulletin's text."""
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One local Prefect server for the whole session (the flow tests run real flows), with a
    fresh database; it dies with the session even when the session is killed. Its API URL."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    env = os.environ | {"PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home"))}
    with local_server.running(env=env) as api_url, temporary_settings({PREFECT_API_URL: api_url}):
        yield api_url
        APILogWorker.drain_all(timeout=10)
        EventsWorker.drain_all(timeout=10)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the session if a process it started is still running (and stop it)."""
    left = processes_with(*SESSION)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    if left:
        print(f"\nprocesses left running by the tests (killed): {left}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
