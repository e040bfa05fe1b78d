"""The data dictionary: every table and column of core and marts is described in the warehouse."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import query

from flows.warehouse.build import DICTIONARY

LAYERS = "schema_name in ('core', 'marts')"


def test_every_core_and_mart_column_has_a_description(published_sample: Path) -> None:
    bare = query(
        published_sample,
        "select schema_name || '.' || table_name || '.' || column_name from duckdb_columns()"
        f" where {LAYERS} and (comment is null or comment = '') order by all",
    )
    assert bare == [], f"describe these columns in {DICTIONARY.name}: {bare}"
    tables = query(
        published_sample,
        f"select schema_name || '.' || table_name, comment from duckdb_tables() where {LAYERS}",
    )
    assert len(tables) >= 19 and all(comment for _, comment in tables)
    comments = dict(tables)
    assert comments["marts.monthly_returns"].startswith("Voluntary returns per month: one row per")
    described = dict(
        query(
            published_sample,
            "select column_name, comment from duckdb_columns()"
            " where schema_name = 'marts' and table_name = 'returns_by_category'",
        )
    )
    assert described["computed_share_pct"].startswith("Share in percent computed from the counts")
    assert described["period_code"].startswith("Period code: YYYY-MM (a month)")


def test_the_dictionary_describes_only_what_exists(published_sample: Path) -> None:
    dictionary = yaml.safe_load(DICTIONARY.read_text(encoding="utf-8"))
    columns = query(
        published_sample,
        "select schema_name || '.' || table_name, column_name from duckdb_columns()"
        f" where {LAYERS}",
    )
    tables = {table for table, _ in columns}
    assert set(dictionary["tables"]) - tables == set()
    stale = [
        f"{table}.{column}"
        for table, entry in dictionary["tables"].items()
        for column in entry.get("columns", {})
        if (table, column) not in columns
    ]
    assert stale == []
    assert set(dictionary["shared_columns"]) - {column for _, column in columns} == set()


def test_the_marts_name_countries_categories_and_channels_in_three_languages(
    published_sample: Path,
) -> None:
    names = {
        (dimension, code): tuple(rest)
        for dimension in ("country", "category", "channel")
        for code, *rest in query(
            published_sample,
            f"select distinct {dimension}_code, {dimension}_name_nl, {dimension}_name_fr,"
            f" {dimension}_name_en from marts.returns_by_{dimension}",
        )
    }
    assert names[("country", "UA")] == ("Oekraïne", "Ukraine", "Ukraine")
    assert names[("country", "GE")] == ("Georgië", "Géorgie", "Georgia")
    assert names[("country", "_O")][1] == "Autres pays"
    assert names[("category", "IRREGULAR_MIGRANT")] == (
        "Migranten zonder wettig verblijf", "Migrants en séjour irrégulier", "Irregular migrants"
    )  # fmt: skip
    assert names[("channel", "RETURN_DESK")] == (
        "Terugkeerloketten", "Guichets retour", "Return desks"
    )  # fmt: skip
    assert all(all(three) for three in names.values())


def test_the_duckdb_1x_cli_shows_the_descriptions(published_sample: Path) -> None:
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert cli, "the duckdb-cli package (1.5) is a dev dependency"
    done = subprocess.run(
        [cli, "-readonly", "-csv", str(published_sample),
         "select comment from duckdb_columns()"
         " where table_name = 'monthly_returns' and column_name = 'returns_dvz'"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "Immigration Office (DVZ, Office des étrangers)" in done.stdout
    # raw.observations is a view of the staged rows: the 1.x reader runs it too
    counted = subprocess.run(
        [cli, "-readonly", "-csv", "-noheader", str(published_sample),
         "select (select count(*) from raw.observations where returns_text is not null),"
         " (select count(returns) from staging.observations)"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    raw_figures, staged_figures = map(int, counted.stdout.strip().split(","))
    assert raw_figures == staged_figures > 0
