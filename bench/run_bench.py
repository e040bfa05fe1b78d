"""Benchmark of the nightly run, each figure the median of several runs, beside its baseline.

    .venv/bin/python bench/run_bench.py [--repeat 3] [--quick]

Every case runs as its own process (the way an operator runs it), timed from start to exit;
peak memory is the largest resident set of the process and the children it waited for. The
table is printed and written, with the machine it ran on, to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLE = next((PROJECT_DIR / "data" / "raw").glob("*"))
TRIVIAL_FLOW = """
import duckdb, great_expectations, polars, prefect
from prefect import flow, task

@task
def nothing():
    return None

@flow
def trivial():
    nothing()

trivial()
"""


@dataclass
class Measure:
    """Medians of one case."""

    seconds: float
    peak_mib: float


def measure(
    command: list[str], env: dict, repeat: int, prepare: Callable[[], None] | None = None
) -> Measure:
    """Median wall time and peak memory of a command run `repeat` times."""
    times, peaks = [], []
    for _ in range(repeat):
        if prepare:
            prepare()
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 1):
            raise RuntimeError(f"{command} failed with exit status {process.returncode}")
    return Measure(statistics.median(times), statistics.median(peaks))


def run_command(raw: Path, warehouse: Path) -> list[str]:
    """`voluntary-returns run` on a raw folder into a warehouse file."""
    return [
        str(BIN / "voluntary-returns"),
        "run",
        "--raw-dir",
        str(raw),
        "--warehouse",
        str(warehouse),
    ]


def fresh(folder: Path) -> Callable[[], None]:
    """A function that empties a run's output folder (a cold run: no cache, no warehouse)."""

    def prepare() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    return prepare


def duckdb_load(csv: Path, target: Path) -> list[str]:
    """DuckDB alone loading a CSV into a new database file."""
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[2]);"
        ' con.execute("create table t as select * from read_csv(\'" + sys.argv[1] + "\')");'
        " con.close()"
    )
    return [sys.executable, "-c", script, str(csv), str(target)]


def machine() -> list[str]:
    """What the benchmark ran on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    memory = next(
        int(line.split()[1]) / 1024 / 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("prefect", "duckdb", "polars", "great_expectations", "pyarrow")
    )
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}",
    ]


def main() -> int:
    """Run every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs (100, 1,000, 1M)")
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "bench" / "RESULTS.md")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_DIR))
    from flows import synthetic

    editions = (100, 1_000) if args.quick else (1_000, 10_000)
    tidy_rows = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    env = os.environ | {
        "PREFECT_HOME": str(work / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    rows: list[tuple] = []

    def report(
        case: str,
        result: Measure,
        count: float | None,
        unit: str,
        base: Measure | None = None,
        base_name: str = "",
    ) -> None:
        rate = f"{count / result.seconds:,.0f} {unit}/s" if count else ""
        ratio = f"{result.seconds / base.seconds:.2f}x {base_name}" if base else ""
        rows.append((case, f"{result.seconds:.2f}", rate, f"{result.peak_mib:,.0f}", ratio))
        print(" | ".join(rows[-1]), flush=True)

    try:
        trivial = work / "trivial.py"
        trivial.write_text(TRIVIAL_FLOW)
        # The first run in a new PREFECT_HOME migrates Prefect's database: not measured.
        measure([sys.executable, str(trivial)], env, 1)
        fixed = measure([sys.executable, str(trivial)], env, args.repeat)
        report(
            "fixed cost: trivial Prefect flow (imports Prefect, GX, DuckDB, polars)",
            fixed,
            None,
            "",
        )

        raw = work / "sample" / "raw"
        raw.mkdir(parents=True)
        shutil.copy(SAMPLE, raw)
        out = work / "sample" / "out"
        cold = measure(run_command(raw, out / "w.duckdb"), env, args.repeat, fresh(out))
        report("sample bulletin, cold", cold, None, "", fixed, "fixed cost")
        same = measure(run_command(raw, out / "w.duckdb"), env, args.repeat)
        report("sample bulletin, nothing changed", same, None, "", fixed, "fixed cost")
        rows[-1] = (*rows[-1][:4], f"{rows[-1][4]}; {same.seconds - fixed.seconds:+.2f} s")

        for count in editions:
            raw = work / f"editions-{count}" / "raw"
            synthetic.write_bulletins(raw, count)
            out = raw.parent / "out"
            result = measure(run_command(raw, out / "w.duckdb"), env, args.repeat, fresh(out))
            report(f"{count:,} generated editions, cold", result, count, "editions")

        for count in tidy_rows:
            folder = work / f"tidy-{count}"
            (folder / "raw").mkdir(parents=True)
            csv = synthetic.write_tidy(folder / "raw" / "tidy.csv", count)
            out = folder / "out"
            alone = measure(duckdb_load(csv, out / "alone.duckdb"), env, args.repeat, fresh(out))
            report(f"DuckDB alone: {count:,} tidy rows into a new file", alone, count, "rows")
            result = measure(
                run_command(folder / "raw", out / "w.duckdb"), env, args.repeat, fresh(out)
            )
            report(
                f"{count:,} tidy rows, whole run, cold",
                result,
                count,
                "rows",
                alone,
                "DuckDB alone",
            )
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    header = ("case", "median s", "throughput", "peak MiB", "ratio")
    table = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    text = "\n".join(
        ["# Benchmark results", "", *machine(), f"- runs per case: {args.repeat} (medians)", "",
         *table, ""]
    )  # fmt: skip
    print("\n" + "\n".join(table))
    args.output.write_text(text)
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
