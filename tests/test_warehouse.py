"""The published warehouse: marts of the sample, vintages, idempotence, atomic publishing."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, SAMPLE, query
from derive import shift_years

from flows.nightly import nightly

pytestmark = pytest.mark.usefixtures("prefect_api")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def published(raw_dir: Path, tmp_path: Path) -> Path:
    """The warehouse published from the sample alone."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    report = nightly(raw_dir=str(raw_dir), warehouse=str(warehouse))
    assert report.exit_code == 0, report.markdown()
    return warehouse


def test_monthly_returns_of_the_sample(published: Path) -> None:
    rows = query(
        published,
        "select month, year, month_number, returns, returns_fedasil, returns_dvz, bulletin"
        " from marts.monthly_returns",
    )
    bulletin = SAMPLE.name
    last_year = [252, 305, 477, 391, 306, 329, 324, 355, 259, 251, 286, 292]
    this_year = [
        (213, 204, 9),
        (277, 270, 7),
        (272, 270, 2),
        (303, 300, 3),
        (293, 291, 2),
        (263, 261, 2),
        (339, 336, 3),
        (286, 277, 9),
        (180, 176, 4),
        (183, 182, 1),
    ]
    expected = [(dt.date(2017, m, 1), 2017, m, n, None, None, bulletin)
                for m, n in enumerate(last_year, start=1)]  # fmt: skip
    expected += [(dt.date(2018, m, 1), 2018, m, *figures, bulletin)
                 for m, figures in enumerate(this_year, start=1)]  # fmt: skip
    # No row for November and December 2018: never a zero for a month not yet published.
    assert rows == expected


def test_annual_returns_of_the_sample(published: Path) -> None:
    rows = query(
        published,
        "select year, returns, returns_fedasil, returns_dvz, months_covered, is_complete,"
        " footnote_marks, left(footnote, 20) from marts.annual_returns",
    )
    star = "* Dit cijfer omvat n"
    assert rows == [
        (2007, 2593, None, None, 12, True, None, None),
        (2008, 2669, None, None, 12, True, None, None),
        (2009, 2659, None, None, 12, True, None, None),
        (2010, 2957, None, None, 12, True, None, None),
        (2011, 3358, None, None, 12, True, "**", "** De busreizen naar"),
        (2012, 5656, None, None, 12, True, None, None),
        (2013, 4585, None, None, 12, True, "*", star),
        (2014, 3587, None, None, 12, True, "*", star),
        (2015, 4053, None, None, 12, True, "*", star),
        (2016, 4267, None, None, 12, True, "*", star),
        (2017, 3827, None, None, 12, True, "*", star),
        (2018, 2609, 2567, 42, 10, False, "*", star),
    ]


def test_returns_by_country_of_the_sample(published: Path) -> None:
    rows = query(
        published,
        "select period_start, period_end, country_code, country_name_en, country_name_nl,"
        " returns, share_pct, rank, period_total from marts.returns_by_country",
    )
    start, end = dt.date(2018, 1, 1), dt.date(2018, 10, 31)
    assert [row[:2] for row in rows] == [(start, end)] * 11
    assert [(r[2], r[5], r[6], r[7], r[8]) for r in rows] == [
        ("UA", 483, 18.5, 1, 2609), ("GE", 419, 16.1, 2, 2609), ("RO", 305, 11.7, 3, 2609),
        ("BR", 273, 10.5, 4, 2609), ("IQ", 161, 6.2, 5, 2609), ("AL", 72, 2.8, 6, 2609),
        ("AM", 70, 2.7, 7, 2609), ("MK", 51, 2.0, 8, 2609), ("MN", 51, 2.0, 8, 2609),
        ("SK", 47, 1.8, 10, 2609), ("_O", 677, 25.9, None, 2609),
    ]  # fmt: skip
    names = {r[2]: (r[3], r[4]) for r in rows}
    assert names["GE"] == ("Georgia", "Georgië")
    assert names["MK"] == ("North Macedonia", "Noord-Macedonië")
    assert names["UA"] == ("Ukraine", "Oekraïne")
    assert names["_O"] == ("Other countries", "Andere landen")


