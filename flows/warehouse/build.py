"""Building the star schema and the marts into a new DuckDB file, from SQL files in sql/."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pycountry
import yaml

from flows import reference
from flows.database import arrow, connect
from flows.ingest.raw_file import RAW_SCHEMA

SQL_DIR = Path(__file__).resolve().parent.parent.parent / "sql"
DICTIONARY = SQL_DIR / "dictionary.yml"
SCHEMAS = ("raw", "staging", "core", "marts")
# Each layer is built in this order; a file's name is its table's name.
CORE_TABLES = (
    "dim_period",
    "dim_organiser",
    "dim_country",
    "dim_category",
    "dim_channel",
    "dim_source_table",
    "dim_source",
    "dim_bulletin",
    "dim_footnote",
    "fact_returns",
    "edition_figures",
    "winning_figures",
    "period_totals",
)
MART_TABLES = (
    "monthly_returns",
    "annual_returns",
    "returns_by_country",
    "returns_by_category",
    "returns_by_channel",
    "revisions",
)


def open_new(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to the new warehouse file, which holds only the staged rows of the run's
    editions (`staging.observations`, written while they were parsed; see editions.open_rows)."""
    con = connect()
    con.execute("attach ? as warehouse", [str(path)])
    con.execute("use warehouse")
    # One deterministic surrogate key for every dimension: stable from run to run.
    con.execute(
        "create temp macro surrogate_key(dimension, code) as"
        " (md5_number_upper(dimension || '|' || code) >> 1)::bigint"
    )
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    return con


def register_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Code lists as views named reference_<dimension>, read from data/reference."""
    for name in (*reference.CODE_LISTS, "month"):
        con.register(
            f"reference_{name}", arrow(pl.read_csv(reference.REFERENCE_DIR / f"{name}.csv"))
        )
    countries = pl.DataFrame(
        [
            {"country_code": code, **{f"name_{k}": v for k, v in names.items()}}
            for code, names in reference.country_names().items()
        ]
    ).with_columns(
        is_iso_3166=pl.col("country_code").is_in([c.alpha_2 for c in pycountry.countries])
    )
    con.register("reference_country", arrow(countries))
    con.register("reference_hierarchy", arrow(hierarchy()))


def hierarchy() -> pl.DataFrame:
    """Each code of the organiser, category and channel lists with its top-level ancestor
    (the code just under `_T`), how many codes that ancestor has under it (`top_parts`), and
    how many codes are at the top level of its list (`top_codes`).

    Code lists are hierarchical, as in SDMX: category.csv gives each code a parent_code.
    """
    rows = []
    for dimension in ("organiser", "category", "channel"):
        parents = {
            row[f"{dimension}_code"]: row.get("parent_code") or "_T"
            for row in reference.code_list(dimension)
        }
        parents.pop("_T", None)
        tops = [code for code, parent in parents.items() if parent == "_T"]
        for code in parents:
            top = code
            for _ in parents:  # at most as many steps as codes, even in a faulty list
                if parents.get(top, "_T") == "_T":
                    break
                top = parents[top]
            rows.append((dimension, code, top, len(tops)))
    frame = pl.DataFrame(rows, schema=["dimension", "code", "top_code", "top_codes"], orient="row")
    parts = (pl.col("code") != pl.col("top_code")).sum().over("dimension", "top_code")
    return frame.with_columns(top_parts=parts)


def build(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the staged rows of the accepted editions, copy their footnotes from the attached
    store, then build core and mart tables.

    Each observation is written once, staged, when it is parsed: `raw.observations` is the view
    of its cells as parsed (a staged row keeps them), so millions of rows are not written twice.
    """
    register_reference(con)
    con.execute(
        "delete from staging.observations where sha256 not in (select sha256 from accepted)"
    )
    con.execute("create table raw.bulletins as select * from accepted order by file_name")
    con.execute(
        "create table raw.footnotes as"
        " select * from store.footnotes semi join accepted using (sha256)"
    )
    con.execute(
        f"create view raw.observations as select sha256, {', '.join(RAW_SCHEMA)}"
        " from staging.observations"
    )
    for schema, tables in (("core", CORE_TABLES), ("marts", MART_TABLES)):
        for table in tables:
            query = (SQL_DIR / schema / f"{table}.sql").read_text()
            con.execute(f"create table {schema}.{table} as {query}")


def write_run_log(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    fingerprint: str,
    rejected: list[dict],
    editions: int,
) -> None:
    """Record the run that built this file: its inputs' digest and the bulletins it kept out."""
    rejections = pl.DataFrame(
        rejected,
        schema={
            "file": pl.String,
            "sha256": pl.String,
            "reason": pl.String,
            "line": pl.Int64,
            "check": pl.String,
            "page": pl.Int64,
        },
    )
    con.register("rejections_frame", arrow(rejections))
    con.execute(
        "create table marts.rejected_bulletins as"
        ' select file, sha256, page, line, reason, "check" from rejections_frame order by file'
    )
    con.execute(
        "create table marts.publication as select ? as run_id, now() as built_at,"
        " ? as inputs_fingerprint, ? as editions, ? as rejected_files",
        [run_id, fingerprint, editions, len(rejected)],
    )


def write_quality(con: duckdb.DuckDBPyConnection, results: pl.DataFrame) -> None:
    """Store the run's expectation results as marts.data_quality."""
    con.register("quality_results", arrow(results))
    query = (SQL_DIR / "marts" / "data_quality.sql").read_text()
    con.execute(f"create or replace table marts.data_quality as {query}")
    describe(con, "marts.data_quality")


def describe(con: duckdb.DuckDBPyConnection, only: str | None = None) -> None:
    """Comment the core and mart tables of the current database, and their columns, from the
    data dictionary (sql/dictionary.yml); `only` names one table ("marts.data_quality").

    Columns the dictionary does not describe are left bare (a test finds them), and entries for
    tables or columns that do not exist are skipped, so that a stale entry never stops a build.
    """
    dictionary = yaml.safe_load(DICTIONARY.read_text(encoding="utf-8"))
    shared, tables = dictionary["shared_columns"], dictionary["tables"]
    columns = con.execute(
        "select schema_name || '.' || table_name, column_name from duckdb_columns()"
        " where database_name = current_database() and schema_name in ('core', 'marts')"
        " order by schema_name, table_name, column_index"
    ).fetchall()
    for table in dict.fromkeys(name for name, _ in columns):
        if table not in tables or only not in (None, table):
            continue
        entry = tables[table]
        con.execute(f"comment on table {identifier(table)} is {literal(entry['description'])}")
        own = entry.get("columns", {})
        for name, column in columns:
            if name == table and (text := own.get(column) or shared.get(column)):
                con.execute(f"comment on column {identifier(table, column)} is {literal(text)}")


def identifier(table: str, column: str | None = None) -> str:
    """A schema.table (and column) quoted by DuckDB itself."""
    return str(duckdb.ColumnExpression(*table.split("."), *([column] if column else [])))


def literal(text: str) -> str:
    """A string literal quoted by DuckDB itself (COMMENT ON takes no bind parameters)."""
    return str(duckdb.ConstantExpression(text))


def close(con: duckdb.DuckDBPyConnection) -> None:
    """Checkpoint and close the new file, so it is complete on disk before it is renamed."""
    con.execute("use memory")
    con.execute("checkpoint warehouse")
    con.execute("detach warehouse")
    con.close()
