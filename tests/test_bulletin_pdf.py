"""PDF factsheets: the sample laid out by reportlab in three layouts, Dutch and French, read
back with every figure, its page and its line; scans, encrypted and damaged files refused."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pdfplumber
import polars as pl
import pytest
from derive import french
from factsheet import (
    LAYOUTS,
    UNKNOWN_TITLE,
    write_encrypted,
    write_factsheet,
    write_scan,
    write_with_unknown_table,
)
from golden import expected_figures, figures_of

from flows.errors import BulletinError
from flows.ingest import bulletin_pdf
from flows.ingest.parse import parse_file
from flows.ingest.stage import stage, with_edition
from flows.nightly import nightly

EDITIONS = [(layout, language) for layout in LAYOUTS for language in ("nl", "fr")]


@pytest.fixture(scope="module")
def factsheets(tmp_path_factory: pytest.TempPathFactory, sample_text: str) -> dict[tuple, Path]:
    """Each layout in each language, written once for the module."""
    folder = tmp_path_factory.mktemp("factsheets")
    return {
        (layout, language): write_factsheet(
            sample_text, layout, folder / f"factsheet-{layout}-{language}.pdf", language
        )
        for layout, language in EDITIONS
    }


def rebuilt(path: Path) -> dict[tuple[int, int], str]:
    """The rebuilt text of a PDF by (page, line)."""
    lines, origins = bulletin_pdf.read(path, path.name)
    return dict(zip(origins, lines, strict=True))


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize(("layout", "language"), EDITIONS)
def test_every_figure_with_its_page_and_line(
    factsheets: dict[tuple, Path], layout: str, language: str
) -> None:
    path = factsheets[(layout, language)]
    parsed = parse_file(path, "0" * 64)
    assert parsed.edition | {"parsed_at": None} == parsed.edition | {
        "format": "bulletin", "encoding": "pdf", "language": language, "report_year": 2018,
        "coverage_start": "2018-01", "coverage_end": "2018-10", "parsed_at": None,
    }  # fmt: skip
    staged = stage(with_edition(parsed.edition, parsed.observations))
    assert figures_of(staged) == expected_figures()
    assert parsed.warnings == []
    text = rebuilt(path)
    for row in parsed.observations.iter_rows(named=True):
        line = text[(row["page_number"], row["line_number"])]
        figure = row["returns_text"] or row["share_pct_text"]
        assert digits(figure) in digits(line) and row["row_label"] in line, (row, line)


def test_two_columns_are_read_column_by_column(factsheets: dict[tuple, Path]) -> None:
    path = factsheets[("two-columns", "nl")]
    with pdfplumber.open(path) as pdf:
        stream = pdf.pages[0].extract_text()
    # Line by line, the introduction and the box beside it interleave ...
    assert "aanmerking voor het 2018\n" in stream and "instantie voor 2017 : 3.827*" in stream
    lines = [line for (page, _), line in sorted(rebuilt(path).items()) if page == 1]
    # ... rebuilt by position, the box's lines follow each other, and so do the columns'.
    history = [i for i, line in enumerate(lines) if re.match(r"(19|20)\d\d : ", line)]
    assert len(history) == 11 and history == list(range(history[0], history[0] + 11))
    assert not any("2017 :" in line and "wettig" in line for line in lines)
    intro = [i for i, line in enumerate(lines) if "Bijna alle migranten" in line]
    assert intro == [0] and "Meer info: www.vrijwilligeterugkeer.be" in lines[1:20]


def test_headers_wrapped_and_hyphenated_in_their_cells(factsheets: dict[tuple, Path]) -> None:
    for language, dvz in (("nl", "2018 Dienst Vreemdelingenzaken"), ("fr", "2018 Office des")):
        parsed = parse_file(factsheets[("two-columns", language)], "0")
        monthly = parsed.observations.filter(pl.col("table_code") == "MONTHLY")
        assert any(label.startswith(dvz) for label in monthly["column_label"])


def test_what_is_not_text_is_left_out(factsheets: dict[tuple, Path]) -> None:
    for language in ("nl", "fr"):
        lines = list(rebuilt(factsheets[("charts", language)]).values())
        # The chart's axis labels (0 100 ... 500; jan feb ...), the footer with its page
        # number and the logo's caption are not text of the bulletin.
        assert not {"0", "100", "200", "300", "400", "500"} & set(lines)
        assert not any(line.startswith(("jan feb", "jan fév")) for line in lines)
        assert not any("factsheet" in line for line in lines)
        assert not any("AMIF" in line or "FAMI" in line for line in lines)
        # The figures inside the introduction stay in their sentence.
        assert any("2.567 personen" in line or "2\u00a0567 personnes" in line for line in lines)


def test_a_table_split_over_two_pages(factsheets: dict[tuple, Path]) -> None:
    parsed = parse_file(factsheets[("one-column", "nl")], "0")
    countries = parsed.observations.filter(pl.col("table_code") == "COUNTRY")
    first, last = countries["page_number"].min(), countries["page_number"].max()
    assert set(countries["page_number"]) == {first, last} and last == first + 1
    charts = parse_file(factsheets[("charts", "nl")], "0")
    countries = charts.observations.filter(pl.col("table_code") == "COUNTRY")
    assert set(countries["page_number"]) == {2}


def test_a_table_the_parser_does_not_know(sample_text: str, tmp_path: Path) -> None:
    path = write_with_unknown_table(sample_text, tmp_path / "unknown.pdf")
    parsed = parse_file(path, "0" * 64)
    assert figures_of(stage(with_edition(parsed.edition, parsed.observations))) == (
        expected_figures()
    )
    [warning] = parsed.warnings
    text = rebuilt(path)
    assert text[(warning["page"], warning["line"])].startswith("Micro-onderneming 320")
    assert text[(warning["page"], warning["line"] + 3)] == "totaal 625"
    assert UNKNOWN_TITLE in [text.get((warning["page"], warning["line"] - i)) for i in (1, 2, 3)]
    assert warning["reason"] == (
        f"page {warning['page']}, lines {warning['line']} to {warning['line'] + 3}: a table this"
        " parser does not know ('Micro-onderneming', 'Huisvesting', 'Medische hulp'; 4 figures)"
        " was not loaded"
    )


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("scan", "page 1 has no text layer: scanned PDFs are not supported"),
        ("encrypted", "the PDF is protected by a password: save it without one"),
        ("truncated", "the PDF ends before its end marker: it is truncated"),
        ("damaged", "the PDF is damaged"),
    ],
)
def test_unreadable_pdfs_are_refused_in_one_line(
    sample_text: str, factsheets: dict[tuple, Path], tmp_path: Path, kind: str, reason: str
) -> None:
    path = tmp_path / "refused.pdf"
    data = factsheets[("one-column", "nl")].read_bytes()
    if kind == "scan":
        write_scan(path)
    elif kind == "encrypted":
        write_encrypted(sample_text, path)
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # the middle overwritten, the end marker kept
        path.write_bytes(data[:2000] + bytes(len(data) - 4000) + data[-2000:])
    with pytest.raises(BulletinError) as error:
        parse_file(path, "0")
    assert str(error.value).startswith(f"refused.pdf: {reason}")
    assert "\n" not in str(error.value)


def test_the_rebuilt_text_command_prints_lines_or_one_line_why(
    factsheets: dict[tuple, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bulletin_pdf.main([str(factsheets[("one-column", "nl")])])
    assert re.search(r"^  1 +\d+  Januari ", capsys.readouterr().out, re.MULTILINE)
    text = tmp_path / "extract.pdf"
    text.write_text("Januari 1 2 3 4\n")
    for path, reason in [
        (tmp_path / "missing.pdf", "No such file or directory"),
        (tmp_path, "Is a directory"),
        (text, "not a PDF"),
    ]:
        with pytest.raises(SystemExit, match=f"^{re.escape(str(path))}: {reason}"):
            bulletin_pdf.main([str(path)])


@pytest.mark.usefixtures("prefect_api")
def test_pdf_and_french_editions_are_published_with_their_page(
    sample_text: str, factsheets: dict[tuple, Path], tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_with_unknown_table(sample_text, raw / "factsheet-2018-10.pdf")
    shutil.copy(factsheets[("two-columns", "fr")], raw / "fiche-2018-10.pdf")
    (raw / "retour-volontaire-2018-10.txt").write_text(french(sample_text), encoding="utf-8")
    # A factsheet with a country no list knows: rejected, naming the page and line.
    write_factsheet(
        sample_text.replace("Irak 161", "Atlantis 161"), "charts", raw / "atlantis.pdf", "nl"
    )
    # The press gives another 2017 total: a disagreement whose PDF values name their page.
    (raw / "press-2017.csv").write_text(
        "period,organiser,country,category,channel,returns,share_pct,source,published_on\n"
        "2017,,,,,3800,,Pers,2018-01-15\n",
        encoding="utf-8",
    )
    target = tmp_path / "warehouse.duckdb"
    report = nightly(raw_dir=str(raw), warehouse=str(target))
    assert report.published and report.exit_code == 1, report.markdown()
    [rejected] = report.rejected
    found = re.fullmatch(
        r"atlantis.pdf, page (\d), line (\d+): fails every_country_resolved:"
        r" no country code for 'Atlantis' \(page \1, line \2\)",
        str(rejected),
    )
    assert found, str(rejected)
    assert rebuilt(raw / "atlantis.pdf")[(int(found[1]), int(found[2]))] == "Atlantis 161"
    # The checks' messages on a PDF name the page of each line.
    found = re.search(
        r"factsheet-2018-10.pdf: published_shares_agree_with_counts \(warning\) failed:"
        r" Asielzoekers 2018-01/2018-10: stated 15, computed 18 \(page (\d), line (\d+)\)",
        report.terminal(),
    )
    assert found, report.terminal()
    page, line = int(found[1]), int(found[2])
    assert rebuilt(raw / "factsheet-2018-10.pdf")[(page, line)].startswith("Asielzoekers")
    assert re.search(
        r"factsheet-2018-10.pdf: every_table_is_known \(warning\) failed: page \d, lines \d+ to",
        report.terminal(),
    )
    con = duckdb.connect(str(target), read_only=True)
    try:
        lineage = con.sql(
            "select bulletin.file_name, fact.source_page, fact.source_line, fact.returns"
            " from core.fact_returns as fact"
            " join core.dim_country as country using (country_key)"
            " join core.dim_bulletin as bulletin using (bulletin_key)"
            " where country.country_code = 'UA' order by bulletin.file_name"
        ).fetchall()
        quality = con.sql(
            "select suite, severity, success, bulletin, observed from marts.data_quality"
            " where expectation = 'every_table_is_known'"
        ).fetchall()
        bulletins = con.sql(
            "select file_name, encoding, language from raw.bulletins order by file_name"
        ).fetchall()
        facts = con.sql(
            "select bulletin.file_name, count(*), count(fact.source_page)"
            " from core.fact_returns as fact join core.dim_bulletin as bulletin"
            " using (bulletin_key) group by all order by all"
        ).fetchall()
        # Pages of footnotes, of each edition's figures and of the values in marts.revisions.
        footnotes = con.sql(
            "select bulletin.file_name, footnote_mark, footnote_text, source_page, source_line"
            " from core.dim_footnote join core.dim_bulletin as bulletin using (bulletin_key)"
            " order by all"
        ).fetchall()
        edition_figures = con.sql(
            "select bulletin.file_name, count(*), count(figures.source_page)"
            " from core.edition_figures as figures join core.dim_bulletin as bulletin"
            " using (bulletin_key) where not figures.is_derived group by all order by all"
        ).fetchall()
        revisions = con.sql(
            "select bulletin, value, source_page, source_line from marts.revisions"
            " where period_code = '2017' and country_code = '_T' and measure = 'returns'"
            " order by bulletin"
        ).fetchall()
    finally:
        con.close()
    assert bulletins == [
        ("factsheet-2018-10.pdf", "pdf", "nl"),
        ("fiche-2018-10.pdf", "pdf", "fr"),
        ("press-2017.csv", "utf-8", "und"),
        ("retour-volontaire-2018-10.txt", "utf-8", "fr"),
    ]
    # Every figure of each edition; a PDF's with its page, a text's without.
    assert facts == [
        ("factsheet-2018-10.pdf", 77, 77),
        ("fiche-2018-10.pdf", 77, 77),
        ("press-2017.csv", 1, 0),
        ("retour-volontaire-2018-10.txt", 77, 0),
    ]
    assert [(file, total == paged) for file, total, paged in edition_figures] == [
        ("factsheet-2018-10.pdf", True),
        ("fiche-2018-10.pdf", True),
        ("press-2017.csv", False),
        ("retour-volontaire-2018-10.txt", False),
    ]
    assert [file for file, *_ in footnotes if file.endswith(".pdf")]
    for file, mark, footnote, page, line in footnotes:
        if file.endswith(".pdf"):
            assert rebuilt(raw / file)[(page, line)].startswith(mark), (file, mark, footnote)
        else:
            assert page is None and line
    assert [(file, value, page is None) for file, value, page, _ in revisions] == [
        ("factsheet-2018-10.pdf", 3827, False),
        ("fiche-2018-10.pdf", 3827, False),
        ("press-2017.csv", 3800, True),
        ("retour-volontaire-2018-10.txt", 3827, True),
    ]
    for file, _, page, line in revisions[:2]:
        assert "3827" in digits(rebuilt(raw / file)[(page, line)])  # the monthly table's total
    for file, page, line, returns in lineage[:2]:
        assert returns == 483
        assert rebuilt(raw / file)[(page, line)] in ("Oekraïne 483", "Ukraine 483")
    assert lineage[2] == ("retour-volontaire-2018-10.txt", None, 114, 483)
    [(suite, severity, success, bulletin, observed)] = quality
    assert (suite, severity, success) == ("parse", "warning", False)
    assert bulletin == "factsheet-2018-10.pdf"
    assert "a table this parser does not know" in observed
