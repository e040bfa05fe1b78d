"""Where a run's seconds and memory go, step by step: `voluntary-returns run`, instrumented.

    .venv/bin/python bench/profile_run.py --raw-dir DIR --out DIR [--cold] [--repeat 3]

Each run is a fresh process that runs the command line's `run` (the real flow, on the temporary
Prefect server) with timers around every Prefect task, every function of the `flows` package,
every DuckDB statement (`sql: ...`), every import of a module not loaded yet (`import ...`, with
what it imports in turn) and the temporary server's start and stop; a thread samples the
process's resident memory every 20 ms. A step's time includes its children's; `(rest)` is the
part of a step that none of its timed children account for (Prefect's own work between tasks,
say). The table gives the median over the runs, and the spread of the whole run's time shows
how noisy the machine was.
"""

from __future__ import annotations

import argparse
import atexit
import builtins
import functools
import inspect
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from measure import descendants, resident_mib

PROJECT_DIR = Path(__file__).resolve().parent.parent
RSS = Path("/proc/self/statm")
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20
# Third-party steps worth a line of their own, timed once their module is imported.
THIRD_PARTY = {
    "prefect.server.api.server": ("SubprocessASGIServer.start", "SubprocessASGIServer.stop"),
}
MATERIALISE = ("pl", "df", "arrow", "fetchall", "fetchone", "to_arrow_reader", "show")


class Profile:
    """Timed spans, nested per thread, aggregated by their path; memory sampled alongside."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, ...], dict] = {}
        self.local = threading.local()
        self.samples: list[float] = [self.rss()]
        self.tree_peak = 0.0
        threading.Thread(target=self.sample, daemon=True).start()

    @staticmethod
    def rss() -> float:
        return int(RSS.read_text().split()[1]) * PAGE_MIB

    def sample(self) -> None:
        while True:
            own = self.rss()
            self.samples.append(own)
            self.tree_peak = max(self.tree_peak, own + resident_mib(descendants(os.getpid())))
            time.sleep(0.02)

    def stack(self) -> list[str]:
        if not hasattr(self.local, "stack"):
            name = threading.current_thread().name
            self.local.stack = [] if name == "MainThread" else [f"[thread {name}]"]
        return self.local.stack

    def span(self, name: str, call: object, *args: object, **kwargs: object) -> object:
        """Call `call(*args, **kwargs)` as the step `name`, inside the current step."""
        stack = self.stack()
        stack.append(name)
        path = tuple(stack)
        row = self.rows.setdefault(path, {"calls": 0, "seconds": 0.0, "cpu": 0.0, "peak": 0.0})
        first = len(self.samples)
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return call(*args, **kwargs)
        finally:
            seconds = time.perf_counter() - start
            row["cpu"] += time.process_time() - cpu
            stack.pop()
            after = self.rss()
            row["calls"] += 1
            row["seconds"] += seconds
            row["peak"] = max(row["peak"], after, *self.samples[first - 1 :])
            row["after"] = after

    def timed(self, name: str, function: object) -> object:
        """`function`, timed as the step `name` whenever it is called."""
        if getattr(function, "__profiled__", False):
            return function

        @functools.wraps(function)
        def wrapper(*args: object, **kwargs: object) -> object:
            return self.span(name, function, *args, **kwargs)

        wrapper.__profiled__ = True
        return wrapper


class Relation:
    """A DuckDB relation whose materialisation is timed as the statement that made it."""

    def __init__(self, profile: Profile, relation: object, label: str) -> None:
        self._profile, self._relation, self._label = profile, relation, label

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._relation, name)
        if name == "to_arrow_reader":
            return lambda *args: Batches(self._profile, attribute(*args), self._label)
        if name in MATERIALISE:
            return self._profile.timed(f"{self._label} .{name}()", attribute)
        return attribute


class Batches:
    """Batches of a relation, each read timed as the statement's `.batches`."""

    def __init__(self, profile: Profile, reader: object, label: str) -> None:
        self._profile, self._reader, self._label = profile, reader, label

    def __getattr__(self, name: str) -> object:
        return getattr(self._reader, name)

    def __iter__(self) -> Iterator[object]:
        name = f"{self._label} .batches"
        while True:
            try:
                yield self._profile.span(name, self._reader.read_next_batch)
            except StopIteration:
                return