def test_returns_by_category_and_channel_of_the_sample(published: Path) -> None:
    categories = query(
        published,
        "select category_code, category_name_en, returns, share_pct, computed_share_pct,"
        " period_total from marts.returns_by_category order by returns",
    )
    assert categories == [
        ("ASYLUM_SEEKER", "Asylum seekers", 488, 15.0, 18.0, 2713),
        ("REJECTED_ASYLUM_SEEKER", "Rejected asylum seekers", 788, 30.0, 29.0, 2713),
        ("IRREGULAR_MIGRANT", "Irregular migrants", 1437, 55.0, 53.0, 2713),
    ]
    channels = query(
        published,
        "select channel_code, channel_name_nl, share_pct from marts.returns_by_channel"
        " order by share_pct desc",
    )
    assert channels == [
        ("RETURN_DESK", "Terugkeerloketten", 45.0),
        ("RETURN_PARTNER", "Terugkeerpartners", 42.0),
        ("RECEPTION_NETWORK", "Opvangnetwerk", 13.0),
        ("CLOSED_CENTRE", "Gesloten centra", 0.0),
    ]


def test_fact_keeps_lineage(published: Path) -> None:
    rows = query(
        published,
        "select period.period_code, organiser.organiser_code, fact.returns, fact.grain,"
        " fact.source_line, bulletin.file_name from core.fact_returns as fact"
        " join core.dim_period as period using (period_key)"
        " join core.dim_organiser as organiser using (organiser_key)"
        " join core.dim_bulletin as bulletin using (bulletin_key)"
        " where period.period_code = '2018-03' order by organiser.organiser_code",
    )
    assert rows == [
        ("2018-03", "DVZ", 2, "month by organiser", 38, SAMPLE.name),
        ("2018-03", "FEDASIL", 270, "month by organiser", 38, SAMPLE.name),
        ("2018-03", "_T", 272, "month by organiser", 38, SAMPLE.name),
    ]
    assert query(published, "select count(*) from core.fact_returns") == [(77,)]
    assert query(published, "select count(*) from raw.observations") == [(77,)]


def test_parquet_exports_match_the_marts(published: Path) -> None:
    marts = published.parent / "marts"
    names = sorted(p.stem for p in marts.glob("*.parquet"))
    assert names == [
        "annual_returns", "data_quality", "monthly_returns", "publication",
        "rejected_bulletins", "returns_by_category", "returns_by_channel", "returns_by_country",
        "revisions",
    ]  # fmt: skip
    for name in names:
        exported = f"read_parquet('{marts / name}.parquet')"
        rows = query(published, f"select count(*) from {exported}")
        assert rows == query(published, f"select count(*) from marts.{name}")
        for a, b in ((exported, f"marts.{name}"), (f"marts.{name}", exported)):
            assert query(published, f"select * from {a} except all select * from {b}") == []


CHECK_CONTRACT = PROJECT_DIR.parent / "shared" / "tools" / "check-contract"


