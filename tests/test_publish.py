"""The published state: one thing, put in place at once, verified by every unchanged run.

Faults are made for real: a `kill -9` of `voluntary-returns run` at named points, a program
holding the file read-write, a write-ahead log left by a killed writer, bytes flipped inside a
table, an export overwritten by hand, leftovers of killed runs, a broken cache store.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import SAMPLE, held_read_write, query
from derive import shift_years

from flows.cli import main
from flows.ingest import editions
from flows.nightly import nightly
from flows.publish.publish import MANIFEST, OWNED_FOLDERS

# Files kept for tests: a cache store as a killed run left it.
DATA = Path(__file__).resolve().parent / "data"

pytestmark = pytest.mark.usefixtures("prefect_api")
COMMAND = str(Path(sys.executable).parent / "voluntary-returns")
# Columns that say which run wrote a row and when: the same inputs give the same other columns.
RUN_COLUMNS = ["run_id", "built_at", "checked_at"]
# A program that writes to the published file and is then killed before it checkpoints.
WRITE = (
    "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]);"
    " con.execute('delete from marts.annual_returns where year < 2018');"
    " con.execute('create table main.scratch as select 1 as i');"
    " print('written', flush=True); time.sleep(600)"
)


def published_files(data_dir: Path) -> dict[str, str]:
    """The sha256 of every published file: all but the cache and hidden files (the run lock,
    leftovers of killed runs)."""
    files = (path.relative_to(data_dir) for path in sorted(data_dir.rglob("*")) if path.is_file())
    return {
        name.as_posix(): hashlib.sha256((data_dir / name).read_bytes()).hexdigest()
        for name in files
        if name.parts[0] != "cache" and not name.parts[0].startswith(".")
    }


def assert_verified(warehouse: Path) -> dict:
    """The manifest lists exactly the files on disk, with their digests; no leftovers, no WAL;
    the exports hold the warehouse's marts. Returns the manifest."""
    data_dir = warehouse.parent
    manifest = json.loads((data_dir / MANIFEST).read_text())
    on_disk = published_files(data_dir)
    listed = {name: recorded["sha256"] for name, recorded in manifest["members"].items()}
    assert on_disk == listed | {MANIFEST: on_disk[MANIFEST]}
    assert {name.split("/")[0] for name in listed} <= {warehouse.name, *OWNED_FOLDERS}
    assert not list(data_dir.glob(".publish-*")) and not list(data_dir.glob("*.wal"))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for export in (data_dir / "marts").glob("*.parquet"):
            mart = con.table(f"marts.{export.stem}")
            parquet = con.read_parquet(str(export))
            assert mart.except_(parquet).fetchall() == parquet.except_(mart).fetchall() == []
        assert con.sql("select * from marts.publication").fetchall()[0][0] == manifest["run_id"]
    finally:
        con.close()
    return manifest


def figures(data_dir: Path) -> dict[str, list]:
    """The rows of every export, without the columns that name the run."""
    return {
        path.stem: pl.read_parquet(path).drop(RUN_COLUMNS, strict=False).sort(pl.all()).rows()
        for path in sorted((data_dir / "marts").glob("*.parquet"))
    }


