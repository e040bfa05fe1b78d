"""Prefect's lifecycle under the command line: a fresh machine under load, runs at once, kills
and signals; no server outlives the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from processes import processes_with, wait_for

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
BUSY = "while True: pass"


def start(*args: str, home: Path) -> subprocess.Popen:
    """`voluntary-returns` started with its own (fresh) PREFECT_HOME."""
    env = os.environ | {"PREFECT_HOME": str(home)}
    return subprocess.Popen(
        [str(BIN / "voluntary-returns"), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def servers_of(home: Path) -> list[int]:
    """Processes running with that PREFECT_HOME (the command's Prefect server among them)."""
    return processes_with("PREFECT_HOME", str(home))


def test_the_first_run_on_a_fresh_machine_under_load_publishes(
    raw_dir: Path, tmp_path: Path
) -> None:
    # Both cores busy while a fresh Prefect database is created and migrated.
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        run = start(
            "run", "--raw-dir", str(raw_dir), "--warehouse", str(tmp_path / "w.duckdb"),
            home=tmp_path / "fresh-prefect-home",
        )  # fmt: skip
        stdout, stderr = run.communicate(timeout=1200)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert run.returncode == 0, stdout + stderr
    assert "Published " in stdout and "Traceback" not in stdout + stderr


def test_three_runs_started_at_once_on_one_warehouse(raw_dir: Path, tmp_path: Path) -> None:
    home, warehouse = tmp_path / "fresh-prefect-home", tmp_path / "w.duckdb"
    runs = [
        start("run", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse), home=home)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=1200) for run in runs]
    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stdout + stderr
        assert "Traceback" not in stdout + stderr
    outcomes = sorted(stdout.splitlines()[2].split(":")[0].split()[0] for stdout, _ in outputs)
    # One publishes; the others wait for it, then find nothing changed.
    assert outcomes == ["Nothing", "Nothing", "Published"]
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.sql("select count(*) from raw.bulletins").fetchall() == [(1,)]
    con.close()
    assert not servers_of(home)


def test_a_killed_run_leaves_no_prefect_server(raw_dir: Path, tmp_path: Path) -> None:
    home, warehouse = tmp_path / "prefect-home", tmp_path / "w.duckdb"
    run = start("run", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse), home=home)
    try:
        # The flow has started (it holds the warehouse's lock file) against its own server.
        assert wait_for(lambda: (tmp_path / ".w.duckdb.lock").exists(), timeout=600)
        assert servers_of(home)
    finally:
        run.kill()
        run.wait()  # not communicate(): a server left behind would hold its pipes open
    assert wait_for(lambda: not servers_of(home), timeout=60), servers_of(home)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stopped_while_it_starts_says_so_and_leaves_no_server(
    stop: signal.Signals, tmp_path: Path
) -> None:
    home = tmp_path / "prefect-home"
    served = start("serve", home=home)
    try:
        # Its server has started, and does not answer yet: a fresh database takes seconds.
        assert wait_for(lambda: len(servers_of(home)) >= 2, timeout=120)
        served.send_signal(stop)
        stdout, stderr = served.communicate(timeout=120)
    finally:
        if served.poll() is None:
            served.kill()
            served.communicate()
    assert served.returncode == 0, stdout + stderr
    assert stdout.endswith("Stopped.\n")
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert wait_for(lambda: not servers_of(home), timeout=60), servers_of(home)


LOGS_LEFT_UNSENT = """
import logging
from prefect import flow, get_run_logger
from flows import cli

cli.DRAIN_SECONDS = 0  # the server stops before it has taken the run's log lines

@flow
def chatty():
    logger = get_run_logger()
    for number in range(2000):
        logger.warning("warning %d of a run with many warnings", number)

with cli.prefect_api():
    chatty()
print("done")
"""


def test_log_lines_the_server_did_not_take_are_one_line_not_errors(tmp_path: Path) -> None:
    env = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", LOGS_LEFT_UNSENT],
        env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("done")
    assert "Error logging to API" not in done.stderr
    assert "did not take the run's last log lines within 0 s" in done.stderr
    assert not servers_of(tmp_path / "prefect-home")
