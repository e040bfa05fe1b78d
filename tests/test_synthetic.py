"""The generator of synthetic inputs: its editions parse right and pass the bulletin checks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import PROJECT_DIR

from flows import pipeline, synthetic
from flows.ingest.editions import discover, parse_new, stage_new
from flows.quality.gate import QualityGate


@pytest.mark.parametrize(
    ("year", "month", "countries"),
    [(2031, 4, ["Kosovo", "Wit-Rusland", "Afghanistan"]), (1995, 12, 25), (2060, 1, 3)],
)
def test_generated_editions_parse_and_pass_their_checks(
    tmp_path: Path, year: int, month: int, countries: int | list[str]
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "synthetic.txt").write_text(synthetic.bulletin(year, month, countries, seed=7))
    rows = tmp_path / "new.duckdb"
    editions, rejected, _ = parse_new(discover(raw).files, tmp_path / "cache", rows)
    assert rejected == []
    assert stage_new(editions, tmp_path / "cache", rows) == 1
    edition = editions[0].edition
    assert (edition["report_year"], edition["coverage_end"]) == (year, f"{year}-{month:02d}")
    con = duckdb.connect()
    pipeline.attach_rows(con, editions, rows)
    staged = con.sql("select * from staged_observations").pl()
    con.close()
    named = staged.filter(
        pl.col("table_code") == "COUNTRY", ~pl.col("country_code").is_in(["_O", "_T"])
    )
    assert len(named) == (countries if isinstance(countries, int) else len(countries))
    if isinstance(countries, list):
        assert set(named["country_code"]) == {"XK", "BY", "AF"}
    months = staged.filter(pl.col("table_code") == "MONTHLY", pl.col("period_grain") == "month")
    assert months.filter(pl.col("period_start").dt.year() == year).height == 3 * month
    gate = QualityGate(PROJECT_DIR / "expectations", tmp_path, "test-run")
    checked = pipeline.check_bulletins(editions, gate, rows)
    assert checked.rejected == []
    assert [f.expectation for f in checked.findings if not f.success] == []


def test_tidy_file_at_the_full_grain(tmp_path: Path) -> None:
    path = synthetic.write_tidy(tmp_path / "big.csv", 20_000, seed=1)
    con = duckdb.connect()
    rows = con.sql(
        f"select count(*), count(distinct (period, organiser, country, category, channel)),"
        f" min(period), count(distinct country) from read_csv('{path}', all_varchar=true)"
    ).fetchall()
    assert rows == [(20_000, 20_000, "2000-01", 60)]
