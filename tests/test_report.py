"""The HTML report, as a person sees it: headless Chromium loads it from disk, offline."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from browser import Rendered, render
from bs4 import BeautifulSoup
from conftest import SAMPLE, query

from flows import pipeline, synthetic
from flows.nightly import nightly
from flows.quality.freshness import Freshness, FreshnessLimits
from flows.quality.gate import Finding
from flows.report import charts, notation
from flows.report.figures import QUALITY_SHOWN, REVISIONS_COUNT, REVISIONS_SHOWN
from flows.report.html import write_report
from flows.report.run_report import RunReport

CHARTS = ("monthly", "history", "countries", "categories", "channels")
SCRIPT = "<script>alert('x')</script>"


def text(rendered: Rendered, selector: str) -> str:
    """The visible text of the first element matching a CSS selector, blanks collapsed."""
    element = rendered.dom.select_one(selector)
    assert element is not None, f"no {selector} in the page"
    return " ".join(element.get_text(" ").split())


def bars(rendered: Rendered, chart: str) -> int:
    """How many bars a chart's SVG draws (Vega renders each bar as a path in a rect mark)."""
    svg = rendered.dom.select_one(f"#chart-{chart} svg")
    assert svg is not None, f"chart {chart} has no svg"
    return len(svg.select("g.mark-rect.role-mark path"))


def expected_bars(warehouse: Path, year: int, period: dict[str, str]) -> dict[str, int]:
    """The bars each chart must draw, counted in the warehouse's marts."""
    count = "select count(*) from marts.{} where period_code = ?"
    return {
        "monthly": query(
            warehouse,
            "select count(*) from marts.monthly_returns where year in (?, ?)",
            [year, year - 1],
        )[0][0],
        "history": query(warehouse, "select count(*) from marts.annual_returns")[0][0],
        "countries": query(warehouse, count.format("returns_by_country"), [period["country"]])[0][
            0
        ],
        # published share and the share of the counts, side by side
        "categories": 2
        * query(warehouse, count.format("returns_by_category"), [period["category"]])[0][0],
        "channels": query(warehouse, count.format("returns_by_channel"), [period["channel"]])[0][0],
    }


def latest_periods(warehouse: Path) -> dict[str, str]:
    """The latest period of each breakdown mart (the latest end, then the longest)."""
    return {
        name: query(
            warehouse,
            f"select period_code from marts.returns_by_{name}"
            " order by period_end desc, period_start limit 1",
        )[0][0]
        for name in ("country", "category", "channel")
    }


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file, from its header."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def remote_references(html: str) -> list[str]:
    """Every http(s) URI of the page that is not an XML namespace name (xmlns attributes
    name a namespace; browsers never request them)."""
    without_namespaces = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", html)
    return re.findall(r"https?://[^\s\"'<>)]*", without_namespaces)


def freshness_of(page: Path) -> str:
    """The freshness status line of a written page (its HTML, without a browser)."""
    status = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one(
        "#freshness .status"
    )
    return " ".join(status.get_text(" ").split())


