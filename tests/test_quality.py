"""The quality gate: critical failures keep bulletins or the warehouse out; warnings publish."""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT_DIR, SAMPLE, query
from derive import shift_years

from flows import database, pipeline
from flows.cli import main
from flows.ingest.editions import discover, parse_new, stage_new
from flows.nightly import nightly
from flows.quality.gate import QualityGate, SuitesError, batch_query, html_safe, plain
from flows.warehouse import build as warehouse

pytestmark = pytest.mark.usefixtures("prefect_api")
TIDY = "period,organiser,country,category,channel,returns,share_pct\n"


def replace(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


# Each derived bulletin breaks exactly one critical expectation.
BROKEN = {
    "every_country_resolved": lambda t: replace(t, ("Irak 161", "Atlantis 161")),
    "no_duplicate_observation_per_edition": lambda t: replace(
        t, ("Irak 161", "Irak 161\n\nIrak 161"), ("Andere 677", "Andere 516")
    ),
    "months_within_coverage": lambda t: replace(
        t,
        ("t.e.m. oktober", "t.e.m. september"),
        ("Oktober 182 1 183 251", "Oktober 0 0 0 251"),
        ("totaal 2.567 42 2.609*", "totaal 2.385 41 2.426*"),
    ),
    "months_add_up_to_stated_total": lambda t: replace(
        t, ("Januari 204 9 213 252", "Januari 205 9 214 252")
    ),
    "fedasil_plus_dvz_equals_total": lambda t: replace(
        t,
        ("Januari 204 9 213 252", "Januari 205 9 213 252"),
        ("Februari 270 7 277 305", "Februari 269 7 277 305"),
    ),
    "countries_add_up_to_stated_total": lambda t: replace(t, ("Irak 161", "Irak 162")),
    "top_countries_do_not_exceed_total": lambda t: replace(
        t, ("Andere 677\n\ntotaal 2.609", "totaal 1.900")
    ),
    "categories_add_up_to_stated_total": lambda t: replace(
        t, ("Asielzoekers 488 15", "Asielzoekers 489 15")
    ),
    "shares_add_up_to_100": lambda t: replace(t, ("Terugkeerpartners 42", "Terugkeerpartners 52")),
}
BROKEN_TIDY = {
    "no_negative_counts": "2019,,,,,-3,\n",
    "shares_not_negative": "2019,FEDASIL,,,,,-5\n",
    "shares_at_most_100": "2019,FEDASIL,,,,,150\n",
    "every_category_resolved": "2019,,,NOMAD,,3,\n",
    "every_channel_resolved": "2019,,,,PIGEON,,100\n",
    "every_organiser_resolved": "2019,IOM,,,,3,\n",
}


def critical_failures(report) -> set[str]:
    return {f.expectation for f in report.findings if not f.success and f.severity == "critical"}


def digests(warehouse_path: Path) -> dict[str, str]:
    """The sha256 of each published file: warehouse, manifest, exports and Data Docs."""
    data = warehouse_path.parent
    members = [*data.glob("marts/**/*"), *data.glob("gx/**/*"), data / "publication.json"]
    files = [warehouse_path, *sorted(path for path in members if path.is_file())]
    assert any("data_docs" in path.parts for path in files)
    return {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize("expectation", sorted(BROKEN))
def test_a_bulletin_breaking_a_critical_expectation_is_rejected(
    expectation: str, raw_dir: Path, tmp_path: Path, sample_text: str
) -> None:
    (raw_dir / "broken.txt").write_text(BROKEN[expectation](sample_text), encoding="utf-8")
    report = nightly(raw_dir=str(raw_dir), warehouse=str(tmp_path / "w.duckdb"))
    assert [r.file for r in report.rejected] == ["broken.txt"]
    assert report.rejected[0].check == expectation
    assert expectation in str(report.rejected[0])
    assert str(report.rejected[0]).startswith("broken.txt, line ")
    assert critical_failures(report) == {expectation}
    # The good sample beside it is still published; the run says something was rejected.
    assert report.published and report.exit_code == 1
    assert [e.edition["file_name"] for e in report.loaded] == [SAMPLE.name]


@pytest.mark.parametrize("expectation", sorted(BROKEN_TIDY))
def test_a_tidy_file_breaking_a_critical_expectation_is_rejected(
    expectation: str, raw_dir: Path, tmp_path: Path
) -> None:
    (raw_dir / "typed.csv").write_text(TIDY + BROKEN_TIDY[expectation], encoding="utf-8")
    report = nightly(raw_dir=str(raw_dir), warehouse=str(tmp_path / "w.duckdb"))
    assert [(r.file, r.check, r.line) for r in report.rejected] == [("typed.csv", expectation, 2)]
    assert critical_failures(report) == {expectation}


def test_a_tidy_rejection_names_the_row_as_typed_and_its_figure(
    raw_dir: Path, tmp_path: Path
) -> None:
    (raw_dir / "typed.csv").write_text(TIDY + "2019,,,,,-3,\n2019,FEDASIL,Roemenië,,,-7,\n")
    report = nightly(raw_dir=str(raw_dir), warehouse=str(tmp_path / "w.duckdb"))
    assert [str(r) for r in report.rejected] == [
        "typed.csv, line 2: fails no_negative_counts: MONTHLY 2019: '_T' is -3 (line 2);"
        " COUNTRY 2019: 'FEDASIL, Roemenië' is -7 (line 3)"
    ]


def test_rejection_names_the_line_and_the_figures(raw_dir: Path, sample_text: str) -> None:
    (raw_dir / "broken.txt").write_text(BROKEN["countries_add_up_to_stated_total"](sample_text))
    report = nightly(raw_dir=str(raw_dir), warehouse=str(raw_dir.parent / "w.duckdb"))
    assert str(report.rejected[0]) == (
        "broken.txt, line 136: fails countries_add_up_to_stated_total:"
        " 2018-01/2018-10: stated 2609, computed 2610 (line 136)"
    )


def test_the_sample_publishes_with_its_known_warnings(raw_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "w.duckdb"
    report = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert report.published and report.exit_code == 0
    con = duckdb.connect(str(target), read_only=True)
    rows = con.sql(
        "select suite, expectation, severity, bulletin, observed from marts.data_quality"
        " where not success order by all"
    ).fetchall()
    columns = [c[0] for c in con.sql("select * from marts.data_quality").description]
    con.close()
    assert columns == [
        "run_id", "checked_at", "suite", "expectation", "severity", "success", "observed",
        "bulletin", "details",
    ]  # fmt: skip
    assert [row[:4] for row in rows] == [
        ("bulletin_totals", "category_total_agrees_with_other_tables", "warning", SAMPLE.name),
        ("bulletin_totals", "published_shares_agree_with_counts", "warning", SAMPLE.name),
        ("freshness", "newest_edition_is_fresh", "warning", SAMPLE.name),
    ]  # each once, with its file: no mart-level copy of a bulletin's own disagreement
    assert rows[0][4] == (
        "MONTHLY 2018-01/2018-10: stated 2609, computed 2713 (line 97);"
        " COUNTRY 2018-01/2018-10: stated 2609, computed 2713 (line 97)"
    )
    assert "Asielzoekers 2018-01/2018-10: stated 15, computed 18 (line 91)" in rows[1][4]
    # Figures that end in October 2018 are stale: a warning, never a reason not to publish.
    assert rows[2][4].startswith("error: the newest edition covers up to 2018-10-31, ")
    docs = report.docs
    assert docs and docs.exists() and docs.is_relative_to(tmp_path)
    assert "bulletin_totals" in docs.read_text()
    summary = report.terminal()
    assert "## Warnings (published with the data)" in summary
    assert "category_total_agrees_with_other_tables" in summary
    assert summary.count("published_shares_agree_with_counts") == 1


def test_a_figure_disagreeing_with_another_edition_is_a_warning_on_its_file(
    raw_dir: Path, tmp_path: Path
) -> None:
    # A newer Fedasil file restates a category's share, not its count: the share wins from it,
    # the count from the sample, and the two disagree (30 % against the 18 % the count gives).
    # It restates January's total too, not its organisers: 300 against 204 + 9 in the sample.
    (raw_dir / "share.csv").write_text(
        TIDY.replace("share_pct", "share_pct,source,published_on")
        + "2018-01/2018-10,,,Asielzoekers,,,30,Fedasil,2018-12-01\n"
        + "2018-01,,,,,300,,Fedasil,2018-12-01\n"
    )
    target = tmp_path / "w.duckdb"
    report = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert report.published and report.exit_code == 0, report.markdown()
    rows = query(
        target,
        "select suite, expectation, bulletin, observed from marts.data_quality"
        " where not success and suite like 'marts.%' order by all",
    )
    assert rows == [
        ("marts.monthly_returns", "fedasil_plus_dvz_equals_total", "share.csv",
         "2018-01: stated 300, computed 213"),
        ("marts.returns_by_category", "shares_agree_with_counts_of_other_editions", "share.csv",
         f"2018-01/2018-10 ASYLUM_SEEKER (count of {SAMPLE.name}): stated 30, computed 18"),
    ]  # fmt: skip
    assert report.terminal().count("published_shares_agree_with_counts") == 1


def test_a_broken_core_invariant_blocks_publishing(
    raw_dir: Path, tmp_path: Path, sample_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "w.duckdb"
    assert nightly(raw_dir=str(raw_dir), warehouse=str(target)).published
    before = digests(target)
    build = warehouse.build

    def build_with_a_dangling_key(con: duckdb.DuckDBPyConnection) -> None:
        build(con)
        con.execute(
            "insert into core.fact_returns"
            " select * replace (-1 as country_key) from core.fact_returns limit 1"
        )

    monkeypatch.setattr(warehouse, "build", build_with_a_dangling_key)
    (raw_dir / "next.txt").write_text(sample_text.replace("2018", "2019").replace("2017", "2018"))
    report = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert not report.published and report.exit_code == 1
    assert [f.expectation for f in report.blocking] == ["every_fact_key_found_in_its_dimension"]
    assert "country" in report.blocking[0].observed
    assert digests(target) == before
    assert "a critical check of the new warehouse failed" in report.markdown()
    assert not list(tmp_path.glob(".publish-*"))


def test_when_every_bulletin_is_rejected_nothing_is_published(
    raw_dir: Path, tmp_path: Path, sample_text: str
) -> None:
    target = tmp_path / "w.duckdb"
    assert nightly(raw_dir=str(raw_dir), warehouse=str(target)).published
    before = digests(target)
    for path in raw_dir.iterdir():
        path.unlink()
    (raw_dir / "broken.txt").write_text(BROKEN["countries_add_up_to_stated_total"](sample_text))
    (raw_dir / "empty.txt").write_text("")
    report = nightly(raw_dir=str(raw_dir), warehouse=str(target))
    assert not report.published and report.exit_code == 1
    assert sorted(r.file for r in report.rejected) == ["broken.txt", "empty.txt"]
    assert digests(target) == before


def edited_suites(tmp_path: Path, suite: str, name: str, **kwargs: object) -> Path:
    """A copy of expectations/ with one expectation's arguments changed."""
    folder = tmp_path / "expectations"
    shutil.copytree(PROJECT_DIR / "expectations", folder)
    path = folder / f"{suite}.json"
    document = json.loads(path.read_text())
    for expectation in document["expectations"]:
        if expectation["meta"]["name"] == name:
            expectation["kwargs"] |= kwargs
    path.write_text(json.dumps(document, indent=2))
    return folder


def test_a_tightened_bound_on_disk_rejects_the_sample(raw_dir: Path, tmp_path: Path) -> None:
    folder = edited_suites(tmp_path, "bulletin_observations", "no_negative_counts", min_value=50)
    report = nightly(
        raw_dir=str(raw_dir), warehouse=str(tmp_path / "w.duckdb"), expectations_dir=str(folder)
    )
    assert [(r.check, r.line) for r in report.rejected] == [("no_negative_counts", 34)]
    assert "MONTHLY 2018-01: 'Januari' is 9 (line 34)" in report.rejected[0].reason
    assert not report.published


def test_a_relaxed_bound_on_disk_removes_a_warning(raw_dir: Path, tmp_path: Path) -> None:
    folder = edited_suites(
        tmp_path, "bulletin_totals", "published_shares_agree_with_counts", min_value=-5, max_value=5
    )
    report = nightly(
        raw_dir=str(raw_dir), warehouse=str(tmp_path / "w.duckdb"), expectations_dir=str(folder)
    )
    warned = {(w.suite, w.expectation) for w in report.warnings}
    assert ("bulletin_totals", "published_shares_agree_with_counts") not in warned
    assert ("bulletin_totals", "category_total_agrees_with_other_tables") in warned


@pytest.mark.parametrize(
    "folder", ["missing", "without the core suite", "with an empty suite", "unreadable", "bad"]
)
def test_a_folder_of_suites_that_cannot_check_a_run_is_bad_usage(
    folder: str, raw_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    suites = tmp_path / "suites"
    if folder != "missing":
        shutil.copytree(PROJECT_DIR / "expectations", suites)
    if folder == "without the core suite":
        (suites / "core.json").unlink()
    elif folder == "with an empty suite":
        document = json.loads((suites / "bulletin_totals.json").read_text())
        (suites / "bulletin_totals.json").write_text(json.dumps(document | {"expectations": []}))
    elif folder == "unreadable":
        (suites / "core.json").write_text("{ not json")
    elif folder == "bad":
        document = json.loads((suites / "core.json").read_text())
        document["expectations"][0]["severity"] = "fatal"
        (suites / "core.json").write_text(json.dumps(document))
    target = tmp_path / "w.duckdb"
    status = main(
        [
            "run",
            "--raw-dir",
            str(raw_dir),
            "--warehouse",
            str(target),
            "--expectations",
            str(suites),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith((str(suites), f"no folder of expectation suites at {suites}"))
    assert not target.exists()
    if folder == "missing":
        # A deployment's run given such a folder fails at once, with the same reason.
        with pytest.raises(SuitesError, match="no folder of expectation suites"):
            nightly(raw_dir=str(raw_dir), warehouse=str(target), expectations_dir=str(suites))


def test_the_command_line_refuses_a_missing_folder_of_suites(raw_dir: Path, tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "voluntary-returns"
    run = subprocess.run(
        [str(command), "run", "--raw-dir", str(raw_dir), "--warehouse", str(tmp_path / "w.duckdb"),
         "--expectations", "/no/such/folder"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (
        "no folder of expectation suites at /no/such/folder; give --expectations a folder of"
        " suites, or leave it out\n"
    )


def test_a_failed_aggregate_expectation_keeps_every_bulletin_of_its_batch_out(
    raw_dir: Path, tmp_path: Path, sample_text: str
) -> None:
    (raw_dir / "next.txt").write_text(shift_years(sample_text, 1))
    folder = tmp_path / "expectations"
    shutil.copytree(PROJECT_DIR / "expectations", folder)
    path = folder / "bulletin_observations.json"
    document = json.loads(path.read_text())
    document["expectations"].append(
        {
            "type": "expect_column_max_to_be_between",
            "kwargs": {"column": "max_returns", "max_value": 1000},
            "severity": "critical",
            "meta": {"name": "no_figure_above_1000"},
        }
    )
    path.write_text(json.dumps(document))
    target = tmp_path / "w.duckdb"
    report = nightly(raw_dir=str(raw_dir), warehouse=str(target), expectations_dir=str(folder))
    assert not report.published and report.exit_code == 1 and not target.exists()
    assert sorted((r.file, r.check) for r in report.rejected) == [
        (SAMPLE.name, "no_figure_above_1000"),
        ("next.txt", "no_figure_above_1000"),
    ]
    assert all(
        r.reason == "fails no_figure_above_1000: observed 5656 (a result of the 2 bulletins"
        " checked together)"
        for r in report.rejected
    )


@pytest.fixture(scope="module")
def observations_batch(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The bulletin_observations batch of the sample and of next year's edition (same figures)."""
    root = tmp_path_factory.mktemp("batch")
    (root / "raw").mkdir()
    shutil.copy(SAMPLE, root / "raw" / SAMPLE.name)
    (root / "raw" / "next.txt").write_text(shift_years(SAMPLE.read_text(encoding="utf-8"), 1))
    editions, _, _ = parse_new(discover(root / "raw").files, root / "cache", root / "new.duckdb")
    stage_new(editions, root / "cache", root / "new.duckdb")
    con = database.connect()
    try:
        pipeline.attach_rows(con, editions, root / "new.duckdb")
        suite = json.loads(
            (PROJECT_DIR / "expectations" / "bulletin_observations.json").read_text()
        )
        return con.sql(batch_query(suite)).df()
    finally:
        con.close()


EVERY = (SAMPLE.name, "next.txt")
TABLES = ["MONTHLY", "HISTORY", "COUNTRY", "CATEGORY", "CHANNEL"]


def on(column: str, failing: dict, passing: dict, named: tuple = EVERY) -> tuple:
    """An expectation on one column: failing kwargs, passing kwargs, the bulletins it fails."""
    return {"column": column, **failing}, {"column": column, **passing}, named


# Each kind of expectation a suite may hold: kwargs that fail on the batch, kwargs that pass, and
# which bulletins the failure names. A failure that lists offending rows names their bulletins;
# one that lists none (a table, a column aggregate, a type that does not exist) names all.
KINDS = {
    "expect_table_row_count_to_be_between": ({"max_value": 10}, {"min_value": 1}, EVERY),
    "expect_table_column_count_to_be_between": ({"max_value": 3}, {"min_value": 3}, EVERY),
    "expect_column_to_exist": ({"column": "max_total"}, {"column": "max_returns"}, EVERY),
    "expect_table_columns_to_match_set": (
        {"column_set": ["file", "subject"], "exact_match": True},
        {"column_set": ["file", "subject"], "exact_match": False},
        EVERY,
    ),
    "expect_column_max_to_be_between": on(
        "max_returns", {"max_value": 1000}, {"max_value": 1_000_000}
    ),
    "expect_column_min_to_be_between": on("min_returns", {"min_value": 10}, {"min_value": 0}),
    "expect_column_mean_to_be_between": on("max_returns", {"max_value": 10}, {"min_value": 0}),
    "expect_column_median_to_be_between": on("max_returns", {"max_value": 10}, {"min_value": 0}),
    "expect_column_sum_to_be_between": on("observations", {"max_value": 10}, {"min_value": 1}),
    "expect_column_stdev_to_be_between": on("max_returns", {"max_value": 1}, {"min_value": 0}),
    "expect_column_unique_value_count_to_be_between": on(
        "file", {"max_value": 1}, {"min_value": 2, "max_value": 2}
    ),
    "expect_column_distinct_values_to_be_in_set": on(
        "table_code", {"value_set": ["MONTHLY"]}, {"value_set": TABLES}
    ),
    "expect_column_most_common_value_to_be_in_set": on(
        "table_code", {"value_set": ["CHANNEL"]}, {"value_set": ["MONTHLY"]}
    ),
    "expect_column_values_to_be_of_type": on("observations", {"type_": "str"}, {"type_": "int64"}),
    "expect_column_values_to_not_match_regex": on(
        "period_code", {"regex": "2019"}, {"regex": "2031"}, ("next.txt",)
    ),
    "expect_column_values_to_be_in_set": on(
        "file", {"value_set": ["next.txt"]}, {"value_set": list(EVERY)}, (SAMPLE.name,)
    ),
    "expect_column_value_lengths_to_be_between": on(
        "file", {"max_value": 10}, {"min_value": 1}, (SAMPLE.name,)
    ),
    "expect_column_values_to_not_be_null": ({"column": "min_returns"}, {"column": "file"}, EVERY),
    "expect_column_pair_values_a_to_be_greater_than_b": (
        {"column_A": "min_returns", "column_B": "max_returns"},
        {"column_A": "max_returns", "column_B": "min_returns", "or_equal": True},
        EVERY,
    ),
    "expect_compound_columns_to_be_unique": (
        {"column_list": ["file", "table_code"]},
        {"column_list": ["file", "subject"]},
        EVERY,
    ),
    "expect_multicolumn_sum_to_equal": (
        {"column_list": ["observations", "months_after_coverage"], "sum_total": 0},
        {"column_list": ["months_after_coverage", "duplicate_observations"], "sum_total": 0},
        EVERY,
    ),
    "expect_select_column_values_to_be_unique_within_record": (
        {"column_list": ["min_returns", "max_returns"]},
        {"column_list": ["file", "subject"]},
        EVERY,
    ),
}


def suite_of(expectations: list[dict]) -> dict:
    """A bulletin suite on the observations batch."""
    meta = json.loads((PROJECT_DIR / "expectations" / "bulletin_observations.json").read_text())
    return {"name": "kinds", "meta": meta["meta"], "expectations": expectations}


def test_every_kind_of_expectation_fails_the_bulletins_it_names_and_passes(
    observations_batch: pd.DataFrame, tmp_path: Path
) -> None:
    # Every column named is in the batch (but the one that must be missing): each failure comes
    # from the figures, not from a column the batch no longer has.
    arguments = [kwargs for failing, passing, _ in KINDS.values() for kwargs in (failing, passing)]
    named = {kwargs[key] for kwargs in arguments for key in ("column", "column_A", "column_B")
             if key in kwargs}  # fmt: skip
    named |= {column for kwargs in arguments for column in kwargs.get("column_list", [])}
    assert named - {"max_total"} <= set(observations_batch.columns)
    gate = QualityGate(PROJECT_DIR / "expectations", tmp_path, "kinds")
    failing = [
        {"type": kind, "kwargs": kwargs, "meta": {"name": kind}}
        for kind, (kwargs, _, _) in KINDS.items()
    ]
    # Expectations Great Expectations cannot build fail too, instead of dropping out unseen.
    failing += [
        {"type": "expect_column_values_to_be_magic", "kwargs": {"column": "file"},
         "meta": {"name": "unknown_type"}},
        {"type": "expect_column_max_to_be_between", "kwargs": {"max_value": 1},
         "meta": {"name": "no_column"}},
    ]  # fmt: skip
    findings = gate.validate(suite_of(failing), observations_batch, per_bulletin=True)
    failed = {}
    for finding in findings:
        assert finding.severity == "critical"
        if not finding.success:
            failed.setdefault(finding.expectation, set()).add(finding.bulletin)
    expected = {kind: set(named) for kind, (_, _, named) in KINDS.items()}
    assert failed == expected | {"unknown_type": set(EVERY), "no_column": set(EVERY)}
    passing = [
        {"type": kind, "kwargs": kwargs, "meta": {"name": kind}}
        for kind, (_, kwargs, _) in KINDS.items()
    ]
    findings = gate.validate(suite_of(passing), observations_batch, per_bulletin=True)
    assert {f.expectation for f in findings} == set(KINDS)
    assert [(f.expectation, f.observed) for f in findings if not f.success] == []


def test_a_critical_failure_of_a_warehouse_suite_blocks_even_when_it_names_a_file(
    raw_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "expectations"
    shutil.copytree(PROJECT_DIR / "expectations", folder)
    suite = {
        "name": "marts.months_by_file",
        "meta": {
            "layer": "warehouse",
            "per_file": True,
            "batch_query": "select bulletin as file, count(*) as months, min(month)::varchar"
            " as subject from marts.monthly_returns group by all",
            "index_columns": ["file", "subject"],
        },
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "months", "max_value": 12},
                "severity": "critical",
                "meta": {"name": "at_most_a_year_of_months_per_file"},
            }
        ],
    }
    (folder / "marts.months_by_file.json").write_text(json.dumps(suite))
    target = tmp_path / "w.duckdb"
    report = nightly(raw_dir=str(raw_dir), warehouse=str(target), expectations_dir=str(folder))
    assert not report.published and report.exit_code == 1 and not target.exists()
    assert [(f.expectation, f.bulletin) for f in report.blocking] == [
        ("at_most_a_year_of_months_per_file", SAMPLE.name)
    ]


def test_html_safe_escapes_every_text_of_a_batch_as_html_escape_does() -> None:
    labels = ["<script>alert('x')</script>", "Fedasil & DVZ", "a > b &amp;", None, "plain"]
    frame = duckdb.execute(
        "select unnest($1::varchar[]) as label, null::varchar as empty,"
        " 7 as figure, ['<b>'] as list",
        [labels],
    ).df()
    safe = html_safe(frame)
    assert safe["label"].tolist()[:3] == [
        "&lt;script&gt;alert('x')&lt;/script&gt;",
        "Fedasil &amp; DVZ",
        "a &gt; b &amp;amp;",
    ]
    expected = [html.escape(label, quote=False) if label else label for label in labels]
    assert [None if pd.isna(v) else v for v in safe["label"]] == expected
    assert safe["empty"].isna().all() and safe["figure"].tolist() == [7] * 5
    assert [list(value) for value in safe["list"]] == [["<b>"]] * 5  # not a text: as it was
    assert [plain({"label": value})["label"] for value in safe["label"]][:3] == labels[:3]


def test_the_core_check_counts_each_fact_row_given_twice(
    published_sample: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "w.duckdb"
    shutil.copy(published_sample, copy)
    core = (warehouse.SQL_DIR / "checks" / "core.sql").read_text()
    with duckdb.connect(str(copy)) as con:

        def repeated() -> int:
            [(observed,)] = con.execute(
                f"select observed from ({core}) where check_name = 'fact_observation_unique'"
            ).fetchall()
            return observed

        assert repeated() == 0
        con.execute("insert into core.fact_returns select * from core.fact_returns limit 2")
        con.execute("insert into core.fact_returns select * from core.fact_returns limit 1")
        assert repeated() == 3