@pytest.fixture
def state(published_sample: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the state published from the sample: its raw folder and its warehouse file."""
    shutil.copytree(published_sample.parent.parent, tmp_path / "state")
    return tmp_path / "state" / "raw", tmp_path / "state" / "data" / "warehouse.duckdb"


@pytest.fixture(scope="module")
def two_editions_clean(published_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The figures of a clean build of the sample and the next year's edition."""
    root = tmp_path_factory.mktemp("clean")
    shutil.copytree(published_sample.parent.parent / "raw", root / "raw")
    (root / "raw" / "next.txt").write_text(shift_years(SAMPLE.read_text(encoding="utf-8"), 1))
    report = nightly(raw_dir=str(root / "raw"), warehouse=str(root / "data" / "warehouse.duckdb"))
    assert report.published, report.markdown()
    return figures(root / "data")


@pytest.fixture(scope="module")
def api_url(prefect_api: None) -> str:
    """The test session's Prefect API: runs in subprocesses use it instead of starting one."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def run_killed_at(point: str, raw: Path, warehouse: Path, api_url: str) -> None:
    """Start `voluntary-returns run`, wait until it pauses at the named point, `kill -9` it."""
    env = os.environ | {"VOLUNTARY_RETURNS_PAUSE_AT": point, "PREFECT_API_URL": api_url}
    process = subprocess.Popen(
        [COMMAND, "run", "--raw-dir", str(raw), "--warehouse", str(warehouse)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(600, process.kill)
    watchdog.start()
    try:
        seen = []
        for line in process.stderr:
            seen.append(line)
            if line.strip() == f"paused at {point}":
                break
        else:
            pytest.fail(f"the run ended without pausing at {point}: {''.join(seen)[-2000:]}")
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    finally:
        watchdog.cancel()
        process.kill()
        process.wait()
        process.stderr.close()


# Where a run is killed: after parsing, in the middle of the build (a half-written file and its
# WAL in the staging folder), between renames (the new warehouse beside the old exports, some
# exports renamed and others not, every member renamed but the manifest), and after the manifest.
KILL_POINTS = [
    "after-parse",
    "in-build",
    "after-rename:warehouse.duckdb",
    "after-rename:marts/annual_returns.parquet",
    "before-manifest",
    "after-manifest",
]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_run_killed_anywhere_is_repaired_by_the_next(
    point: str, state: tuple[Path, Path], two_editions_clean: dict, api_url: str
) -> None:
    raw, warehouse = state
    (raw / "next.txt").write_text(shift_years(SAMPLE.read_text(encoding="utf-8"), 1))
    before = published_files(warehouse.parent)
    run_killed_at(point, raw, warehouse, api_url)
    after_kill = published_files(warehouse.parent)
    if point in ("after-parse", "in-build"):
        assert after_kill == before  # nothing of the published state was touched
    else:
        assert after_kill != before
    assert list(warehouse.parent.glob(".publish-*")), "the killed run left its staging folder"
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.exit_code == 0, report.markdown()
    if point == "after-manifest":
        assert report.unchanged  # every member was in place: only the staging folder was left
    else:
        assert report.published and not report.unchanged
    assert any(note.startswith("Removed what an interrupted run left") for note in report.notes)
    assert_verified(warehouse)
    assert figures(warehouse.parent) == two_editions_clean
    assert query(warehouse, "select returns from marts.annual_returns where year = 2019") == [
        (2609,)
    ]
    again = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert again.unchanged and not again.notes


def test_a_publish_records_every_member_and_an_unchanged_run_verifies_it(
    state: tuple[Path, Path],
) -> None:
    raw, warehouse = state
    manifest = assert_verified(warehouse)
    assert manifest["members"][warehouse.name]["size"] == warehouse.stat().st_size
    assert "marts/annual_returns.parquet" in manifest["members"]
    assert manifest["docs"] in manifest["members"]  # Data Docs are published with the state
    assert "report/index.html" in manifest["members"]  # and so is the report
    before = published_files(warehouse.parent)
    same = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert same.unchanged and same.exit_code == 0 and not same.notes
    assert same.docs == warehouse.parent / manifest["docs"]
    assert same.page == warehouse.parent / "report" / "index.html"
    after = published_files(warehouse.parent)
    # At most the report is written again (it judges freshness on the day of the run), in
    # place the way a publish puts it: the manifest records its new digest.
    assert {name for name in before | after if before.get(name) != after.get(name)} <= {
        "report/index.html",
        MANIFEST,
    }
    assert assert_verified(warehouse)["run_id"] == manifest["run_id"]


def test_the_report_command_puts_the_report_in_place_as_a_run_does(
    state: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    _, warehouse = state
    page = warehouse.parent / "report" / "index.html"
    page.write_text("an old page")
    assert main(["report", "--warehouse", str(warehouse)]) == 0
    assert capsys.readouterr().out == f"Report: {page.as_uri()}\n"
    assert "2.609" in page.read_text()
    assert_verified(warehouse)  # the manifest records the new page


def test_an_export_overwritten_by_hand_is_written_again_from_the_warehouse(
    state: tuple[Path, Path],
) -> None:
    raw, warehouse = state
    export = warehouse.parent / "marts" / "annual_returns.parquet"
    con = duckdb.connect()
    con.read_parquet(str(export)).project("year, returns * 10 as returns").write_parquet(
        str(export)
    )
    con.close()
    (warehouse.parent / "report" / "index.html").unlink()
    warehouse_digest = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.published and report.exit_code == 0
    assert report.notes == [
        f"Repaired: marts/annual_returns.parquet, report/index.html in {warehouse.parent} did not"
        f" match {MANIFEST}; written again from the warehouse"
    ]
    # The verified warehouse was not rebuilt: only the export was written again from it.
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == warehouse_digest
    assert_verified(warehouse)
    assert pl.read_parquet(export).filter(pl.col("year") == 2018)["returns"].to_list() == [2609]


def test_data_docs_edited_by_hand_are_rebuilt(state: tuple[Path, Path]) -> None:
    raw, warehouse = state
    docs = json.loads((warehouse.parent / MANIFEST).read_text())["docs"]
    (warehouse.parent / docs).write_text("<p>all checks passed</p>")
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.published and report.exit_code == 0
    assert report.notes == [f"Rebuilt: {docs} in {warehouse.parent} did not match {MANIFEST}"]
    assert "all checks passed" not in (warehouse.parent / docs).read_text()
    assert_verified(warehouse)


def flip_bytes_inside_a_table(warehouse: Path, table: str = "marts.annual_returns") -> None:
    """Bit rot: 64 bytes inverted inside the block that holds the table's `returns`."""
    con = duckdb.connect(str(warehouse), read_only=True)
    block, offset = con.execute(
        "select block_id, block_offset from pragma_storage_info(?)"
        " where column_name = 'returns' and segment_type = 'BIGINT'",
        [table],
    ).fetchall()[0]
    block_size = con.sql("select block_size from pragma_database_size()").fetchall()[0][0]
    con.close()
    # A DuckDB file: three 4 KiB headers, then blocks, each led by its 8-byte checksum.
    position = 3 * 4096 + block * block_size + 8 + offset
    with open(warehouse, "r+b") as file:
        file.seek(position)
        rotten = bytes(byte ^ 0xFF for byte in file.read(64))
        file.seek(position)
        file.write(rotten)


def test_bit_rot_in_the_published_file_is_found_and_rebuilt(state: tuple[Path, Path]) -> None:
    raw, warehouse = state
    flip_bytes_inside_a_table(warehouse)
    with pytest.raises(duckdb.Error, match="checksum"):
        query(warehouse, "select sum(returns) from marts.annual_returns")
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.published and report.exit_code == 0
    assert report.notes == [
        f"Rebuilt: {warehouse.name} in {warehouse.parent} did not match {MANIFEST}"
    ]
    assert_verified(warehouse)
    assert query(warehouse, "select returns from marts.annual_returns where year = 2018") == [
        (2609,)
    ]


def written_and_killed(warehouse: Path) -> None:
    """A program writes to the published file and is killed: its write-ahead log stays."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITE, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "written"
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    assert Path(f"{warehouse}.wal").exists()
    assert query(warehouse, "select count(*) from marts.annual_returns") == [(1,)]


@pytest.mark.parametrize("inputs", ["the same", "a new edition"])
def test_a_write_ahead_log_left_beside_the_published_file_is_never_replayed(
    inputs: str, state: tuple[Path, Path]
) -> None:
    raw, warehouse = state
    written_and_killed(warehouse)
    if inputs == "a new edition":
        (raw / "next.txt").write_text(shift_years(SAMPLE.read_text(encoding="utf-8"), 1))
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.published and report.exit_code == 0
    if inputs == "the same":
        assert report.notes == [
            f"Rebuilt: {warehouse}.wal was left by another program that wrote to the file"
        ]
    assert_verified(warehouse)
    years = 13 if inputs == "a new edition" else 12
    assert query(warehouse, "select count(*) from marts.annual_returns") == [(years,)]
    assert query(
        warehouse, "select count(*) from duckdb_tables() where table_name = 'scratch'"
    ) == [(0,)]


def test_nothing_is_published_while_another_program_holds_the_file_read_write(
    state: tuple[Path, Path],
) -> None:
    raw, warehouse = state
    before = published_files(warehouse.parent)
    with held_read_write(warehouse) as pid:
        same = nightly(raw_dir=str(raw), warehouse=str(warehouse))
        (raw / "next.txt").write_text(shift_years(SAMPLE.read_text(encoding="utf-8"), 1))
        changed = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    for report in (same, changed):
        assert not report.published and not report.unchanged and report.exit_code == 1
        assert f"PID {pid}" in report.stopped
        assert f"{warehouse} is open read-write in another program" in report.markdown()
    assert published_files(warehouse.parent) == before
    assert nightly(raw_dir=str(raw), warehouse=str(warehouse)).published


def test_leftovers_of_killed_runs_are_removed(state: tuple[Path, Path]) -> None:
    raw, warehouse = state
    data_dir = warehouse.parent
    leftovers = [
        data_dir / f".{warehouse.name}.20260101T000000-abcdef.new",
        data_dir / f".{warehouse.name}.20260101T000000-abcdef.new.wal",
        data_dir / "marts" / ".annual_returns.parquet.new",
        data_dir / ".publish-20260101T000000-abcdef" / "marts" / "annual_returns.parquet",
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left by a killed run")
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.unchanged and report.exit_code == 0
    assert not any(path.exists() for path in leftovers)
    assert not (data_dir / ".publish-20260101T000000-abcdef").exists()
    assert report.notes[0].startswith("Removed what an interrupted run left: ")
    assert_verified(warehouse)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "bit rot"])
def test_a_broken_cache_store_is_moved_aside_and_rebuilt(
    damage: str, state: tuple[Path, Path]
) -> None:
    raw, warehouse = state
    (store,) = (warehouse.parent / "cache").glob("editions-*.duckdb")
    if damage == "truncated":
        os.truncate(store, store.stat().st_size // 2)
    elif damage == "garbage":
        store.write_bytes(os.urandom(store.stat().st_size))
    else:  # the store opens; the damaged block is found only when a run reads it
        flip_bytes_inside_a_table(store, "staged")
    (raw / "next.txt").write_text(shift_years(SAMPLE.read_text(encoding="utf-8"), 1))
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.published and report.exit_code == 0 and report.parsed_now == 2
    (note,) = report.notes
    assert note.startswith(
        f"the cache of parsed editions {store} was moved aside to {store.name}.broken, every file"
        " parsed again: it could not be read ("
    )
    assert Path(f"{store}.broken").exists() and store.exists()
    assert_verified(warehouse)


# An address where no Prefect API answers: a run that needed one would fail.
NO_API = "http://127.0.0.1:9/api"


def run_command(raw: Path, warehouse: Path, api_url: str) -> subprocess.CompletedProcess:
    """`voluntary-returns run` in a process of its own, reporting to `api_url`."""
    return subprocess.run(
        [COMMAND, "run", "--raw-dir", str(raw), "--warehouse", str(warehouse)],
        env=os.environ | {"PREFECT_API_URL": api_url}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.mark.parametrize("damage", ["none", "an export overwritten", "a writer holding the file"])
def test_an_unchanged_run_verifies_and_repairs_without_a_prefect_server(
    damage: str, state: tuple[Path, Path]
) -> None:
    raw, warehouse = state
    export = warehouse.parent / "marts" / "annual_returns.parquet"
    if damage == "an export overwritten":
        export.write_bytes(b"overwritten by hand")
    before = published_files(warehouse.parent)
    if damage == "a writer holding the file":
        with held_read_write(warehouse) as pid:
            result = run_command(raw, warehouse, NO_API)
        assert result.returncode == 1, result.stderr
        assert f"{warehouse} is open read-write in another program" in result.stdout
        assert f"PID {pid}" in result.stdout
        assert published_files(warehouse.parent) == before
        return
    result = run_command(raw, warehouse, NO_API)
    assert result.returncode == 0, result.stderr
    assert "- files in" in result.stdout and "- rejected: 0" in result.stdout
    assert "- marts.annual_returns: 12" in result.stdout
    if damage == "none":
        assert "Nothing changed" in result.stdout and "- editions published: 1" in result.stdout
    else:
        repaired = (
            f"Repaired: marts/annual_returns.parquet in {warehouse.parent} did not match"
            f" {MANIFEST}; written again from the warehouse"
        )
        assert repaired in result.stdout
        assert pl.read_parquet(export).filter(pl.col("year") == 2018)["returns"].to_list() == [2609]
    assert_verified(warehouse)


def test_a_foreign_write_ahead_log_still_rebuilds_through_the_flow(
    state: tuple[Path, Path], api_url: str
) -> None:
    raw, warehouse = state
    written_and_killed(warehouse)
    result = run_command(raw, warehouse, api_url)
    assert result.returncode == 0, result.stderr
    assert f"Rebuilt: {warehouse}.wal was left by another program" in result.stdout
    assert_verified(warehouse)
    assert query(warehouse, "select count(*) from marts.annual_returns") == [(12,)]


def test_an_unchanged_run_writes_the_report_again_only_on_another_day_or_limits(
    state: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, warehouse = state
    page, manifest = warehouse.parent / "report" / "index.html", warehouse.parent / MANIFEST
    before = published_files(warehouse.parent)
    assert nightly(raw_dir=str(raw), warehouse=str(warehouse)).unchanged
    assert published_files(warehouse.parent) == before  # written today: kept as it is
    recorded = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(recorded | {"report_basis": {"day": "2000-01-01"}}))
    assert nightly(raw_dir=str(raw), warehouse=str(warehouse)).unchanged
    assert published_files(warehouse.parent)["report/index.html"] != before["report/index.html"]
    today = assert_verified(warehouse)["report_basis"]
    assert today == recorded["report_basis"] and today["day"] != "2000-01-01"
    old_page = page.read_text()
    monkeypatch.setenv("VOLUNTARY_RETURNS_FRESHNESS_WARN_AFTER_DAYS", "20000")
    monkeypatch.setenv("VOLUNTARY_RETURNS_FRESHNESS_ERROR_AFTER_DAYS", "30000")
    assert nightly(raw_dir=str(raw), warehouse=str(warehouse)).unchanged
    assert assert_verified(warehouse)["report_basis"]["warn_after_days"] == 20000
    assert page.read_text() != old_page


def test_a_sound_cache_store_with_freed_blocks_is_kept(tmp_path: Path) -> None:
    # A store left by a run killed while it checked bulletins (found by a helper breaking runs):
    # DuckDB counts 10 blocks, 3 of them freed and the last not on disk; every table reads.
    cache = tmp_path / "cache"
    cache.mkdir()
    store = editions.store_path(cache)
    store.write_bytes(lzma.decompress((DATA / "store-with-free-blocks.duckdb.xz").read_bytes()))
    assert editions.check_store(cache) is None
    assert store.exists() and not Path(f"{store}.broken").exists()
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("select count(*) from editions").fetchall() == [(12,)]
        assert con.execute("select count(*) from observations").fetchall() == [(283,)]
