"""Benchmark of the nightly run, each figure the median of several runs, beside its baselines.

    .venv/bin/python bench/run_bench.py [--repeat 3] [--quick] [--peer ../shared/peers/dbt-duckdb]

Every case runs as its own process (the way an operator runs it), timed from start to exit;
peak memory is the largest sum of the resident sets of the process and all its children (the
temporary Prefect server included), see bench/measure.py. DuckDB alone loading the same file is
the floor; with --peer, the dbt-duckdb project a user would build instead runs on the very same
files in the same run. The table is printed and written, with the machine it ran on, to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import peer as dbt_peer
from measure import Measure, become_subreaper, measure

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLE = next((PROJECT_DIR / "data" / "raw").glob("*"))
PEER_VENV = PROJECT_DIR / "bench" / ".cache" / "peer-venv"
PEER_SAMPLE_ROWS = 10
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
class Row:
    """One line of the table: our median, the peer's on the same input, and a remark."""

    case: str
    ours: Measure | None = None
    peer: Measure | None = None
    count: int | None = None
    unit: str = ""
    note: str = ""

    def cells(self, with_peer: bool) -> tuple[str, ...]:
        """The row's cells; the peer's columns only when the peer ran."""
        ours, peer = self.ours, self.peer
        rate = f"{self.count / ours.seconds:,.0f} {self.unit}/s" if ours and self.count else ""
        cells = (
            self.case,
            f"{ours.seconds:.2f}" if ours else "",
            f"{ours.cpu_seconds:.2f}" if ours else "",
            rate,
            f"{ours.peak_mib:,.0f}" if ours else "",
        )
        if with_peer:
            versus = (
                f"{ours.seconds / peer.seconds:.2f}x, {ours.cpu_seconds / peer.cpu_seconds:.2f}x,"
                f" {ours.peak_mib / peer.peak_mib:.2f}x"
                if ours and peer
                else ""
            )
            cells += (
                f"{peer.seconds:.2f}" if peer else "",
                f"{peer.cpu_seconds:.2f}" if peer else "",
                f"{peer.peak_mib:,.0f}" if peer else "",
                versus,
            )
        return (*cells, self.note)


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
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- load average at the end (1, 5, 15 min): {load}",
    ]


def sizes(text: str) -> tuple[int, ...]:
    """A comma-separated list of counts ("1000000,10000000")."""
    return tuple(int(part.replace("_", "")) for part in text.split(","))