@pytest.mark.skipif(not CHECK_CONTRACT.exists(), reason="needs ../shared/tools/check-contract")
def test_the_contract(published: Path) -> None:
    check = subprocess.run(
        [sys.executable, str(CHECK_CONTRACT), str(published)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout
    assert "contract: ok" in check.stdout


def test_the_duckdb_1x_cli_reads_the_published_file(published: Path) -> None:
    cli = Path(sys.executable).parent / "duckdb"
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1."), version.stdout
    result = subprocess.run(
        [str(cli), "-readonly", "-csv", str(published), "-c",
         "select year, returns from marts.annual_returns where year = 2018"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert result.stdout.split() == ["year,returns", "2018,2609"]


def test_newest_edition_wins_in_either_order(tmp_path: Path, sample_text: str) -> None:
    # The next year's edition restates last year's months with other (revised) figures.
    newer = shift_years(sample_text, 1)
    outcomes = []
    for order in (["old", "new"], ["new", "old"]):
        raw = tmp_path / "-".join(order) / "raw"
        raw.mkdir(parents=True)
        warehouse = raw.parent / "warehouse.duckdb"
        for which in order:
            # File names sort against coverage: the order of names must not matter either.
            name = "a-2019-10.txt" if which == "new" else "z-2018-10.txt"
            (raw / name).write_text(newer if which == "new" else sample_text, encoding="utf-8")
            report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
            assert report.published, report.markdown()
        outcomes.append(warehouse)
    for warehouse in outcomes:
        assert query(
            warehouse,
            "select returns, returns_fedasil, returns_dvz, bulletin from marts.monthly_returns"
            " where month = date '2018-01-01'",
        ) == [(252, 204, 9, "a-2019-10.txt")]
        assert query(
            warehouse,
            "select returns, months_covered, is_complete from marts.annual_returns"
            " where year = 2018",
        ) == [(3827, 12, True)]
        # Both vintages stay in the fact.
        assert query(
            warehouse,
            "select bulletin.file_name, fact.returns from core.fact_returns as fact"
            " join core.dim_period as period using (period_key)"
            " join core.dim_organiser as organiser using (organiser_key)"
            " join core.dim_bulletin as bulletin using (bulletin_key)"
            " where period.period_code = '2018-01' and organiser.organiser_code = '_T'"
            " order by 1",
        ) == [("a-2019-10.txt", 252), ("z-2018-10.txt", 213)]
        warning = query(
            warehouse,
            "select severity, bulletin from marts.data_quality where suite ="
            " 'marts.monthly_returns' and expectation = 'fedasil_plus_dvz_equals_total'"
            " and not success",
        )
        assert warning == [("warning", "a-2019-10.txt")]  # the file of the total that wins
    marts = [query(w, "select * from marts.monthly_returns") for w in outcomes]
    assert marts[0] == marts[1]


def test_running_twice_changes_nothing(published: Path, raw_dir: Path, tmp_path: Path) -> None:
    # loaded_at says when an edition was first parsed: it is left out of the comparison.
    queries = {
        table: f"select * from {table} order by all"
        for table in ("core.fact_returns", "core.dim_period", "core.dim_country",
                      "marts.monthly_returns", "marts.annual_returns", "marts.returns_by_country")
    } | {"core.dim_bulletin": "select * exclude (loaded_at) from core.dim_bulletin"}  # fmt: skip
    before = {table: query(published, sql) for table, sql in queries.items()}
    same = nightly(raw_dir=str(raw_dir), warehouse=str(published))
    assert same.unchanged and not same.published and same.exit_code == 0
    assert same.parsed_now == 0 and same.row_counts["core.fact_returns"] == 77
    assert "**Nothing changed**" in same.markdown()
    (published.parent / "marts" / "annual_returns.parquet").unlink()
    again = nightly(raw_dir=str(raw_dir), warehouse=str(published))
    assert again.published and (published.parent / "marts" / "annual_returns.parquet").exists()
    # A rebuild from the same files (here into another folder) gives the same tables and keys.
    other = tmp_path / "other" / "warehouse.duckdb"
    assert nightly(raw_dir=str(raw_dir), warehouse=str(other)).published
    for warehouse in (published, other):
        assert {table: query(warehouse, sql) for table, sql in queries.items()} == before
    assert query(published, "select count(*) from core.dim_bulletin") == [(1,)]


def test_a_reader_keeps_the_old_data_during_a_publish(
    published: Path, raw_dir: Path, sample_text: str
) -> None:
    reader = duckdb.connect(str(published), read_only=True)
    (raw_dir / "next-year.txt").write_text(shift_years(sample_text, 1), encoding="utf-8")
    report = nightly(raw_dir=str(raw_dir), warehouse=str(published))
    assert report.published
    assert reader.sql("select count(*) from core.dim_bulletin").fetchall() == [(1,)]
    reader.close()
    assert query(published, "select count(*) from core.dim_bulletin") == [(2,)]
