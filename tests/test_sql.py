"""The sealed `sql` command: it reads the warehouse and nothing else, and changes nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import held_read_write

from flows.cli import main

COMMAND = str(Path(sys.executable).parent / "voluntary-returns")


@pytest.fixture
def warehouse(published_sample: Path, tmp_path: Path) -> Path:
    """The warehouse published from the sample (read, never changed, by these tests)."""
    (tmp_path / "secret.txt").write_text("not for the sql command\n")
    return published_sample


def sql(capsys: pytest.CaptureFixture, warehouse: Path, *args: str) -> tuple[int, str, str]:
    """The command's exit status, standard output and standard error."""
    status = main(["sql", "--warehouse", str(warehouse), *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def every_file(folder: Path) -> dict[str, str]:
    """The sha256 of every file under a folder, by relative path."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# Statements that would change the published state, read other files or reach the network;
# {data}, {store} and {secret} are filled in with real paths.
REFUSED = {
    "copy over an export": "copy marts.annual_returns to '{data}/marts/annual_returns.parquet'",
    "attach the cache read-write and update it": (
        "attach '{store}' as store (read_only false);"
        " update store.staged set returns = returns * 10 where report_year = 2018"
    ),
    "read another file": "select * from read_text('{secret}')",
    "read the system's passwords": "select * from read_text('/etc/shadow')",
    "read a file as CSV": "select * from read_csv('{secret}')",
    "read an export": "select * from read_parquet('{data}/marts/annual_returns.parquet')",
    "list files": "select * from glob('{data}/*')",
    "export the database": "export database '{data}/exported'",
    "install an extension": "install httpfs",
    "load an extension": "load httpfs",
    "read from the network": "select * from read_csv('https://example.org/figures.csv')",
    "switch external access back on": "set enable_external_access = true",
    "unlock the configuration": "set lock_configuration = false",
    "reset a switch": "reset enable_external_access",
    "allow autoloading": "set autoload_known_extensions = true",
    "delete from the warehouse": "delete from marts.annual_returns",
    "create a table in the warehouse": "create table marts.scratch as select 1 as i",
}


@pytest.mark.parametrize("attempt", sorted(REFUSED))
def test_a_statement_that_would_reach_beyond_the_warehouse_is_refused(
    attempt: str, warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = warehouse.parent
    (store,) = (data / "cache").glob("editions-*.duckdb")
    secret = tmp_path / "secret.txt"
    statement = REFUSED[attempt].format(data=data, store=store, secret=secret)
    before = every_file(data.parent)
    status, out, err = sql(capsys, warehouse, statement)
    assert status == 1
    assert err.startswith("query failed: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err and "not for the sql command" not in out
    assert every_file(data.parent) == before  # nothing written, nothing left beside the file


def test_every_statement_prints_its_result(warehouse: Path, capsys: pytest.CaptureFixture) -> None:
    status, out, err = sql(
        capsys,
        warehouse,
        "create temp table recent as select year, returns from marts.annual_returns"
        " where year >= 2017; select * from recent order by year; select count(*) as years"
        " from marts.annual_returns",
    )
    assert status == 0 and not err
    assert out.index("Count") < out.index("3827") < out.index("2609") < out.index("years")
    assert "│    12 │" in out


@pytest.mark.parametrize("form", ["csv", "json", "markdown", "table"])
def test_each_output_format(form: str, warehouse: Path, capsys: pytest.CaptureFixture) -> None:
    status, out, _ = sql(
        capsys,
        warehouse,
        "--format",
        form,
        "select year, returns, is_complete, 'a|b' as label from marts.annual_returns"
        " where year >= 2017 order by year",
    )
    assert status == 0
    if form == "csv":
        assert list(csv.reader(io.StringIO(out))) == [
            ["year", "returns", "is_complete", "label"],
            ["2017", "3827", "true", "a|b"],
            ["2018", "2609", "false", "a|b"],
        ]
    elif form == "json":
        assert json.loads(out) == [
            {"year": 2017, "returns": 3827, "is_complete": True, "label": "a|b"},
            {"year": 2018, "returns": 2609, "is_complete": False, "label": "a|b"},
        ]
    elif form == "markdown":
        assert out.splitlines() == [
            "| year | returns | is_complete | label |",
            "|---|---|---|---|",
            "| 2017 | 3827 | true | a\\|b |",
            "| 2018 | 2609 | false | a\\|b |",
        ]
    else:
        assert "│  2018 │    2609 │ false       │ a|b     │" in out


def test_a_wide_table_is_printed_whole(warehouse: Path, capsys: pytest.CaptureFixture) -> None:
    columns = ", ".join(f"returns + {n} as column_{n:02}" for n in range(40))
    status, out, _ = sql(
        capsys,
        warehouse,
        f"select repeat('long label ', 30) as label, {columns} from marts.annual_returns"
        " where year = 2018",
    )
    assert status == 0
    assert "long label " * 29 + "long label" in out
    assert all(f"column_{n:02}" in out and str(2609 + n) in out for n in range(40))


def test_a_query_from_a_file_or_standard_input(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    query = tmp_path / "query.sql"
    query.write_text(
        "-- the latest year\nselect returns from marts.annual_returns\nwhere year = 2018;\n"
    )
    status, out, _ = sql(capsys, warehouse, "--format", "csv", "--file", str(query))
    assert (status, out) == (0, "returns\n2609\n")
    for source in (["-"], ["--file", "-"]):
        piped = subprocess.run(
            [COMMAND, "sql", "--warehouse", str(warehouse), "--format", "csv", *source],
            input=query.read_text(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert (piped.returncode, piped.stdout, piped.stderr) == (0, "returns\n2609\n", "")


@pytest.mark.parametrize("query", ["", "   \n", "-- only a comment\n;"])
def test_an_empty_query_is_bad_usage(
    query: str, warehouse: Path, capsys: pytest.CaptureFixture
) -> None:
    status, out, err = sql(capsys, warehouse, query)
    assert status == 2 and not out and err.count("\n") == 1
    assert err.startswith("no ")


def test_a_query_given_twice_is_bad_usage(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "q.sql").write_text("select 1")
    status, _, err = sql(capsys, warehouse, "select 2", "--file", str(tmp_path / "q.sql"))
    assert status == 2 and "not both" in err


def test_a_file_that_is_not_a_warehouse_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    text = tmp_path / "notes.duckdb"
    text.write_text("these are notes, not a database\n")
    status, out, err = sql(capsys, text, "select 1")
    assert (status, out) == (1, "")
    assert err == (
        f'{text} cannot be read as a DuckDB database: IO Error: The file "{text}" exists, but'
        " it is not a valid DuckDB database file!\n"
    )
    status, _, err = sql(capsys, tmp_path / "nowhere.duckdb", "select 1")
    assert status == 1 and err.startswith("no published warehouse at ")


def test_a_file_held_by_a_writer_gives_one_line_naming_it(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    with held_read_write(copy) as pid:
        status, out, err = sql(capsys, copy, "select 1")
    assert (status, out) == (1, "")
    assert err.startswith(f"{copy} is open read-write in another program (")
    assert f"PID {pid}): query it once that program has closed it\n" in err
    assert err.count("\n") == 1