def main() -> int:
    """Run every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median)")
    parser.add_argument(
        "--quick", action="store_true", help="smaller inputs (100 and 1,000 editions; 0.1M, 1M)"
    )
    parser.add_argument("--peer", type=Path, help="folder of the dbt-duckdb peer project")
    parser.add_argument("--editions", type=sizes, help="generated editions, e.g. 1000,10000")
    parser.add_argument("--tidy-rows", type=sizes, help="tidy rows, e.g. 1000000,10000000")
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "bench" / "RESULTS.md")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_DIR))
    from flows import synthetic

    editions = args.editions or ((100, 1_000) if args.quick else (1_000, 10_000))
    tidy_rows = args.tidy_rows or (
        (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000, 30_000_000)
    )
    become_subreaper()
    peer = None
    if args.peer:
        project = args.peer.resolve()
        peer = dbt_peer.Peer(project, dbt_peer.install(project, PEER_VENV), Path())
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    env = os.environ | {
        "PREFECT_HOME": str(work / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # a busy machine may take longer than the default 20 s to start the temporary server
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    if peer:
        peer.scratch = work / "peer"
        peer_env = env | peer.env

    def peer_build(csv: Path, cold: bool) -> Measure | None:
        if not peer:
            return None
        prepare = peer.cold() if cold else None
        return measure(peer.build(csv), peer_env, args.repeat, prepare, peer.project, (0,))

    rows: list[Row] = []

    def report(row: Row) -> Row:
        rows.append(row)
        print(" | ".join(row.cells(peer is not None)), flush=True)
        return row

    try:
        trivial = work / "trivial.py"
        trivial.write_text(TRIVIAL_FLOW)
        # The first run in a new PREFECT_HOME migrates Prefect's database: not measured.
        measure([sys.executable, str(trivial)], env, 1)
        fixed = measure([sys.executable, str(trivial)], env, args.repeat)
        report(Row("fixed cost: trivial Prefect flow (imports Prefect, GX, DuckDB, polars)", fixed))

        raw = work / "sample" / "raw"
        raw.mkdir(parents=True)
        shutil.copy(SAMPLE, raw)
        out = work / "sample" / "out"
        small = synthetic.write_tidy(work / "peer-sample.csv", PEER_SAMPLE_ROWS)
        peer_case = f" (peer: {PEER_SAMPLE_ROWS} tidy rows" if peer else ""
        cold = measure(run_command(raw, out / "w.duckdb"), env, args.repeat, fresh(out))
        report(
            Row(
                "sample bulletin, cold" + (f"{peer_case}, cold build)" if peer else ""),
                cold,
                peer_build(small, cold=True),
                note=f"{cold.seconds / fixed.seconds:.2f}x fixed cost",
            )
        )
        same = measure(run_command(raw, out / "w.duckdb"), env, args.repeat)
        report(
            Row(
                "sample bulletin, nothing changed" + (f"{peer_case}, built again)" if peer else ""),
                same,
                peer_build(small, cold=False),
                note=f"{same.seconds / fixed.seconds:.2f}x fixed cost;"
                f" {same.seconds - fixed.seconds:+.2f} s",
            )
        )

        for count in editions:
            raw = work / f"editions-{count}" / "raw"
            synthetic.write_bulletins(raw, count)
            out = raw.parent / "out"
            result = measure(run_command(raw, out / "w.duckdb"), env, args.repeat, fresh(out))
            report(Row(f"{count:,} generated editions, cold", result, None, count, "editions"))
            shutil.rmtree(raw.parent)

        tidy: list[Row] = []
        for count in tidy_rows:
            folder = work / f"tidy-{count}"
            (folder / "raw").mkdir(parents=True)
            csv = synthetic.write_tidy(folder / "raw" / "tidy.csv", count)
            out = folder / "out"
            alone = measure(duckdb_load(csv, out / "alone.duckdb"), env, args.repeat, fresh(out))
            report(
                Row(
                    f"DuckDB alone: {count:,} tidy rows into a new file", alone, None, count, "rows"
                )
            )
            result = measure(
                run_command(folder / "raw", out / "w.duckdb"), env, args.repeat, fresh(out)
            )
            beyond = result.seconds - fixed.seconds
            beyond_cpu = result.cpu_seconds - fixed.cpu_seconds
            tidy.append(
                report(
                    Row(
                        f"{count:,} tidy rows, whole run, cold",
                        result,
                        peer_build(csv, cold=True),
                        count,
                        "rows",
                        f"{result.seconds / alone.seconds:.2f}x DuckDB alone; beyond the fixed"
                        f" cost {beyond:.2f} s = {beyond / alone.seconds:.2f}x DuckDB alone"
                        f" (CPU: {beyond_cpu:.2f} s = {beyond_cpu / alone.cpu_seconds:.2f}x)",
                    )
                )
            )
            shutil.rmtree(folder)
        if len(tidy) > 1:
            report(scale(tidy[-2], tidy[-1]))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    header = ("case", "median s", "CPU s", "throughput", "peak MiB")
    if peer:
        header += ("peer s", "peer CPU s", "peer peak MiB", "ours / peer: time, CPU, peak")
    header += ("ratio",)
    table = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row.cells(peer is not None)) + " |" for row in rows),
    ]
    described = [
        *machine(),
        f"- runs per case: {args.repeat} (medians of wall time, CPU time (user + system) and peak"
        " memory, each of the whole process tree)",
    ]
    if peer:
        described += [
            f"- peer: {args.peer} ({dbt_peer.versions(PEER_VENV)}), `dbt build` of its models,"
            " tests and Parquet exports; it reads the same CSV files as ours (same header and"
            " codes: no conversion); its sample rows are a generated tidy file of"
            f" {PEER_SAMPLE_ROWS} rows, its 'nothing changed' the same build again (dbt has no"
            " change detection for tables, it skips only the parse)",
        ]
    text = "\n".join(["# Benchmark results", "", *described, "", *table, ""])
    print("\n" + "\n".join(table))
    args.output.write_text(text)
    print(f"\nwritten to {args.output}")
    return 0


def scale(smaller: Row, larger: Row) -> Row:
    """How time and peak memory grow from one tidy size to the next, ours and the peer's."""

    def growth(a: Measure | None, b: Measure | None) -> str:
        if not (a and b):
            return ""
        return f"time {b.seconds / a.seconds:.2f}x, peak {b.peak_mib / a.peak_mib:.2f}x"

    factor = larger.count / smaller.count
    peer = growth(smaller.peer, larger.peer)
    return Row(
        f"scale: {larger.count:,} against {smaller.count:,} tidy rows ({factor:g}x the rows)",
        note=growth(smaller.ours, larger.ours) + (f"; peer: {peer}" if peer else ""),
    )


if __name__ == "__main__":
    sys.exit(main())
