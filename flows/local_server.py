"""A local Prefect server on loopback, the child of this process, which dies with it.

Prefect's own temporary server outlives a `kill -9` of the process that started it, gives up
after 20 s (too short for a fresh database on a busy machine), and several of them migrating one
fresh database at once fail. This one is started by us, waits as long as it takes, and starts
one at a time per state folder.
"""

from __future__ import annotations

import ctypes
import fcntl
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

# prctl(2) option: the signal a child receives when the thread that started it dies.
PR_SET_PDEATHSIG = 1
# Long enough for a fresh database's migrations on a busy 2-core machine (about 15 s idle).
START_TIMEOUT = 600.0


class ServerError(RuntimeError):
    """The local Prefect server could not be started."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(port: int, ui: bool) -> list[str]:
    """`prefect server start` (with the UI), or the API alone as Prefect's temporary server."""
    if ui:
        prefect_cli = Path(sys.executable).parent / "prefect"
        return [str(prefect_cli), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    return [
        sys.executable, "-m", "uvicorn", "--app-dir", str(site_packages()),
        "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


def site_packages() -> Path:
    """The folder Prefect is installed in, found without importing it (seconds)."""
    return Path(importlib.util.find_spec("prefect").origin).parent.parent


def start(
    port: int = 0,
    env: dict[str, str] | None = None,
    ui: bool = True,
    timeout: float = START_TIMEOUT,
    meanwhile: Callable[[], object] = lambda: None,
) -> tuple[subprocess.Popen, str]:
    """Start a server on 127.0.0.1 and wait until it answers; the process and its base URL.
    `meanwhile` is called while the server starts (work that needs no API: imports, say).

    Raises ServerError (with the end of the server's output) when it stops or never answers.
    """
    env = dict(os.environ if env is None else env)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    env |= {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The UI calls the API at this address; Prefect's default is port 4200.
        "PREFECT_UI_API_URL": f"{url}/api",
    }
    if not ui:  # the settings Prefect gives its own temporary server
        env |= {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"}
        env |= {"PREFECT__SERVER_FINAL": "1"}
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect")
    home.mkdir(parents=True, exist_ok=True)
    parent = os.getpid()
    # One server starts (and migrates a fresh database) at a time per state folder.
    with open(home / ".server-start.lock", "w") as lock, tempfile.TemporaryFile() as output:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = subprocess.Popen(
            command(port, ui),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the server ourselves
            preexec_fn=lambda: die_with(parent),
        )
        try:
            meanwhile()
            wait_until_healthy(server, url, timeout, output)
        except BaseException:  # an error, Ctrl-C or SIGTERM while waiting: no orphan
            stop(server)
            raise
    return server, url


def wait_until_healthy(
    server: subprocess.Popen, url: str, timeout: float, output: IO[bytes]
) -> None:
    """Return once the server answers its health check; ServerError if it stops or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output.seek(0)
            last = output.read().decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise ServerError(
                f"the Prefect server stopped at start (exit {server.returncode}): {last[0]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise ServerError(f"the Prefect server did not answer on {url} within {timeout:.0f} s")


def die_with(parent: int) -> None:
    """In the child, before exec: be sent SIGTERM when the parent dies, even by `kill -9`."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def stop(server: subprocess.Popen, timeout: float = 30) -> None:
    """Stop the server gracefully (SIGTERM), or kill it when it does not stop in time."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def running(
    env: dict[str, str] | None = None,
    ui: bool = False,
    meanwhile: Callable[[], object] = lambda: None,
) -> Iterator[str]:
    """A server for the duration of a block (`meanwhile` called while it starts); its API URL."""
    server, url = start(env=env, ui=ui, meanwhile=meanwhile)
    try:
        yield f"{url}/api"
    finally:
        stop(server)