class Connection:
    """A DuckDB connection whose statements are timed, each as `sql: <its first words>`."""

    def __init__(self, profile: Profile, con: object) -> None:
        self._profile, self._con = profile, con

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)

    def execute(self, query: str, *args: object) -> object:
        return self._profile.span(label(query), self._con.execute, query, *args)

    def sql(self, query: str, *args: object, **kwargs: object) -> object:
        relation = self._profile.span(label(query), self._con.sql, query, *args, **kwargs)
        return None if relation is None else Relation(self._profile, relation, label(query))

    def cursor(self) -> Connection:
        return Connection(self._profile, self._con.cursor())

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closing a file connection checkpoints what it wrote."""
        self._profile.span("sql: close (checkpoint)", self._con.close)


def label(query: str) -> str:
    """A statement's first words, on one line."""
    words = re.sub(r"'[^']*'", "'…'", " ".join(query.split()))
    return f"sql: {words[:70]}{'...' if len(words) > 70 else ''}"


def instrument(profile: Profile) -> None:
    """Time every flows function, Prefect task, DuckDB statement, new import and server step."""
    original_import = builtins.__import__

    def timed_import(name: str, globals=None, locals=None, fromlist=(), level: int = 0) -> object:
        arguments = (name, globals, locals, fromlist, level)
        stack = profile.stack()
        nested = bool(stack) and stack[-1].startswith("import ")
        if level or not name or name in sys.modules or nested:
            result = original_import(*arguments)
        else:
            package = ".".join(name.split(".")[:2])
            result = profile.span(f"import {package}", original_import, *arguments)
        patch_third_party(profile)
        return result

    builtins.__import__ = timed_import
    import duckdb
    from prefect import Flow, Task

    import flows.nightly  # noqa: F401  (every module of the run, imported here)

    connect = duckdb.connect
    duckdb.connect = lambda *a, **k: Connection(profile, connect(*a, **k))
    modules = [m for name, m in list(sys.modules.items()) if name.split(".")[0] == "flows"]
    for module in modules:
        for value in list(vars(module).values()):
            if isinstance(value, Task | Flow):
                kind = "task" if isinstance(value, Task) else "flow"
                value.fn = profile.timed(f"{kind} {value.name}", value.fn)
            elif inspect.isfunction(value) and value.__module__ == module.__name__:
                rebind(modules, value, profile.timed(short(value), value))
            elif inspect.isclass(value) and value.__module__ == module.__name__:
                for attribute, method in list(vars(value).items()):
                    if inspect.isfunction(method):
                        setattr(value, attribute, profile.timed(short(method), method))


def patch_third_party(profile: Profile) -> None:
    """Time the third-party steps whose modules are imported by now."""
    for module_name, steps in list(THIRD_PARTY.items()):
        module = sys.modules.get(module_name)
        if module is None or not all(hasattr(module, s.split(".")[0]) for s in steps):
            continue  # not imported, or still being initialised
        for step in steps:
            owner, attribute = step.rsplit(".", 1)
            target = getattr(module, owner)
            setattr(target, attribute, profile.timed(step, getattr(target, attribute)))
        del THIRD_PARTY[module_name]


def rebind(modules: list, original: object, wrapper: object) -> None:
    """Replace a function in every module that holds it (`from x import f` copies included)."""
    for module in modules:
        for name, value in list(vars(module).items()):
            if value is original:
                setattr(module, name, wrapper)


def short(function: object) -> str:
    """A function's name without the package prefix."""
    return f"{function.__module__.removeprefix('flows.')}.{function.__qualname__}"


def profile_once(args: argparse.Namespace) -> None:
    """Run `voluntary-returns run` once, instrumented; write the aggregated steps as JSON."""
    launched = float(os.environ.get("PROFILE_LAUNCHED", time.time()))
    # Warnings raised inside an import would name this file (the import hook) as their source.
    warnings.simplefilter("ignore", DeprecationWarning)
    ready = time.time()
    profile = Profile()
    sys.path.insert(0, str(PROJECT_DIR))
    finished = {}

    def write() -> None:
        rows = [{"path": list(path), **row} for path, row in profile.rows.items()]
        rows.insert(0, {"path": ["python start"], "calls": 1, "seconds": ready - launched})
        stopped = time.time() - finished.get("at", time.time())
        rows.append({"path": ["exit (atexit: server stop)"], "calls": 1, "seconds": stopped})
        result = {"rows": rows, "tree_peak": profile.tree_peak, "exit": finished.get("status")}
        Path(args.json).write_text(json.dumps(result))

    atexit.register(write)  # registered first, so it runs last
    profile.span("imports", instrument, profile)
    from flows import cli

    command = ["run", "--raw-dir", str(args.raw_dir), "--warehouse", str(args.out / "w.duckdb")]
    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            finished["status"] = profile.span("voluntary-returns run", cli.main, command)
        finally:
            sys.stdout = stdout
    finished["at"] = time.time()


