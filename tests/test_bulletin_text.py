"""The text bulletin parser: every figure of the sample, derived editions, bad input."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from derive import BLOCKS, cut_coverage, french, reorder, replace_countries, shift_years, windows
from golden import (
    CATEGORIES,
    CHANNELS,
    COUNTRIES,
    DVZ_2018,
    FEDASIL_2018,
    HISTORY,
    MONTHS,
    TOTAL_2017,
    TOTAL_2018,
    expected_figures,
    figures_of,
)

from flows.errors import BulletinError
from flows.ingest import bulletin_text
from flows.ingest.parse import parse_file
from flows.ingest.raw_file import clean_lines
from flows.ingest.stage import stage, with_edition


def staged_of(path: Path) -> tuple[dict, pl.DataFrame]:
    """Parse and stage a file, as the pipeline does."""
    parsed = parse_file(path, "0" * 64)
    return parsed.edition, stage(with_edition(parsed.edition, parsed.observations))


def write(tmp_path: Path, content: str | bytes, name: str = "bulletin.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def figures(staged: pl.DataFrame, table: str, **codes: str) -> dict[str, int]:
    """period_code -> returns of one table and organiser/breakdown."""
    rows = staged.filter(pl.col("table_code") == table)
    for column, code in codes.items():
        rows = rows.filter(pl.col(column) == code)
    return dict(zip(rows["period_code"], rows["returns"], strict=True))


def test_every_figure_of_the_sample(sample_text: str, tmp_path: Path) -> None:
    edition, staged = staged_of(write(tmp_path, sample_text))
    assert edition["report_year"] == 2018
    assert edition["coverage_start"] == "2018-01"
    assert edition["coverage_end"] == "2018-10"
    assert edition["language"] == "nl"
    assert edition["encoding"] == "utf-8"

    ytd = "2018-01/2018-10"
    fedasil = figures(staged, "MONTHLY", organiser_code="FEDASIL")
    assert fedasil == {f"2018-{m}": n for m, n in zip(MONTHS, FEDASIL_2018, strict=False)} | {
        ytd: 2567
    }
    dvz = figures(staged, "MONTHLY", organiser_code="DVZ")
    assert dvz == {f"2018-{m}": n for m, n in zip(MONTHS, DVZ_2018, strict=False)} | {ytd: 42}
    total = figures(staged, "MONTHLY", organiser_code="_T")
    expected = {f"2018-{m}": n for m, n in zip(MONTHS, TOTAL_2018, strict=False)}
    expected |= {f"2017-{m}": n for m, n in zip(MONTHS, TOTAL_2017, strict=True)}
    assert total == expected | {ytd: 2609, "2017": 3827}
    # November and December have only last year's figure: no zeros, no shifted columns.
    assert "2018-11" not in total and "2018-12" not in total

    marks = staged.filter(pl.col("table_code") == "MONTHLY", pl.col("period_grain") != "month")
    assert marks.select("organiser_code", "period_code", "footnote_marks").rows() == [
        ("FEDASIL", "2018-01/2018-10", ""),
        ("DVZ", "2018-01/2018-10", ""),
        ("_T", "2018-01/2018-10", "*"),
        ("_T", "2017", "*"),
    ]

    history = staged.filter(pl.col("table_code") == "HISTORY")
    assert {
        int(p): (n, m)
        for p, n, m in history.select("period_code", "returns", "footnote_marks").iter_rows()
    } == HISTORY

    countries = staged.filter(pl.col("table_code") == "COUNTRY")
    assert dict(zip(countries["country_code"], countries["returns"], strict=True)) == COUNTRIES
    assert set(countries["period_code"]) == {ytd}

    categories = staged.filter(pl.col("table_code") == "CATEGORY")
    assert {
        code: (n, s)
        for code, n, s in categories.select("category_code", "returns", "share_pct").iter_rows()
    } == CATEGORIES

    channels = staged.filter(pl.col("table_code") == "CHANNEL")
    assert dict(zip(channels["channel_code"], channels["share_pct"], strict=True)) == CHANNELS
    assert channels["returns"].is_null().all()
    assert len(staged) == 77


def test_every_figure_keeps_its_line(sample_text: str, tmp_path: Path) -> None:
    parsed = parse_file(write(tmp_path, sample_text), "0" * 64)
    lines = sample_text.split("\n")
    for row in parsed.observations.iter_rows(named=True):
        line = lines[row["line_number"] - 1]
        figure = row["returns_text"] or row["share_pct_text"]
        assert figure in line, (row, line)
        assert row["row_label"] in line or row["table_code"] in {"COUNTRY", "CATEGORY"}
    labels = parsed.observations.filter(pl.col("table_code") == "MONTHLY")["column_label"]
    assert set(labels) == {
        "2018 Fedasil",
        "2018 Dienst Vreemdelingenzaken",
        "totaal 2018 (fedasil+dvz)",
        "totaal 2017 (fedasil+dvz)",
    }
    assert [(f["mark"], f["line"]) for f in parsed.footnotes] == [("*", 106), ("**", 109)]
    assert parsed.footnotes[1]["text"].endswith("bijna 300 personen op die manier teruggekeerd.")


def test_another_report_year(sample_text: str, tmp_path: Path) -> None:
    edition, staged = staged_of(write(tmp_path, shift_years(sample_text, 3)))
    assert (edition["report_year"], edition["coverage_end"]) == (2021, "2021-10")
    total = figures(staged, "MONTHLY", organiser_code="_T")
    assert total["2021-03"] == 272 and total["2020-12"] == 292 and total["2020"] == 3827
    assert figures(staged, "HISTORY")["2010"] == 2593


def test_another_coverage_month(sample_text: str, tmp_path: Path) -> None:
    edition, staged = staged_of(write(tmp_path, cut_coverage(sample_text, 6)))
    assert edition["coverage_end"] == "2018-06"
    fedasil = figures(staged, "MONTHLY", organiser_code="FEDASIL")
    assert fedasil == {f"2018-{m}": n for m, n in zip(MONTHS[:6], FEDASIL_2018, strict=False)} | {
        "2018-01/2018-06": sum(FEDASIL_2018[:6])
    }
    total = figures(staged, "MONTHLY", organiser_code="_T")
    assert total["2017-07"] == 324 and "2018-07" not in total
    assert set(figures(staged, "COUNTRY")) == {"2018-01/2018-06"}


def test_other_countries(sample_text: str, tmp_path: Path) -> None:
    countries = [
        ("Afghanistan", 412),
        ("Kosovo", 210),
        ("Wit-Rusland", 33),
        ("Bosnië-Herzegovina", 30),
        ("Verenigde Staten", 12),
        ("Macédoine", 9),
        ("Rusland", 1.024),
    ]
    text = replace_countries(
        sample_text, [(n, int(c * 1000) if c < 2 else c) for n, c in countries]
    )
    _, staged = staged_of(write(tmp_path, text))
    found = figures(staged.rename({"period_code": "p"}).rename({"country_code": "period_code"}),
                    "COUNTRY")  # fmt: skip
    assert found == {
        "AF": 412, "XK": 210, "BY": 33, "BA": 30, "US": 12, "MK": 9, "RU": 1024,
        "_O": 2609 - 412 - 210 - 33 - 30 - 12 - 9 - 1024, "_T": 2609,
    }  # fmt: skip


def test_windows_1252_with_crlf_and_trailing_blanks(sample_text: str, tmp_path: Path) -> None:
    edition, staged = staged_of(write(tmp_path, windows(sample_text)))
    assert edition["encoding"] == "windows-1252"
    _, reference = staged_of(write(tmp_path, sample_text, "utf8.txt"))
    assert staged.drop("sha256").equals(reference.drop("sha256"))


@pytest.mark.parametrize(
    ("content", "reason", "line"),
    [
        (b"", "the file is empty", None),
        (b"   \n\n  ", "the file is empty", None),
        (bytes(range(256)) * 4, "binary", None),
        ("\x89PNG\r\n\x1a\n\x00\x00", "binary", None),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes | str, reason: str, line: int) -> None:
    with pytest.raises(BulletinError) as error:
        parse_file(write(tmp_path, content), "0")
    assert reason in error.value.reason
    assert error.value.file == "bulletin.txt"
    assert error.value.line == line


def test_a_file_mixing_utf8_and_windows_1252_names_the_line(
    sample_text: str, tmp_path: Path
) -> None:
    lines = sample_text.split("\n")
    accented = [number for number, line in enumerate(lines) if not line.isascii()]
    assert len(accented) > 1
    last = accented[-1]  # one line pasted from a Windows-1252 file into a UTF-8 one
    data = b"\n".join(
        line.encode("cp1252" if number == last else "utf-8") for number, line in enumerate(lines)
    )
    with pytest.raises(BulletinError) as error:
        parse_file(write(tmp_path, data), "0")
    assert "mixes encodings" in error.value.reason
    assert error.value.line == last + 1


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def test_truncated_mid_table(sample_text: str, tmp_path: Path) -> None:
    cut = sample_text[: sample_text.index("Mongolië")]
    with pytest.raises(BulletinError) as error:
        parse_file(write(tmp_path, cut), "0")
    assert "destination countries" in error.value.reason
    assert "truncated" in error.value.reason
    assert error.value.line == 128  # the last country row before the cut


def test_truncated_before_a_table(sample_text: str, tmp_path: Path) -> None:
    cut = sample_text[: sample_text.index("land aantal terugkeerders")]
    with pytest.raises(BulletinError, match="destination countries was not found"):
        parse_file(write(tmp_path, cut), "0")


def test_row_with_the_wrong_number_of_figures(sample_text: str, tmp_path: Path) -> None:
    text = sample_text.replace("Maart 270 2 272 477", "Maart 270 2 272")
    with pytest.raises(BulletinError) as error:
        parse_file(write(tmp_path, text), "0")
    assert error.value.line == 38
    assert "'Maart' has 3 figures where the monthly table has 4 columns" in error.value.reason
    assert str(error.value).startswith("bulletin.txt, line 38: ")


def test_country_row_with_two_figures(sample_text: str, tmp_path: Path) -> None:
    text = sample_text.replace("Irak 161", "Irak 161 12")
    with pytest.raises(BulletinError) as error:
        parse_file(write(tmp_path, text), "0")
    assert error.value.line == 122
    assert "'Irak' has 2 figures" in error.value.reason


def test_duplicated_month(sample_text: str, tmp_path: Path) -> None:
    text = sample_text.replace("Juni 261 2 263 329", "Juni 261 2 263 329\n\nJuni 261 2 263 329")
    with pytest.raises(BulletinError) as error:
        parse_file(write(tmp_path, text), "0")
    assert error.value.line == 46
    assert "'Juni' appears twice (first at line 44)" in error.value.reason


def test_unknown_country_is_kept_unresolved_for_the_checks(
    sample_text: str, tmp_path: Path
) -> None:
    text = sample_text.replace("Irak 161", "Atlantis 161")
    _, staged = staged_of(write(tmp_path, text))
    unresolved = staged.filter(pl.col("country_code").is_null())
    assert unresolved.select("row_label", "line_number").rows() == [("Atlantis", 122)]


def test_missing_monthly_header(sample_text: str, tmp_path: Path) -> None:
    start = sample_text.index("2018\nFedasil")
    end = sample_text.index("Januari")
    text = sample_text[:start] + sample_text[end:]
    with pytest.raises(BulletinError) as error:
        parse_file(write(tmp_path, text), "0")
    assert "header of the monthly table" in error.value.reason


def test_tables_in_another_order_and_without_blank_lines(sample_text: str, tmp_path: Path) -> None:
    start = sample_text.index("land aantal terugkeerders")
    end = sample_text.index("categorie %")
    moved = sample_text[start:end] + "\n" + sample_text[:start] + sample_text[end:]
    dense = "\n".join(line for line in moved.split("\n") if line.strip())
    _, reference = staged_of(write(tmp_path, sample_text, "sample.txt"))
    columns = ["table_code", "period_code", "organiser_code", "country_code", "category_code",
               "channel_code", "returns", "share_pct", "footnote_marks"]  # fmt: skip
    for name, text in (("moved.txt", moved), ("dense.txt", dense)):
        edition, staged = staged_of(write(tmp_path, text, name))
        assert edition["coverage_end"] == "2018-10"
        assert staged.select(columns).sort(columns).equals(reference.select(columns).sort(columns))
    parsed = parse_file(tmp_path / "dense.txt", "0")
    assert [f["text"][-13:] for f in parsed.footnotes] == ["door de DVZ).", "teruggekeerd."]


def staged_text(text: str, file: str = "bulletin.txt") -> tuple:
    """Parse and stage a text without a file, as the pipeline does after decoding."""
    parsed = bulletin_text.parse(clean_lines(text), file)
    parsed.edition["sha256"] = file
    return parsed, stage(with_edition(parsed.edition, parsed.observations))


def test_every_order_of_the_tables_with_and_without_blank_lines(sample_text: str) -> None:
    expected = expected_figures()
    orders = list(itertools.permutations(BLOCKS))
    assert len(orders) == 120
    for order in orders:
        for dense in (False, True):
            _, staged = staged_text(reorder(sample_text, order, dense))
            assert figures_of(staged) == expected, (order, dense)


@pytest.mark.parametrize(
    "follower",
    [
        "Naar een meer geïntegreerd migratiebeleid",  # a title
        "Retour volontaire en 2019",  # a heading that ends in a year
        "4. Herkomst van de terugkeeraanvragen",  # a heading (the box of yearly figures after
        # the channels is one of the orders of the test above)
    ],
)
def test_a_table_without_total_ends_where_its_rows_end(sample_text: str, follower: str) -> None:
    channels = sample_text.index("categorie %")
    text = sample_text[:channels] + "\n".join(
        [line for line in sample_text[channels:].split("\n") if line.strip()] + [follower]
    )
    _, staged = staged_text(text)
    assert figures_of(staged) == expected_figures()


@pytest.mark.parametrize("thousands", [" ", "\u00a0", "\u202f", "."])
@pytest.mark.parametrize("percent", [" %", "%"])
def test_french_edition(sample_text: str, thousands: str, percent: str) -> None:
    text = french(sample_text, thousands, percent)
    assert "Retour volontaire en 2018" in text and "jusqu'à fin octobre" in text
    parsed, staged = staged_text(text)
    assert parsed.edition["language"] == "fr"
    assert (parsed.edition["report_year"], parsed.edition["coverage_end"]) == (2018, "2018-10")
    assert figures_of(staged) == expected_figures()
    columns = set(parsed.observations.filter(pl.col("table_code") == "MONTHLY")["column_label"])
    assert columns == {
        "2018 Fedasil", "2018 Office des étrangers", "total 2018 (fedasil+OE)",
        "total 2017 (fedasil+OE)",
    }  # fmt: skip


def test_thousands_and_columns_both_written_with_spaces_are_refused(sample_text: str) -> None:
    text = french(sample_text).replace("Mars 270 2 272 477", "Mars 1 270 2 272 477")
    with pytest.raises(BulletinError) as error:
        staged_text(text)
    assert error.value.line == 38
    assert "'Mars' read as 4 figures in 3 ways" in error.value.reason


def test_a_table_the_parser_does_not_know_is_a_warning(sample_text: str) -> None:
    unknown = (
        "5. Re-integratieondersteuning in 2018 (t.e.m. oktober)\n"
        "type aantal\nMicro-onderneming 320\nHuisvesting 210\nMedische hulp 95\ntotaal 625\n"
    )
    at = sample_text.index("land aantal terugkeerders")
    parsed, staged = staged_text(sample_text[:at] + unknown + sample_text[at:])
    assert figures_of(staged) == expected_figures()
    assert parsed.warnings == [
        {
            "reason": "lines 114 to 117: a table this parser does not know ('Micro-onderneming',"
            " 'Huisvesting', 'Medische hulp'; 4 figures) was not loaded",
            "line": 114,
            "page": None,
        }
    ]


def test_utf16_with_a_byte_order_mark(sample_text: str, tmp_path: Path) -> None:
    _, reference = staged_of(write(tmp_path, sample_text, "utf8.txt"))
    for encoding in ("utf-16", "utf-16-be"):
        data = sample_text.replace("\n", "\r\n").encode(encoding)
        if encoding == "utf-16-be":
            data = b"\xfe\xff" + data
        edition, staged = staged_of(write(tmp_path, data, f"{encoding}.txt"))
        assert edition["encoding"] == "utf-16"
        assert staged.drop("sha256").equals(reference.drop("sha256"))


def test_format_characters_inside_names(sample_text: str, tmp_path: Path) -> None:
    text = (
        sample_text.replace("Oekraïne", "Oekra\u00adïne")  # soft hyphen
        .replace("Georgië", "Geor\u200bgië")  # zero-width space
        .replace("Roemenië", "\u200eRoemenië\ufeff")  # direction mark, stray byte-order mark
        .replace("Terugkeerloketten", "Terugkeer\u00adloketten")
        .replace("Vreemdeling-\n", "Vreemdeling\u00ad\n")  # a soft hyphen where a word breaks
    )
    _, staged = staged_of(write(tmp_path, text))
    assert figures_of(staged) == expected_figures()


def test_five_megabytes_on_one_line_are_refused_in_one_line(
    sample_text: str, tmp_path: Path
) -> None:
    line = " ".join(sample_text.split("\n")) + " "
    path = write(tmp_path, line * (5_000_000 // len(line) + 1), "one-line.txt")
    assert path.stat().st_size > 5_000_000 and b"\n" not in path.read_bytes()
    script = (
        "import sys\nfrom pathlib import Path\nfrom flows.errors import BulletinError\n"
        "from flows.ingest.parse import parse_file\n"
        "try:\n    parse_file(Path(sys.argv[1]), '0')\n"
        "except BulletinError as error:\n    print(error)\n"
    )
    # Backtracking patterns took about 35 s here; a linear parser takes about a second.
    run = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert run.stdout.startswith("one-line.txt: the monthly table was not found; line 1 holds")
    assert run.stdout.endswith("characters: were the line breaks of the text lost?\n")
    assert run.stdout.count("\n") == 1


def test_line_ends_of_a_lone_carriage_return(sample_text: str, tmp_path: Path) -> None:
    _, reference = staged_of(write(tmp_path, sample_text, "utf8.txt"))
    _, staged = staged_of(write(tmp_path, sample_text.replace("\n", "\r"), "mac.txt"))
    assert staged.drop("sha256").equals(reference.drop("sha256"))
