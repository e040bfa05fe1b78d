"""The `sql` command: queries on the published warehouse through a sealed DuckDB connection.

The connection is sealed by DuckDB's own switches, never by reading the SQL: the file is opened
read-only; no other file and no network location can be read or written
(`enable_external_access`); no extension is installed or loaded; and the configuration is locked,
so that no statement can turn any of this back on. DuckDB may still spill a large query to disk:
into a private temporary folder, removed when the command ends, never beside the warehouse.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from flows.database import lock_holder

FORMATS = ("table", "csv", "json", "markdown")
SEALED = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}
# Wide enough that DuckDB's table printer never cuts a column or a value.
UNLIMITED_WIDTH = 1_000_000
FETCH_ROWS = 10_000


class QueryFailed(Exception):
    """The warehouse cannot be opened, or a statement failed: one line for the analyst."""


class NoStatement(Exception):
    """The query text holds no statement (only blanks, comments or semicolons)."""


def sealed(path: Path, temp_dir: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse file that can reach nothing else."""
    if not path.exists():
        raise QueryFailed(f"no published warehouse at {path}: run `voluntary-returns run` first")
    # In this order: DuckDB 2.0.1 refuses a temporary folder named before the switches.
    config = {**SEALED, "temp_directory": temp_dir}
    try:
        return duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error as error:
        if program := lock_holder(error):
            raise QueryFailed(
                f"{path} is open read-write in another program ({program}): query it once that"
                " program has closed it"
            ) from None
        reason = one_line(error)
        raise QueryFailed(f"{path} cannot be read as a DuckDB database: {reason}") from None


def run(path: Path, text: str, form: str, max_rows: int) -> None:
    """Run every statement of `text` on the warehouse and print each result to standard output
    in turn, a blank line between results. Raises QueryFailed (the results before the failed
    statement are printed) or NoStatement."""
    with tempfile.TemporaryDirectory(prefix="voluntary-returns-sql-") as temp_dir:
        con = sealed(path, temp_dir)
        try:
            parsed = statements(con, text)
            if not parsed:
                raise NoStatement("no statement in the query: only blanks, comments or semicolons")
            for number, statement in enumerate(parsed):
                if number and form != "table":  # DuckDB's table ends with a blank line
                    print()
                try:
                    relation = con.sql(statement.query)
                    if relation is not None:
                        write(relation, form, max_rows)
                except duckdb.Error as error:
                    raise QueryFailed(f"query failed: {one_line(error)}") from None
        finally:
            con.close()


def statements(con: duckdb.DuckDBPyConnection, text: str) -> list:
    """The statements of a query text, as DuckDB's parser splits them."""
    try:
        return con.extract_statements(text)
    except duckdb.Error as error:
        raise QueryFailed(f"query failed: {one_line(error)}") from None


def write(relation: duckdb.DuckDBPyRelation, form: str, max_rows: int) -> None:
    """Print a result as a table (DuckDB's own), CSV, a JSON array of objects, or Markdown."""
    if form == "table":
        relation.show(
            max_rows=max_rows or sys.maxsize,
            max_width=UNLIMITED_WIDTH,
            max_col_width=UNLIMITED_WIDTH,
            null_value="NULL",
        )
    elif form == "json":
        print("[", end="")
        for number, (row,) in enumerate(rows(as_json(relation))):
            print(("," if number else "") + "\n" + row, end="")
        print("\n]")
    elif form == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(relation.columns)
        writer.writerows(rows(as_text(relation)))
    else:
        write_markdown(relation, max_rows)


def write_markdown(relation: duckdb.DuckDBPyRelation, max_rows: int) -> None:
    """A Markdown table: `|` escaped and line breaks as <br> inside cells, NULL as empty."""

    def cell(value: str | None) -> str:
        text = "" if value is None else value.replace("\\", "\\\\").replace("|", "\\|")
        return text.replace("\r\n", "<br>").replace("\n", "<br>")

    print("| " + " | ".join(cell(name) for name in relation.columns) + " |")
    print("|" + "---|" * len(relation.columns))
    for number, row in enumerate(rows(as_text(relation))):
        if max_rows and number == max_rows:
            print(f"\n({max_rows} rows shown: give --max-rows 0 for all)")
            break
        print("| " + " | ".join(cell(value) for value in row) + " |")


def as_text(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Every column cast to text by DuckDB, as its own printer shows it."""
    alias = unused_name(relation)
    return relation.query(alias, f"select columns(*)::varchar from {alias}")


def as_json(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Each row as one JSON object, written by DuckDB (numbers stay numbers)."""
    alias = unused_name(relation)
    return relation.query(alias, f"select to_json({alias}) from {alias}")


def unused_name(relation: duckdb.DuckDBPyRelation) -> str:
    """A name for the result that none of its columns has (a column would shadow it)."""
    name = "query_result"
    while name in {column.lower() for column in relation.columns}:
        name += "_"
    return name


def rows(relation: duckdb.DuckDBPyRelation) -> Iterator[tuple]:
    """The rows of a result, fetched a batch at a time."""
    for batch in relation.to_arrow_reader(FETCH_ROWS):
        yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)


def one_line(error: Exception) -> str:
    """An error message on one line."""
    return " ".join(str(error).split())