def median_table(
    runs: list[dict], walls: list[float], cpus: list[float], min_seconds: float
) -> str:
    """The steps' medians over the runs, as a Markdown table in the order they ran."""
    by_path = [{tuple(r["path"]): r for r in run["rows"]} for run in runs]
    order = list(dict.fromkeys(path for rows in by_path for path in rows))

    def median(path: tuple, key: str) -> float | None:
        values = [rows[path][key] for rows in by_path if key in rows.get(path, {})]
        return statistics.median(values) if values else None

    def line(path: tuple, name: str, seconds: float, cpu: float | None, calls: str = "") -> str:
        peak, after = median(path, "peak"), median(path, "after")
        memory = f"{peak:,.0f} | {after:,.0f}" if peak is not None else " | "
        step = "· " * (len(path) - 1) + name.replace("|", "¦")
        cpu_text = f"{cpu:.2f}" if cpu is not None else ""
        return f"| {step} | {calls} | {seconds:.2f} | {cpu_text} | {memory} |"

    lines = [
        "| step | calls | seconds | CPU s | peak MiB | MiB after |",
        "|---|---|---|---|---|---|",
    ]
    for path in order:
        seconds, cpu = median(path, "seconds"), median(path, "cpu")
        if seconds < min_seconds:
            continue
        lines.append(line(path, path[-1], seconds, cpu, f"{median(path, 'calls'):g}"))
        children = [p for p in order if p[:-1] == path]
        rest = seconds - sum(median(child, "seconds") for child in children)
        if children and rest >= min_seconds:
            rest_cpu = cpu - sum(median(child, "cpu") for child in children)
            lines.append(line((*path, ""), "(rest)", rest, rest_cpu))
    spread = f"{len(walls)} runs: {min(walls):.2f}-{max(walls):.2f} s"
    tree = statistics.median(run["tree_peak"] for run in runs)
    lines.append(
        f"| whole run, launch to exit, process tree ({spread}) | | {statistics.median(walls):.2f}"
        f" | {statistics.median(cpus):.2f} | {tree:,.0f} | |"
    )
    return "\n".join(lines)


def main() -> int:
    """Profile `repeat` runs in fresh processes and print the median of every step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, required=True, help="raw folder to load")
    parser.add_argument("--out", type=Path, required=True, help="folder of the warehouse")
    parser.add_argument("--cold", action="store_true", help="empty --out before each run")
    parser.add_argument("--repeat", type=int, default=3, help="runs (median)")
    parser.add_argument("--min-seconds", type=float, default=0.05, help="shorter steps hidden")
    parser.add_argument("--json", help=argparse.SUPPRESS)  # one instrumented run (internal)
    args = parser.parse_args()
    args.raw_dir, args.out = args.raw_dir.resolve(), args.out.resolve()
    if args.json:
        profile_once(args)
        return 0
    env = os.environ | {
        "PREFECT_HOME": os.environ.get(
            "PREFECT_HOME", str(PROJECT_DIR / "bench" / ".cache" / "prefect-home")
        ),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # as `voluntary-returns run` sets them before Prefect is imported
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        # a busy machine may take longer than the default 20 s to start the temporary server
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    # Prefect's database is migrated once, before anything is measured.
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    prefect = Path(sys.executable).parent / "prefect"
    subprocess.run(
        [str(prefect), "server", "database", "upgrade", "-y"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    runs, walls, cpus = [], [], []
    for number in range(args.repeat):
        if args.cold:
            shutil.rmtree(args.out, ignore_errors=True)
        result = args.out.parent / f".profile-{os.getpid()}-{number}.json"
        launched = time.time()
        child = subprocess.Popen(
            [sys.executable, __file__, "--raw-dir", str(args.raw_dir), "--out", str(args.out),
             "--json", str(result)],
            env=env | {"PROFILE_LAUNCHED": repr(launched)},
        )  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        walls.append(time.time() - launched)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if status:
            raise SystemExit(f"the instrumented run failed (wait status {status})")
        runs.append(json.loads(result.read_text()))
        result.unlink()
        print(f"run {number + 1}: {walls[-1]:.2f} s, exit {runs[-1]['exit']}", flush=True)
    print(median_table(runs, walls, cpus, args.min_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
