"""Sources and vintages: a corpus of small files that disagree, one winner per figure.

One run loads the sample beside some twenty tidy files typed in from other publications (press
releases, parliamentary answers, IOM, partial lists, single shares, wordings of their own), and
a few bad ones. The tests assert the winners, marts.revisions, the warnings, the rejections, and
that every mart agrees with every other over every period.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE, query

from flows.nightly import nightly

pytestmark = pytest.mark.usefixtures("prefect_api")
DISAGREEMENTS = Path(__file__).resolve().parent.parent / "sql" / "checks" / "disagreements.sql"

HEADER = "period,organiser,country,category,channel,returns,share_pct"
SOURCED = HEADER + ",source,published_on"
MONTHS = [f"2005-{month:02d}" for month in range(1, 13)]


def tidy(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


def full_grain_2005() -> str:
    """Twelve months at the full grain: organiser x country x category x channel."""
    counts = {("FEDASIL", "UA"): 10, ("FEDASIL", "GE"): 5, ("DVZ", "UA"): 1, ("DVZ", "GE"): 0}
    rows = [
        f"{month},{organiser},{country},IRREGULAR_MIGRANT,RETURN_DESK,{count},"
        for month in MONTHS
        for (organiser, country), count in counts.items()
    ]
    return tidy(HEADER, *rows)


def broken_bulletin() -> str:
    """The sample with two destination countries no list knows."""
    text = SAMPLE.read_text(encoding="utf-8")
    return text.replace("Irak 161", "Atlantis 161").replace("Albanië 72", "Narnia 72")


CORPUS = {
    # 1. totals of another publication, and a country against them
    "ytd-totals.csv": tidy(HEADER, "2012,,,,,5644,", "2013,,,,,4707,", "2013,,RO,,,105,"),
    # 2. two files of the same coverage and no source: nothing separates them
    "iraq-a.csv": tidy(HEADER, "2015,,IQ,,,1014,"),
    "iraq-b.csv": tidy(HEADER, "2015,,IQ,,,1023,"),
    # 3. top-N lists of two sources
    "top-brazil.csv": tidy(HEADER, "2024,,BR,,,1000,"),
    "top-syria.csv": tidy(HEADER, "2024,,SY,,,6,"),
    # 4. counts, then shares of two categories published later
    "categories-2011-counts.csv": tidy(
        SOURCED,
        "2011,,,ASYLUM_SEEKER,,528,,,2012-03-01",
        "2011,,,REJECTED_ASYLUM_SEEKER,,1155,,,",
        "2011,,,IRREGULAR_MIGRANT,,1675,,,",
    ),
    "categories-2011-shares.csv": tidy(
        SOURCED, "2011,,,ASYLUM_SEEKER,,,50,,2013-01-01", "2011,,,IRREGULAR_MIGRANT,,,50,,"
    ),
    # 5. a single share beside the year's total
    "single-share-2018.csv": tidy(HEADER, "2018,,,IRREGULAR_MIGRANT,,,56", "2018,,,,,2994,"),
    # 6. Fedasil and DVZ, no total
    "organisers-2012.csv": tidy(
        HEADER, "2012-01/2012-10,FEDASIL,,,,3862,", "2012-01/2012-10,DVZ,,,,924,"
    ),
    "organisers-2019.csv": tidy(
        HEADER, "2019-01/2019-06,FEDASIL,,,,1500,", "2019-01/2019-06,DVZ,,,,30,"
    ),
    # 7. the parent category, by an alias row; a bracketed label without one is refused
    "parent-category-2016.csv": tidy(
        HEADER,
        "2016,,,Asielzoekers (uitgeprocedeerd en in procedure),,2000,",
        "2016,,,Migranten zonder wettig verblijf,,2267,",
    ),
    "bracket-refused.csv": tidy(HEADER, "2016,,,Uitgeprocedeerde asielzoekers (Dublin),,300,"),
    # 8. names and wordings in use
    "wordings.csv": tidy(
        HEADER,
        "2017,,Russie,,,40,",
        "2017,,Moldavia,,,30,",
        "2017,,Turkey,,,20,",
        "2017,,Biélorussie,,,10,",
        "2016,,Russia,,,35,",
        "2014,,,,Guichet retour,,40",
        "2012,,,migrants sans papiers,,,55",
        "2013,,,migrants en situation irrégulière,,,52",
        "2014,,,demandeurs de protection internationale,,,20",
        "2014,,,personnes en fin de procédure,,,30",
        "2015,,,zonder wettige verblijfsvergunning,,,50",
        "2015,,,persons at the end of their asylum procedure,,,35",
    ),
    # 9. two unknown names: both reported at once, and no duplicate observation
    "two-unknown-countries.csv": tidy(
        HEADER, "2017,,Atlantis,,,5,", "2017,,Narnia,,,6,", "2017,,UA,,,7,"
    ),
    "broken-two-countries.txt": broken_bulletin(),
    # 10. counts as Belgians write them
    "belgian-numbers.csv": tidy(HEADER, "2016,,,,,4.267,", '2016-01/2016-06,,,,,"2 100",'),
    # 11. a count of a channel
    "return-desks-2014.csv": tidy(HEADER, "2014,,,,RETURN_DESK,1134,"),
    # three sources of 2015 and a revision by Fedasil itself
    "parliament-2015.csv": tidy(SOURCED, "2015,,,,,4041,,Kamervraag,2016-02-10"),
    "iom-2015.csv": tidy(SOURCED, "2015,,,,,3870,,IOM,2016-01-15"),
    "fedasil-annual-report-2010.csv": tidy(SOURCED, "2010,,,,,2960,,Fedasil,2019-06-30"),
    # files as other tools write them (issue 12)
    "excel-be.csv": (
        "period;organiser;country;category;channel;returns;share_pct;source;published_on\r\n"
        "2009;;;;;2.659;;Fedasil;31/12/2009\r\n"
        "2009;;;;RETURN_DESK;;44,5;;\r\n"
    ),
    "r-export.csv": (
        '"period","organiser","country","category","channel","returns","share_pct"\n'
        '"2008","","","","","2669",""\n'
    ),
    "twenty-digits.csv": tidy(HEADER, "2007,,,,,12345678901234567890,"),
    "multiline.csv": tidy(
        HEADER + ",footnote", '2006,,,,,100,,"a footnote', 'over two lines"', "", "2006,,,,,many,,"
    ),
    # a parent and its parts that disagree; shares of a partial list over 100
    "parent-not-adding-up.csv": tidy(
        HEADER,
        "2013,,,Asielzoekers (uitgeprocedeerd en in procedure),,1000,",
        "2013,,,ASYLUM_SEEKER,,400,",
        "2013,,,REJECTED_ASYLUM_SEEKER,,500,",
    ),
    "partial-shares-over-100.csv": tidy(
        HEADER, "2013,,,,RETURN_DESK,,70", "2013,,,,RETURN_PARTNER,,40"
    ),
    # two critical checks failed by one file: one rejection names both
    "two-failures.csv": tidy(
        HEADER, "2013,,Atlantis,,,5,", "2013,,,,RETURN_DESK,,70", "2013,,,,RETURN_PARTNER,,40"
    ),
    # full-grain rows of a whole year: its totals are summed
    "full-grain-2005.csv": full_grain_2005(),
}
REJECTED = {
    "bracket-refused.csv": "every_category_resolved",
    "broken-two-countries.txt": "every_country_resolved",
    "two-unknown-countries.csv": "every_country_resolved",
    "twenty-digits.csv": "parse",
    "multiline.csv": "parse",
    "parent-not-adding-up.csv": "categories_add_up_to_their_parent",
    "partial-shares-over-100.csv": "shares_of_a_partial_list_do_not_exceed_100",
    "two-failures.csv": "every_country_resolved, shares_of_a_partial_list_do_not_exceed_100",
}


def sha256(name: str) -> str:
    return hashlib.sha256(CORPUS[name].encode()).hexdigest()


def first_by_sha(*names: str) -> str:
    """Where nothing separates editions, the one whose content hashes first wins."""
    return min(names, key=sha256)


def write_corpus(raw: Path, names: dict[str, str] | None = None) -> None:
    raw.mkdir(parents=True)
    shutil.copy(SAMPLE, raw / SAMPLE.name)
    for name, text in CORPUS.items():
        (raw / (names or {}).get(name, name)).write_bytes(text.encode())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    """The report and the warehouse of one run over the sample and the corpus."""
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder / "raw")
    warehouse = folder / "warehouse.duckdb"
    report = nightly(raw_dir=str(folder / "raw"), warehouse=str(warehouse))
    assert report.published, report.markdown()
    return report, warehouse


def test_the_corpus_loads_and_rejects_each_bad_file_once(corpus) -> None:
    report, warehouse = corpus
    assert len(CORPUS) >= 20
    rejected = {r.file: r for r in report.rejected}
    assert {file: r.check for file, r in rejected.items()} == REJECTED
    assert len(report.loaded) == len(CORPUS) + 1 - len(REJECTED)
    assert str(rejected["twenty-digits.csv"]) == (
        "twenty-digits.csv, line 2: returns '12345678901234567890' has more than 15 digits:"
        " no count is that large"
    )
    assert str(rejected["multiline.csv"]) == (
        "multiline.csv, line 5: returns 'many' is not a whole number"
    )
    shares = rejected["partial-shares-over-100.csv"]
    assert shares.reason.endswith(
        "CHANNEL 2013: the shares published (RETURN_DESK, RETURN_PARTNER, a partial list)"
        " add up to 110.0, more than 100 (line 2)"
    )
    assert str(rejected["two-failures.csv"]) == (
        "two-failures.csv, line 2: fails every_country_resolved: no country code for 'Atlantis'"
        " (line 2); fails shares_of_a_partial_list_do_not_exceed_100: CHANNEL 2013: the shares"
        " published (RETURN_DESK, RETURN_PARTNER, a partial list) add up to 110.0, more than 100"
        " (line 3)"
    )
    assert "'Uitgeprocedeerde asielzoekers (Dublin)' (line 2)" in str(
        rejected["bracket-refused.csv"]
    )
    # The sources are recorded on every edition.
    editions = dict(query(warehouse, "select file_name, source_code from core.dim_bulletin"))
    assert editions[SAMPLE.name] == "FEDASIL"
    assert editions["parliament-2015.csv"] == "PARLIAMENT"
    assert editions["excel-be.csv"] == "FEDASIL"
    assert editions["r-export.csv"] == "UNKNOWN"


def test_every_unresolved_label_in_one_rejection_and_no_spurious_duplicate(corpus) -> None:
    report, _ = corpus
    rejected = {r.file: r for r in report.rejected}
    assert str(rejected["two-unknown-countries.csv"]) == (
        "two-unknown-countries.csv, line 2: fails every_country_resolved:"
        " no country code for 'Atlantis' (line 2), 'Narnia' (line 3)"
    )
    lines = broken_bulletin().splitlines()
    atlantis, narnia = (lines.index(row) + 1 for row in ("Atlantis 161", "Narnia 72"))
    assert rejected["broken-two-countries.txt"].reason == (
        "fails every_country_resolved: no country code for"
        f" 'Atlantis' (line {atlantis}), 'Narnia' (line {narnia})"
    )
    failed = {(f.bulletin, f.expectation) for f in report.findings if not f.success}
    assert ("two-unknown-countries.csv", "no_duplicate_observation_per_edition") not in failed
    assert ("broken-two-countries.txt", "no_duplicate_observation_per_edition") not in failed


def test_one_answer_per_year_in_every_mart(corpus) -> None:
    # Input 1: the bulletin (Fedasil) wins over a file without a source, in every mart.
    _, warehouse = corpus
    annual = {
        year: rest
        for year, *rest in query(
            warehouse,
            "select year, returns, returns_fedasil, returns_dvz, months_covered, is_derived,"
            " bulletin from marts.annual_returns",
        )
    }
    assert annual[2012] == [5656, None, None, 12, False, SAMPLE.name]
    assert annual[2013] == [4585, None, None, 12, False, SAMPLE.name]
    assert query(
        warehouse,
        "select returns, share_pct, rank, rank_source, period_total, bulletin"
        " from marts.returns_by_country where period_code = '2013'",
    ) == [(105, 2.3, 1, "ytd-totals.csv", 4585, "ytd-totals.csv")]
    # Three sources of 2015: Fedasil's own figure wins; a revision by Fedasil itself wins by
    # its newer publication.
    assert annual[2015][0] == 4053 and annual[2010][:1] == [2960]
    assert annual[2010][-1] == "fedasil-annual-report-2010.csv"
    # A year from twelve months of full-grain rows; a year to date from Fedasil and DVZ.
    assert annual[2005] == [192, 180, 12, 12, True, "full-grain-2005.csv"]
    assert annual[2019] == [1530, 1500, 30, 6, True, "organisers-2019.csv"]
    # A full-year total beats the bulletin's year to date.
    assert annual[2018] == [2994, None, None, 12, False, "single-share-2018.csv"]


def test_file_names_decide_nothing(corpus, tmp_path: Path) -> None:
    # Input 2: nothing separates the two files; the content decides, whatever their names.
    _, warehouse = corpus
    winner = first_by_sha("iraq-a.csv", "iraq-b.csv")
    figures = {"iraq-a.csv": 1014, "iraq-b.csv": 1023}
    iraq = "select returns, bulletin from marts.returns_by_country where period_code = '2015'"
    assert query(warehouse, iraq) == [(figures[winner], winner)]
    swapped = {"iraq-a.csv": "iraq-b.csv", "iraq-b.csv": "iraq-a.csv"}
    swapped |= {"top-brazil.csv": "top-syria.csv", "top-syria.csv": "top-brazil.csv"}
    write_corpus(tmp_path / "raw", swapped)
    renamed = tmp_path / "warehouse.duckdb"
    assert nightly(raw_dir=str(tmp_path / "raw"), warehouse=str(renamed)).published
    assert query(renamed, iraq) == [(figures[winner], swapped[winner])]
    ranks = "select country_code, returns, rank from marts.returns_by_country order by all"
    assert query(renamed, ranks) == query(warehouse, ranks)
    assert query(
        renamed, "select * exclude (bulletin, winning_bulletin, sha256) from marts.revisions"
    ) == query(
        warehouse, "select * exclude (bulletin, winning_bulletin, sha256) from marts.revisions"
    )


def test_ranks_within_the_winning_list_only(corpus) -> None:
    # Input 3: each file is a top-N list of its own; only the winning list ranks.
    _, warehouse = corpus
    winner = first_by_sha("top-brazil.csv", "top-syria.csv")
    code = {"top-brazil.csv": "BR", "top-syria.csv": "SY"}[winner]
    rows = query(
        warehouse,
        "select country_code, returns, rank, rank_source from marts.returns_by_country"
        " where period_code = '2024' order by country_code",
    )
    expected = {"BR": 1000, "SY": 6}
    assert rows == [
        (country, expected[country], 1 if country == code else None,
         winner if country == code else None)
        for country in ("BR", "SY")
    ]  # fmt: skip
    # The sample's list keeps its ranks; the Russian list of 2017 ranks on its own.
    assert query(
        warehouse,
        "select country_code, rank from marts.returns_by_country where period_code = '2017'"
        " order by rank",
    ) == [("RU", 1), ("MD", 2), ("TR", 3), ("BY", 4)]


def test_a_newer_share_never_removes_an_older_count(corpus) -> None:
    # Input 4.
    _, warehouse = corpus
    assert query(
        warehouse,
        "select category_code, returns, share_pct, computed_share_pct, period_total, bulletin,"
        " share_bulletin from marts.returns_by_category where period_code = '2011'"
        " order by category_code",
    ) == [
        ("ASYLUM_SEEKER", 528, 50.0, 15.7, 3358, "categories-2011-counts.csv",
         "categories-2011-shares.csv"),
        ("IRREGULAR_MIGRANT", 1675, 50.0, 49.9, 3358, "categories-2011-counts.csv",
         "categories-2011-shares.csv"),
        ("REJECTED_ASYLUM_SEEKER", 1155, None, 34.4, 3358, "categories-2011-counts.csv", None),
    ]  # fmt: skip


def test_a_single_share_and_a_total_publish(corpus) -> None:
    # Input 5: one share of one category is a partial list: it need not add up to 100.
    report, warehouse = corpus
    assert "single-share-2018.csv" in {e.file_name for e in report.loaded}
    assert query(
        warehouse,
        "select category_code, returns, share_pct, period_total from marts.returns_by_category"
        " where period_code = '2018'",
    ) == [("IRREGULAR_MIGRANT", None, 56.0, 2994)]


def test_a_total_from_its_parts(corpus) -> None:
    # Input 6: Fedasil + DVZ give the total no edition publishes.
    _, warehouse = corpus
    assert query(
        warehouse,
        "select organiser_code, returns, is_derived, derivation from core.winning_figures"
        " where period_code = '2012-01/2012-10' and country_code = '_T'"
        " and category_code = '_T' and channel_code = '_T' order by organiser_code",
    ) == [
        ("DVZ", 924, False, None),
        ("FEDASIL", 3862, False, None),
        ("_T", 4786, True, "sum of its complete breakdown by organiser"),
    ]
    # Full-grain rows sum to each month's totals.
    assert (
        query(
            warehouse,
            "select returns, returns_fedasil, returns_dvz, is_derived from marts.monthly_returns"
            " where year = 2005",
        )
        == [(16, 15, 1, True)] * 12
    )


def test_the_parent_category_and_the_wordings_in_use(corpus) -> None:
    # Inputs 7 and 8.
    _, warehouse = corpus
    assert query(
        warehouse,
        "select period_code, category_code, parent_category_code, category_level, returns,"
        " share_pct, period_total from marts.returns_by_category"
        " where period_code in ('2012', '2013', '2014', '2015', '2016')"
        " order by period_code, category_code",
    ) == [
        ("2012", "IRREGULAR_MIGRANT", "_T", 1, None, 55.0, 5656),
        ("2013", "IRREGULAR_MIGRANT", "_T", 1, None, 52.0, 4585),
        ("2014", "ASYLUM_SEEKER", "ASYLUM_SEEKER_OR_REJECTED", 2, None, 20.0, 3587),
        ("2014", "REJECTED_ASYLUM_SEEKER", "ASYLUM_SEEKER_OR_REJECTED", 2, None, 30.0, 3587),
        ("2015", "IRREGULAR_MIGRANT", "_T", 1, None, 50.0, 4053),
        ("2015", "REJECTED_ASYLUM_SEEKER", "ASYLUM_SEEKER_OR_REJECTED", 2, None, 35.0, 4053),
        ("2016", "ASYLUM_SEEKER_OR_REJECTED", "_T", 1, 2000, None, 4267),
        ("2016", "IRREGULAR_MIGRANT", "_T", 1, 2267, None, 4267),
    ]
    assert query(
        warehouse,
        "select country_code, returns from marts.returns_by_country where period_code = '2016'",
    ) == [("RU", 35)]


def test_counts_as_belgians_write_them_and_channel_counts(corpus) -> None:
    # Inputs 10 and 11.
    _, warehouse = corpus
    assert query(
        warehouse,
        "select returns from core.winning_figures where period_code = '2016-01/2016-06'",
    ) == [(2100,)]
    assert query(
        warehouse,
        "select period_code, channel_code, returns, share_pct, computed_share_pct, period_total"
        " from marts.returns_by_channel where period_code in ('2009', '2014') order by all",
    ) == [
        ("2009", "RETURN_DESK", None, 44.5, None, 2659),
        ("2014", "RETURN_DESK", 1134, 40.0, 31.6, 3587),
    ]


def test_revisions_and_disagreements(corpus) -> None:
    _, warehouse = corpus
    iraq = sorted(["iraq-a.csv", "iraq-b.csv"], key=sha256)
    value = {"iraq-a.csv": 1014.0, "iraq-b.csv": 1023.0}
    rows = query(
        warehouse,
        "select period_code, country_code, measure, value, is_winner, kind, decided_by,"
        " bulletin, source_code, published_on::varchar from marts.revisions",
    )
    sample, fedasil_date = SAMPLE.name, "2018-10-31"
    assert rows == [
        ("2010", "_T", "returns", 2960.0, True, "revision", "publication date",
         "fedasil-annual-report-2010.csv", "FEDASIL", "2019-06-30"),
        ("2010", "_T", "returns", 2957.0, False, "revision", "publication date",
         sample, "FEDASIL", fedasil_date),
        ("2012", "_T", "returns", 5656.0, True, "disagreement", "source ranking",
         sample, "FEDASIL", fedasil_date),
        ("2012", "_T", "returns", 5644.0, False, "disagreement", "source ranking",
         "ytd-totals.csv", "UNKNOWN", "2013-12-31"),
        ("2013", "_T", "returns", 4585.0, True, "disagreement", "source ranking",
         sample, "FEDASIL", fedasil_date),
        ("2013", "_T", "returns", 4707.0, False, "disagreement", "source ranking",
         "ytd-totals.csv", "UNKNOWN", "2013-12-31"),
        ("2015", "IQ", "returns", value[iraq[0]], True, "disagreement", "tie",
         iraq[0], "UNKNOWN", "2015-12-31"),
        ("2015", "IQ", "returns", value[iraq[1]], False, "disagreement", "tie",
         iraq[1], "UNKNOWN", "2015-12-31"),
        ("2015", "_T", "returns", 4053.0, True, "disagreement", "source ranking",
         sample, "FEDASIL", fedasil_date),
        ("2015", "_T", "returns", 4041.0, False, "disagreement", "source ranking",
         "parliament-2015.csv", "PARLIAMENT", "2016-02-10"),
        ("2015", "_T", "returns", 3870.0, False, "disagreement", "source ranking",
         "iom-2015.csv", "IOM", "2016-01-15"),
    ]  # fmt: skip


def test_each_disagreement_is_a_warning_naming_both_files(corpus) -> None:
    report, warehouse = corpus
    warnings = {w.bulletin: w.observed for w in report.warnings if w.expectation == "sources_agree"}
    iraq_loser = max(["iraq-a.csv", "iraq-b.csv"], key=sha256)
    iraq_winner = first_by_sha("iraq-a.csv", "iraq-b.csv")
    assert sorted(warnings) == sorted(
        ["ytd-totals.csv", "parliament-2015.csv", "iom-2015.csv", iraq_loser]
    )
    assert warnings["parliament-2015.csv"] == (
        f"2015 total: 4041 (PARLIAMENT) against 4053 in {SAMPLE.name}, which wins:"
        " FEDASIL ranks before PARLIAMENT (data/reference/source.csv)"
    )
    assert (
        f"against {'1014' if iraq_winner == 'iraq-a.csv' else '1023'} in {iraq_winner}"
        in (warnings[iraq_loser])
    )
    assert "which wins: nothing separates them" in warnings[iraq_loser]
    summary = report.terminal()
    assert "parliament-2015.csv: sources_agree (warning) failed: 2015 total: 4041" in summary
    stored = query(
        warehouse,
        "select bulletin from marts.data_quality where expectation = 'sources_agree'"
        " and not success order by bulletin",
    )
    assert [row[0] for row in stored] == sorted(warnings)
    # A revision by the same source is no warning.
    assert "fedasil-annual-report-2010.csv" not in warnings


def test_every_mart_agrees_with_every_other_over_every_period(corpus) -> None:
    _, warehouse = corpus
    mismatches = {
        # every year's figure is the winning total of its period
        "annual_returns": """
            select annual.year from marts.annual_returns as annual
            join core.winning_figures as winners on winners.period_code = annual.period_code
                and winners.organiser_code = '_T' and winners.country_code = '_T'
                and winners.category_code = '_T' and winners.channel_code = '_T'
            where annual.returns is distinct from winners.returns
        """,
        # each month's figure is the winning total of that month
        "monthly_returns": """
            select monthly.month from marts.monthly_returns as monthly
            join core.winning_figures as winners on winners.period_start = monthly.month
                and winners.period_grain = 'month' and winners.organiser_code = '_T'
                and winners.country_code = '_T' and winners.category_code = '_T'
                and winners.channel_code = '_T'
            where monthly.returns is distinct from winners.returns
        """,
    }
    # every breakdown's period_total is the period's winning total (so the annual figure of a
    # year), unless its own edition states that table's total
    tables = {"country": "COUNTRY", "category": "CATEGORY", "channel": "CHANNEL"}
    for dimension, table in tables.items():
        mismatches[dimension] = f"""
            select mart.period_code from marts.returns_by_{dimension} as mart
            left join core.winning_figures as winners on winners.period_code = mart.period_code
                and winners.organiser_code = '_T' and winners.country_code = '_T'
                and winners.category_code = '_T' and winners.channel_code = '_T'
            where mart.period_total is distinct from winners.returns
                and mart.period_code not in (
                    select period_code from core.period_totals
                    where table_code = '{table}' and is_stated_by_table
                )
        """
    # every winner of marts.revisions is the value the marts show
    mismatches["revisions"] = """
        select revisions.period_code from marts.revisions as revisions
        join core.winning_figures as winners on winners.period_code = revisions.period_code
            and winners.organiser_code = revisions.organiser_code
            and winners.country_code = revisions.country_code
            and winners.category_code = revisions.category_code
            and winners.channel_code = revisions.channel_code
        where revisions.is_winner and revisions.value is distinct from
            if(revisions.measure = 'returns', winners.returns, winners.share_pct)
    """
    found = {name: query(warehouse, sql) for name, sql in mismatches.items()}
    assert found == {name: [] for name in mismatches}
    # The sample's category table keeps its own total, as that table states it.
    assert query(
        warehouse,
        "select distinct period_total from marts.returns_by_category"
        " where period_code = '2018-01/2018-10'",
    ) == [(2713,)]
    # Shares computed against the same total everywhere.
    assert query(
        warehouse,
        "select count(*) from marts.returns_by_country"
        " where share_pct is distinct from round(100.0 * returns / period_total, 1)",
    ) == [(0,)]


def test_the_disagreement_check_reads_one_row_per_file(corpus) -> None:
    """Overlapping editions give a value per figure and edition (hundreds of thousands for
    10,000 editions): the check hands Great Expectations one row per file, counting them."""
    _, warehouse = corpus
    batch = query(warehouse, DISAGREEMENTS.read_text())
    files = query(warehouse, "select count(distinct bulletin) from marts.revisions")[0][0]
    contradicted = query(
        warehouse,
        "select bulletin, count(*) from marts.revisions where kind = 'disagreement'"
        " and not is_winner and value != winning_value group by bulletin",
    )
    assert len(batch) == files
    assert {file: disagrees for file, _, _, disagrees, _ in batch if disagrees} == dict(
        contradicted
    )


def test_a_file_with_many_disagreements_names_its_first_five_in_line_order() -> None:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.revisions as select"
        " (2000 + i)::varchar as period_code, make_date(2000 + i, 1, 1) as period_start,"
        " make_date(2000 + i, 12, 31) as period_end, '_T' as organiser_code,"
        " '_T' as country_code, '_T' as category_code, '_T' as channel_code,"
        " 'returns' as measure, (100 + i)::double as value, 99.0 as winning_value,"
        " 'disagreement' as kind, false as is_winner, 'loser.csv' as bulletin,"
        " (20 - i)::integer as source_line, 'IOM' as source_code,"
        " 'winner.csv' as winning_bulletin, 'it ranks first' as reason"
        " from range(7) as t(i)"
    )
    rows = con.sql(DISAGREEMENTS.read_text()).fetchall()
    assert rows == [
        (
            "loser.csv",
            "2006 total",
            14,
            7,
            "; ".join(
                f"{2000 + i} total: {100 + i} (IOM) against 99 in winner.csv, which wins:"
                " it ranks first"
                for i in (6, 5, 4, 3, 2)
            )
            + " and 2 more",
        )
    ]
