"""Wall time and peak memory of a command's whole process tree, and medians over runs.

Peak memory is the largest sum of the resident sets of the command and every process below it
(the temporary Prefect server, dbt's threads are in-process), sampled every 50 ms, and never less
than the largest single resident set the kernel reports when the command is reaped. The benchmark
process makes itself a child subreaper, so a process that outlives its parent (a server started
by the command) stays in the tree, is counted, and is waited for.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20
PR_SET_CHILD_SUBREAPER = 36
SAMPLE_SECONDS = 0.05
# How long a process left behind by the command may take to end before it is killed.
LEFTOVER_SECONDS = 30


@dataclass
class Measure:
    """Medians of one case: wall seconds, CPU seconds and peak MiB of the process tree."""

    seconds: float
    peak_mib: float
    cpu_seconds: float = 0.0


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux), so that they stay in the measured tree."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def descendants(root: int) -> list[int]:
    """Process ids below `root`, from the kernel's lists of each thread's children."""
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue  # ended meanwhile
        for thread in threads:
            try:
                children = Path(f"/proc/{pid}/task/{thread}/children").read_text().split()
            except OSError:
                continue
            found += map(int, children)
            queue += map(int, children)
    return found


def resident_mib(pids: list[int]) -> float:
    """The sum of the resident sets of the processes, in MiB."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError):
            continue
    return total * PAGE_MIB


class TreePeak:
    """Samples the resident memory of every process below this one, in a thread."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        me = os.getpid()
        while not self.done.is_set():
            self.peak = max(self.peak, resident_mib(descendants(me)))
            self.done.wait(SAMPLE_SECONDS)

    def __enter__(self) -> TreePeak:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()


def reap_leftovers() -> None:
    """Wait for processes the command left behind (adopted by us), then kill what remains."""
    deadline = time.monotonic() + LEFTOVER_SECONDS
    while (left := descendants(os.getpid())) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(-1, os.WNOHANG)
        time.sleep(0.1)
    for pid in left:
        print(f"  killing process {pid}, left running by the measured command", flush=True)
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def run_once(command: list[str], env: dict, cwd: Path | None = None) -> tuple[Measure, int]:
    """Wall seconds, CPU seconds (user and system, of the processes reaped in the tree) and peak
    MiB of the process tree, and the exit status, of one run of a command."""
    with TreePeak() as tree:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        reap_leftovers()
    peak = max(tree.peak, usage.ru_maxrss / 1024)
    return Measure(seconds, peak, usage.ru_utime + usage.ru_stime), process.returncode


def measure(
    command: list[str],
    env: dict,
    repeat: int,
    prepare: Callable[[], None] | None = None,
    cwd: Path | None = None,
    accepted: tuple[int, ...] = (0, 1),
) -> Measure:
    """Median wall time and peak memory of a command run `repeat` times (after `prepare`)."""
    runs = []
    for _ in range(repeat):
        if prepare:
            prepare()
        result, status = run_once(command, env, cwd)
        if status not in accepted:
            raise RuntimeError(f"{' '.join(command)} failed with exit status {status}")
        runs.append(result)
    return Measure(
        statistics.median(r.seconds for r in runs),
        statistics.median(r.peak_mib for r in runs),
        statistics.median(r.cpu_seconds for r in runs),
    )