@pytest.fixture(scope="module")
def sample_page(published_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The report the sample's run published, rendered in Chromium, with its screenshot."""
    folder = tmp_path_factory.mktemp("sample-page")
    page = published_sample.parent / "report" / "index.html"
    screenshot = folder / "report.png"
    return page, render(page, folder, screenshot), screenshot


def test_the_page_shows_the_sample_figures(published_sample: Path, sample_page: tuple) -> None:
    _, rendered, _ = sample_page
    headline = text(rendered, "#headline")
    assert "Headline: 2018, January to October" in headline
    # Year to date against the same months of last year, from the marts: 2.609 against 3.249.
    (this_year,), (last_year,) = (
        query(
            published_sample,
            "select sum(returns) from marts.monthly_returns where year = ? and month_number <= 10",
            [year],
        )[0]
        for year in (2018, 2017)
    )
    assert (this_year, last_year) == (2609, 3249)
    figures = [text(rendered, f"#headline .figure:nth-of-type({n}) .value") for n in (1, 2, 3)]
    assert figures == ["2.609", "3.249", notation.change(2609, 3249)]
    assert figures[2] == "\u221219,7 %"  # with a minus sign
    assert "Fedasil 2.567" in headline and "Immigration Office 42" in headline
    # The yearly history: 3.827 for 2017 with its footnote mark, and the footnote's text.
    history = text(rendered, "#chart-history svg")
    assert "3.827*" in history and "3.358**" in history and "2.609*" in history
    assert "* Dit cijfer omvat niet het vrijwillig vertrek" in text(rendered, "#footnotes")
    # Ukraine first among the countries, with its Dutch name and share.
    first = text(rendered, "#countries-table tbody tr")
    assert first == "1 Ukraine Oekraïne Ukraine 483 18,5 %"
    labels = [t.get_text() for t in rendered.dom.select("#chart-countries .role-axis-label text")]
    assert [label for label in labels if not label.isdigit()][:2] == ["Ukraine", "Georgia"]


def test_every_chart_is_drawn(published_sample: Path, sample_page: tuple) -> None:
    _, rendered, _ = sample_page
    expected = expected_bars(published_sample, 2018, latest_periods(published_sample))
    assert {chart: bars(rendered, chart) for chart in CHARTS} == expected
    assert expected == dict(monthly=22, history=12, countries=11, categories=6, channels=4)


def test_the_quality_table_lists_the_warnings_with_file_and_line(
    published_sample: Path, sample_page: tuple
) -> None:
    _, rendered, _ = sample_page
    failed = query(
        published_sample,
        "select expectation, suite from marts.data_quality where not success order by all",
    )
    shown = sorted(
        (row.select_one("td:nth-of-type(3)").contents[0].strip(), row.select_one(".muted").text)
        for row in rendered.dom.select("#quality-failures tr.failed")
        if row.select_one(".badge")
    )
    assert (
        shown
        == failed
        == [
            ("category_total_agrees_with_other_tables", "bulletin_totals"),
            ("newest_edition_is_fresh", "freshness"),
            ("published_shares_agree_with_counts", "bulletin_totals"),
        ]
    )
    offending = [
        " ".join(row.get_text(" ").split())
        for row in rendered.dom.select("#quality-failures table.offending tbody tr")
    ]
    assert f"{SAMPLE.name} 91 difference 3; subject Asielzoekers 2018-01/2018-10;" in (
        " | ".join(offending)
    )
    assert any(line.startswith(f"{SAMPLE.name} 97 ") for line in offending)
    passed = query(published_sample, "select count(*) from marts.data_quality where success")
    assert len(rendered.dom.select("#quality-passed tbody tr")) == passed[0][0]
    assert "None: every file of the raw folder was loaded." in text(rendered, "#quality")


def test_freshness_and_lineage(published_sample: Path, sample_page: tuple) -> None:
    _, rendered, _ = sample_page
    freshness = text(rendered, "#freshness")
    age = (date.today() - date(2018, 10, 31)).days
    assert f"error the newest edition covers up to 2018-10-31, {age} days before" in freshness
    assert "warn after 60 days, error after 120" in freshness
    run_id, digest = query(
        published_sample, "select run_id, inputs_fingerprint from marts.publication"
    )[0]
    lineage = text(rendered, "#lineage")
    assert run_id in lineage and digest in lineage


def test_the_page_requests_nothing(sample_page: tuple, tmp_path: Path) -> None:
    page, rendered, screenshot = sample_page
    html = page.read_text(encoding="utf-8")
    assert remote_references(html) == []
    assert 'xmlns="http://www.w3.org/2000/svg"' in html  # namespaces are there, and allowed
    assert rendered.dom.find_all(["script", "link", "img", "iframe", "object"]) == []
    # The page's policy refuses any load and Chromium reports each refusal: there is none.
    assert rendered.console == []
    assert png_size(screenshot) == (1280, 4000) and screenshot.stat().st_size > 100_000
    # The same check on a page that does load something sees it.
    control = tmp_path / "control.html"
    control.write_text(html.replace("</main>", '<img src="https://example.org/x.png"></main>'))
    console = render(control, tmp_path).console
    assert any("https://example.org/x.png" in message for message in console)
    assert remote_references(control.read_text()) == ["https://example.org/x.png"]


def test_another_year_with_markup_in_its_labels(prefect_api: None, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    edition = synthetic.bulletin(2023, 7, countries=8, seed=3)
    assert "Dublin-conventie." in edition
    (raw / "edition-2023-07.txt").write_text(
        edition.replace("Dublin-conventie.", f"Dublin-conventie {SCRIPT}."), encoding="utf-8"
    )
    bad_name = "<img src=x onerror=alert(1)>.csv"
    (raw / bad_name).write_text(
        f"period,organiser,country,category,channel,returns,share_pct\n2023-01,,{SCRIPT},,,5,\n",
        encoding="utf-8",
    )
    # A parliamentary answer that gives another figure for a year of the edition's history.
    history = next(line for line in edition.splitlines() if line.startswith("2015"))
    stated = int(history.split(":")[1].strip(" *").replace(".", ""))
    (raw / "answer.csv").write_text(
        "period,organiser,country,category,channel,returns,share_pct,source,published_on\n"
        f"2015,,,,,{stated - 12},,PARLIAMENT,2016-02-10\n",
        encoding="utf-8",
    )
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    report = nightly(raw_dir=str(raw), warehouse=str(warehouse))
    assert report.published and [r.file for r in report.rejected] == [bad_name]
    page = report.page
    assert page == warehouse.parent / "report" / "index.html"
    rendered = render(page, tmp_path, tmp_path / "report.png")

    assert "Headline: 2023, January to July" in text(rendered, "#headline")
    this_year, last_year = (
        query(
            warehouse,
            "select sum(returns) from marts.monthly_returns where year = ? and month_number <= 7",
            [year],
        )[0][0]
        for year in (2023, 2022)
    )
    assert (
        this_year
        == query(warehouse, "select returns from marts.annual_returns where year = 2023")[0][0]
    )
    figures = [text(rendered, f"#headline .figure:nth-of-type({n}) .value") for n in (1, 2)]
    assert figures == [notation.count(this_year), notation.count(last_year)]
    name_en, name_nl, name_fr, returns = query(
        warehouse,
        "select country_name_en, country_name_nl, country_name_fr, returns"
        " from marts.returns_by_country where rank = 1 order by country_code limit 1",
    )[0]
    assert text(rendered, "#countries-table tbody tr").startswith(
        f"1 {name_en} {name_nl} {name_fr} {notation.count(returns)}"
    )
    expected = expected_bars(warehouse, 2023, latest_periods(warehouse))
    assert {chart: bars(rendered, chart) for chart in CHARTS} == expected
    # Labels from input files are text: shown as written, never markup.
    assert rendered.dom.find_all(["script", "img"]) == []
    assert f"Dublin-conventie {SCRIPT}." in text(rendered, "#footnotes")
    rejected = text(rendered, "#rejected-table")
    assert bad_name in rejected and SCRIPT in rejected
    # Sources that disagree: both values of 2015, the bulletin's shown.
    revisions = [
        " ".join(row.get_text(" ").split())
        for row in rendered.dom.select("#revisions-table tbody tr")
    ]
    assert len(revisions) == query(warehouse, "select count(*) from marts.revisions")[0][0] == 2
    assert revisions[0].startswith(f"2015 total {notation.count(stated)} yes disagreement")
    assert revisions[1] == (
        f"2015 total {notation.count(stated - 12)} disagreement answer.csv, line 2"
        " PARLIAMENT, 2016-02-10 FEDASIL ranks before PARLIAMENT (data/reference/source.csv)"
    )
    assert rendered.console == []


def test_chart_labels_stay_text() -> None:
    row = {"country_code": "XX", "country_name_en": SCRIPT, "returns": 5, "share_pct": 1.0}
    svg = str(charts.countries([row]))
    assert "<script" not in svg and "&lt;script&gt;alert(" in svg


@pytest.mark.parametrize(
    ("age", "status"), [(0, "pass"), (60, "pass"), (61, "warn"), (120, "warn"), (121, "error")]
)
def test_freshness_status_against_its_limits(age: int, status: str) -> None:
    end = date(2024, 2, 29)
    freshness = Freshness(
        date.fromordinal(end.toordinal() + age), FreshnessLimits(60, 120), "x.txt", end
    )
    assert (freshness.age_days, freshness.status) == (age, status)
    finding = freshness.finding()
    assert finding.severity == "warning" and finding.success == (status == "pass")
    assert finding.observed.startswith(f"{status}: the newest edition covers up to 2024-02-29")


def test_report_command(published_sample: Path, tmp_path: Path) -> None:
    command = str(Path(sys.executable).parent / "voluntary-returns")
    env = os.environ | {"VOLUNTARY_RETURNS_FRESHNESS_WARN_AFTER_DAYS": "100000",
                        "VOLUNTARY_RETURNS_FRESHNESS_ERROR_AFTER_DAYS": "200000"}  # fmt: skip
    before = published_sample.read_bytes()
    output = tmp_path / "out"
    done = subprocess.run(
        [command, "report", "--warehouse", str(published_sample), "--output", str(output)],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    page = output / "index.html"
    assert done.stdout == f"Report: {page.as_uri()}\n"
    assert freshness_of(page).startswith("pass the newest edition covers up to 2018-10-31")
    assert published_sample.read_bytes() == before  # read-only
    for bad in (tmp_path / "missing.duckdb", SAMPLE):
        done = subprocess.run(
            [command, "report", "--warehouse", str(bad), "--output", str(output)],
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
        assert len(done.stdout.splitlines()) == 1 and str(bad) in done.stdout


def test_write_report_replaces_the_page_whole(published_sample: Path, tmp_path: Path) -> None:
    page = write_report(published_sample, tmp_path, FreshnessLimits(60, 120), date(2018, 12, 1))
    assert page == tmp_path / "index.html" and os.listdir(tmp_path) == ["index.html"]
    assert freshness_of(page).startswith(
        "pass the newest edition covers up to 2018-10-31, 31 days before 2018-12-01"
    )


def test_a_republished_report_judges_freshness_by_the_runs_limits(
    published_sample: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(published_sample.parent, data, ignore=shutil.ignore_patterns("cache"))
    limits = FreshnessLimits(100_000, 200_000)  # not the settings' defaults
    pipeline.republish(data / published_sample.name, "limits", ("report",), limits=limits)
    assert freshness_of(data / "report" / "index.html").startswith(
        "pass the newest edition covers up to 2018-10-31"
    )


@pytest.fixture(scope="module")
def two_years(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published warehouse of 24 generated editions: two years of overlapping months."""
    folder = tmp_path_factory.mktemp("two-years")
    synthetic.write_bulletins(folder / "raw", 24)
    warehouse = folder / "w.duckdb"
    report = nightly(raw_dir=str(folder / "raw"), warehouse=str(warehouse))
    assert report.published, report.markdown()
    return warehouse


def test_many_revisions_show_the_latest_and_say_where_they_all_are(
    two_years: Path, tmp_path: Path
) -> None:
    rendered = render(two_years.parent / "report" / "index.html", tmp_path)
    values, figures = query(two_years, REVISIONS_COUNT)[0]
    assert values > 1000 and figures > 50
    shown = [
        " ".join(row.get_text(" ").split())
        for row in rendered.dom.select("#revisions-table tbody tr")
    ]
    latest = query(
        two_years,
        "select period_code, value, bulletin from marts.revisions"
        " order by period_end desc, period_start, organiser_code, country_code, category_code,"
        " channel_code, measure, is_winner desc, bulletin limit 200",
    )
    assert len(shown) == REVISIONS_SHOWN == 200
    assert [row.split()[0] for row in shown] == [period for period, _, _ in latest]
    assert all(bulletin in row for row, (_, _, bulletin) in zip(shown, latest, strict=True))
    newest = query(two_years, "select max(period_end) from marts.revisions")[0][0]
    assert query(two_years, "select min(period_end) from marts.revisions")[0][0] < newest
    assert latest[0][0].endswith(f"{newest:%Y-%m}")
    assert text(rendered, "#revisions-count") == (
        f"{notation.count(figures)} figures have more than one value ({notation.count(values)}"
        " values in all). Shown: the first 200, of the latest periods; every one is in"
        " marts.revisions and marts/revisions.parquet ."
    )
    parquet = two_years.parent / "marts" / "revisions.parquet"
    assert query(two_years, "select count(*) from read_parquet(?)", [str(parquet)])[0][0] == values


def test_an_expectation_failed_by_many_files_shows_the_first_and_a_count(
    two_years: Path, tmp_path: Path
) -> None:
    # The same warning in 30 more files, as a run of 30 more editions would record it.
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(two_years, warehouse)
    con = duckdb.connect(str(warehouse))
    suite, expectation = con.execute(
        "select suite, expectation from marts.data_quality where not success"
        " and severity = 'warning' and bulletin is not null order by all limit 1"
    ).fetchone()
    con.execute(
        "insert into marts.data_quality"
        " select quality.* replace ('zz-' || i || '.txt' as bulletin)"
        " from marts.data_quality as quality, range(30) as files(i)"
        " where suite = ? and expectation = ? and not success",
        [suite, expectation],
    )
    failed = con.execute(
        "select count(*) from marts.data_quality where expectation = ? and not success",
        [expectation],
    ).fetchone()[0]
    results = con.execute("select count(*) from marts.data_quality").fetchone()[0]
    con.close()
    assert failed > QUALITY_SHOWN == 20
    page = write_report(warehouse, tmp_path / "report", FreshnessLimits(60, 120))
    rendered = render(page, tmp_path)
    rows = [
        row
        for row in rendered.dom.select("#quality-failures > tbody > tr")
        if expectation in row.get_text()
    ]
    files = [row.select_one("td.file").get_text() for row in rows if row.select_one(".badge")]
    assert len(files) == 20 and files == sorted(files)
    assert " ".join(rows[-1].get_text(" ").split()) == (
        f"and {failed - 20} more results of {expectation} (warning), one per file:"
        " all are in marts.data_quality"
    )
    assert text(rendered, "#quality p").startswith(f"{results} results of the last run:")


def test_the_run_summary_sums_up_many_warnings_per_expectation(tmp_path: Path) -> None:
    def warning(expectation: str, file: str) -> Finding:
        return Finding("marts.monthly_returns", expectation, "warning", False, "1990-01", file)

    many = [warning("fedasil_plus_dvz_equals_total", f"edition-{i:02d}.txt") for i in range(30)]
    few = [warning("newest_edition_is_fresh", "edition-29.txt")]
    report = RunReport("run", tmp_path / "raw", tmp_path / "w.duckdb", published=True)
    report.findings = many + few
    summary = report.terminal().splitlines()
    warnings = summary[summary.index("## Warnings (published with the data)") + 2 :]
    assert warnings[:4] == [
        "- fedasil_plus_dvz_equals_total (warning) failed in 30 files: edition-00.txt,"
        " edition-01.txt, edition-02.txt, edition-03.txt, edition-04.txt and 25 more",
        "- newest_edition_is_fresh (warning) failed in 1 files: edition-29.txt",
        "",
        "31 warnings in all; each, with its file and figures, is in marts.data_quality of the"
        " published warehouse.",
    ]
    assert "- warnings: 31" in summary
    table = report.quality_table()
    assert len(table) == 20 + 1 + 1
    assert table[20]["bulletin"] == "and 10 more files (all in marts.data_quality)"
    # Up to 20 warnings, each has its line, as before.
    report.findings = many[:20]
    assert report.terminal().count("fedasil_plus_dvz_equals_total (warning) failed: 1990-01") == 20
