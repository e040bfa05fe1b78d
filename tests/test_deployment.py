"""Scheduling for real: `voluntary-returns serve`, and prefect.yaml deployed to a work pool."""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR

from flows import local_server

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def prefect(*args: str, env: dict, cwd: Path = PROJECT_DIR) -> str:
    """Run the Prefect CLI against the test's server; its output."""
    result = subprocess.run(
        [str(BIN / "prefect"), *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def wait_for_completed_run(api_url: str, timeout: float = 300) -> str:
    """The state of the first flow run on that server once it has finished."""
    return wait_for_finished_run(api_url, timeout).state_type.value


def wait_for_finished_run(api_url: str, timeout: float = 300) -> object:
    """The first flow run on that server once it has finished."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + timeout
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            for run in client.read_flow_runs():
                if run.state_type.value in {"COMPLETED", "FAILED", "CRASHED"}:
                    return run
            time.sleep(2)
    raise AssertionError("no flow run finished in time")


def browser_text(url: str, profile: Path) -> str:
    """The text of a page once Debian's Chromium has run its scripts (headless, tall enough
    for the Prefect UI to render a run's logs)."""
    result = subprocess.run(
        ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--window-size=1400,3000",
         "--virtual-time-budget=30000", "--dump-dom", url],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", result.stdout, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture
def run_folders(tmp_path: Path, raw_dir: Path) -> tuple[Path, Path, dict]:
    """A raw folder, the warehouse path, and an environment with its own PREFECT_HOME."""
    env = os.environ | {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    return raw_dir, tmp_path / "out" / "warehouse.duckdb", env


def test_prefect_yaml_deploys_to_a_process_work_pool(run_folders: tuple) -> None:
    raw_dir, warehouse, env = run_folders
    server, url = local_server.start(env=env)
    env = env | {"PREFECT_API_URL": f"{url}/api"}
    worker = None
    try:
        prefect("work-pool", "create", "voluntary-returns", "--type", "process", env=env)
        prefect("--no-prompt", "deploy", "--name", "nightly", env=env)
        details = prefect("deployment", "inspect", "voluntary-returns/nightly", env=env)
        assert "'cron': '0 2 * * *'" in details and "'timezone': 'Europe/Brussels'" in details
        assert "'global_concurrency_limit': {" in details and "'limit': 1," in details
        prefect(
            "deployment", "run", "voluntary-returns/nightly",
            "--param", f"raw_dir={raw_dir}", "--param", f"warehouse={warehouse}", env=env,
        )  # fmt: skip
        worker = subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", "voluntary-returns", "--run-once"],
            env=env, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for_completed_run(env["PREFECT_API_URL"]) == "COMPLETED"
        worker.wait(timeout=120)
    finally:
        if worker and worker.poll() is None:
            worker.kill()
        local_server.stop(server)
    assert server.poll() is not None
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.sql("select max(year) from marts.annual_returns").fetchall() == [(2018,)]
    con.close()


def test_serve_runs_the_deployment_and_stops_on_sigterm(run_folders: tuple) -> None:
    raw_dir, warehouse, env = run_folders
    served = subprocess.Popen(
        [str(BIN / "voluntary-returns"), "serve", "--raw-dir", str(raw_dir),
         "--warehouse", str(warehouse), "--cron", "30 3 * * *"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        first = served.stdout.readline()
        assert first.startswith("Prefect UI: http://127.0.0.1:"), first
        url = first.split()[2]
        assert "Serving the nightly run: '30 3 * * *' (Europe/Brussels)" in served.stdout.readline()
        api = env | {"PREFECT_API_URL": f"{url}/api"}
        deadline = time.monotonic() + 60
        while "voluntary-returns/nightly" not in prefect("deployment", "ls", env=api):
            assert time.monotonic() < deadline
            time.sleep(1)
        prefect("deployment", "run", "voluntary-returns/nightly", env=api)
        run = wait_for_finished_run(api["PREFECT_API_URL"])
        assert run.state_type.value == "COMPLETED"
        # The printed address serves a UI that reaches this server's API and shows the run.
        home = browser_text(url, run_folders[0].parent / "browser")
        assert "Unable to connect" not in home and "Dashboard" in home, home
        page = browser_text(f"{url}/runs/flow-run/{run.id}", run_folders[0].parent / "browser")
        assert f"{run.name} Completed" in page, page
        assert re.search(r"Info 1 files in the raw folder .* published \S*warehouse.duckdb", page)
        assert re.search(r"Warning warning \S+\.txt: category_total_agrees_with_other_tables", page)
        served.send_signal(signal.SIGTERM)
        assert served.wait(timeout=60) == 0
        assert "Stopped." in served.stdout.read()
    finally:
        if served.poll() is None:
            served.kill()
    assert warehouse.exists()
    with pytest.raises(OSError):  # the server it started is gone too
        local_server.urllib.request.urlopen(f"{url}/api/health", timeout=2)
