"""The tidy CSV format: codes or names per dimension, periods of any grain, clear errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.errors import BulletinError
from flows.ingest import bulletin_tidy
from flows.ingest.parse import parse_file
from flows.ingest.raw_file import RAW_SCHEMA
from flows.ingest.stage import STAGED_SCHEMA, STAGED_TABLE, stage, with_edition

HEADER = "period,organiser,country,category,channel,returns,share_pct,footnote\n"


def staged_of(path: Path) -> tuple[dict, pl.DataFrame]:
    """A tidy file's edition and its rows as a run stages them: in SQL, as DuckDB loads it.

    Staging its cells with polars' `stage` (how bulletins are staged) must give the same rows.
    """
    con = duckdb.connect()
    con.execute(STAGED_TABLE)
    edition = bulletin_tidy.load(con, path, "f" * 64) | {"sha256": "f" * 64}
    staged = con.sql("select * from staged order by line_number").pl().cast(STAGED_SCHEMA)
    con.close()
    polars_staged = stage(with_edition(edition, staged.select(RAW_SCHEMA.keys())))
    assert_frame_equal(staged, polars_staged)
    return edition, staged


def parsed(tmp_path: Path, body: str, header: str = HEADER) -> tuple[dict, pl.DataFrame]:
    path = tmp_path / "typed-in.csv"
    path.write_text(header + body, encoding="utf-8")
    return staged_of(path)


def test_codes_names_and_periods(tmp_path: Path) -> None:
    edition, staged = parsed(
        tmp_path,
        "2019-03,FEDASIL,,,,250,,\n"
        "2019-03,DVZ,,,,5,,\n"
        "2019-03,,,,,255,,\n"
        "2019-01/2019-06,,Oekraïne,,,120,,\n"
        "2019-01/2019-06,,Géorgie,,,80,,\n"
        "2019-01/2019-06,,Kosovo,,,7,,\n"
        "2019-01/2019-06,,_O,,,93,,\n"
        "2019-01/2019-06,,,,,300,,\n"
        "2019-01/2019-06,,,ASYLUM_SEEKER,,100,33.3,\n"
        "2019-01/2019-06,,,,RETURN_DESK,,45.5,\n"
        "2016,,,,,4267,,*\n",
    )
    assert edition["format"] == "tidy"
    assert (edition["report_year"], edition["coverage_start"], edition["coverage_end"]) == (
        2019,
        "2016-01",
        "2019-06",
    )
    ytd = "2019-01/2019-06"
    rows = staged.select(
        "table_code", "period_code", "period_grain", "organiser_code", "country_code",
        "category_code", "channel_code", "returns", "share_pct", "footnote_marks", "line_number",
    ).rows()  # fmt: skip
    assert rows == [
        ("MONTHLY", "2019-03", "month", "FEDASIL", "_T", "_T", "_T", 250, None, "", 2),
        ("MONTHLY", "2019-03", "month", "DVZ", "_T", "_T", "_T", 5, None, "", 3),
        ("MONTHLY", "2019-03", "month", "_T", "_T", "_T", "_T", 255, None, "", 4),
        ("COUNTRY", ytd, "range", "_T", "UA", "_T", "_T", 120, None, "", 5),
        ("COUNTRY", ytd, "range", "_T", "GE", "_T", "_T", 80, None, "", 6),
        ("COUNTRY", ytd, "range", "_T", "XK", "_T", "_T", 7, None, "", 7),
        ("COUNTRY", ytd, "range", "_T", "_O", "_T", "_T", 93, None, "", 8),
        ("MONTHLY", ytd, "range", "_T", "_T", "_T", "_T", 300, None, "", 9),
        ("CATEGORY", ytd, "range", "_T", "_T", "ASYLUM_SEEKER", "_T", 100, 33.3, "", 10),
        ("CHANNEL", ytd, "range", "_T", "_T", "_T", "RETURN_DESK", None, 45.5, "", 11),
        ("MONTHLY", "2016", "year", "_T", "_T", "_T", "_T", 4267, None, "*", 12),
    ]  # fmt: skip


def test_a_full_year_range_is_the_year(tmp_path: Path) -> None:
    _, staged = parsed(tmp_path, "2019-01/2019-12,,,,,3000,,\n")
    assert staged.select("period_code", "period_grain").row(0) == ("2019", "year")


def test_unknown_codes_stay_unresolved_for_the_checks(tmp_path: Path) -> None:
    _, staged = parsed(tmp_path, "2019,,Atlantis,,,3,,\n2019,,,NOMAD,,4,,\n")
    assert staged["country_code"].to_list() == [None, "_T"]
    assert staged["category_code"].to_list() == ["_T", None]


@pytest.mark.parametrize(
    ("body", "reason", "line"),
    [
        ("2019-13,,,,,3,,\n", "period '2019-13' is not YYYY, YYYY-MM or YYYY-MM/YYYY-MM", 2),
        ("2019,,,,,3,,\n2019-02,,,,,,,\n", "the row has neither returns nor share_pct", 3),
        ("2019,,,,,3.5,,\n", "returns '3.5' is not a whole number", 2),
        (
            "2019-01,,,,,3,,\n2019-10/2019-01,,,,,3,,\n",
            "period '2019-10/2019-01' ends before it starts",
            3,
        ),
        ("2019,,,,RETURN_DESK,,veel,\n", "share_pct 'veel' is not a number", 2),
        ("", "the file has a header but no rows", 1),
    ],
)
def test_bad_rows(tmp_path: Path, body: str, reason: str, line: int) -> None:
    with pytest.raises(BulletinError) as error:
        parsed(tmp_path, body)
    assert (error.value.reason, error.value.line) == (reason, line)
    assert error.value.file == "typed-in.csv"


def test_missing_column(tmp_path: Path) -> None:
    with pytest.raises(BulletinError, match="lacks the columns share_pct"):
        parsed(
            tmp_path,
            "2019,,,,,3,\n",
            header="period,organiser,country,category,channel,returns,x\n",
        )


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (HEADER.replace("share_pct", "returns,share_pct"), "the header names returns more"),
        (HEADER.replace("period,", "period,Period,"), "the header names period more than once"),
        (
            HEADER.replace("footnote", "publised_on"),
            "columns this format does not read: publised_on",
        ),
    ],
)
def test_a_header_that_would_lose_or_confuse_cells(
    tmp_path: Path, header: str, reason: str
) -> None:
    with pytest.raises(BulletinError, match=reason) as error:
        parsed(tmp_path, "2019,,,,,3,,2\n", header=header)
    assert error.value.line == 1


def test_a_utf16_tidy_file_that_breaks_off_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notepad.csv"
    path.write_bytes((HEADER + "2019,,,,,3,,\n").encode("utf-16") + b"\x00\xd8")  # half a pair
    with pytest.raises(BulletinError) as error:
        parse_file(path, "0")
    assert str(error.value) == (
        "notepad.csv: the file starts as UTF-16 text but is not UTF-16 throughout"
    )


def test_row_with_missing_fields(tmp_path: Path) -> None:
    with pytest.raises(BulletinError) as error:
        parsed(tmp_path, "2019,,,,,3,,\n2019,,,,3\n")
    assert (error.value.reason, error.value.line) == (
        "the row has 5 fields where the header has 8",
        3,
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + "2019,,Géorgie,,,3,,\n".encode("cp1252"))
    with pytest.raises(BulletinError, match="not UTF-8"):
        parse_file(path, "0")


def staged_rows(tmp_path: Path, text: str, name: str = "typed-in.csv") -> list[tuple]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    _, staged = staged_of(path)
    return staged.select(
        "period_code", "country_code", "returns", "share_pct", "line_number"
    ).rows()


@pytest.mark.parametrize("returns", ["4.267", "4 267", "4\u00a0267", "4\u202f267", "4,267", "4267"])
def test_returns_as_belgians_write_them(tmp_path: Path, returns: str) -> None:
    rows = staged_rows(tmp_path, f'{HEADER}2016,,,,,"{returns}",,\n2016,,,,RETURN_DESK,,"44,5",\n')
    assert rows == [("2016", "_T", 4267, None, 2), ("2016", "_T", None, 44.5, 3)]


@pytest.mark.parametrize("returns", ["4.26", "4.2670", "4.267,5", "1.234,567", "4 26"])
def test_a_count_with_decimals_is_refused(tmp_path: Path, returns: str) -> None:
    with pytest.raises(BulletinError) as error:
        parsed(tmp_path, f'2016,,,,,"{returns}",,\n')
    assert (error.value.reason, error.value.line) == (
        f"returns '{returns}' is not a whole number",
        2,
    )


def test_a_count_of_twenty_digits_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(BulletinError) as error:
        parsed(tmp_path, "2016,,,,,4267,,\n2017,,,,,12345678901234567890,,\n")
    assert str(error.value) == (
        "typed-in.csv, line 3: returns '12345678901234567890' has more than 15 digits:"
        " no count is that large"
    )


def test_a_quoted_header_as_r_and_pandas_write_it(tmp_path: Path) -> None:
    quoted = '"period","organiser","country","category","channel","returns","share_pct"\n'
    rows = staged_rows(tmp_path, quoted + '"2016","","Oekraïne","","","483",""\n')
    assert rows == [("2016", "UA", 483, None, 2)]


def test_a_csv_saved_by_excel_in_a_belgian_locale(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffperiod;organiser;country;category;channel;returns;share_pct;source;published_on\r\n"
        "2016;;Oekraïne;;;1.483;;Fedasil;15/03/2017\r\n"
        "2016;;;;RETURN_DESK;;44,5;;\r\n"
        ";;;;;;;;\r\n".encode()
    )
    edition, staged = staged_of(path)
    assert edition["source_code"] == "FEDASIL"
    assert edition["published_on"] == "2017-03-15"
    assert staged.select("country_code", "channel_code", "returns", "share_pct").rows() == [
        ("UA", "_T", 1483, None),
        ("_T", "RETURN_DESK", None, 44.5),
    ]


def test_lines_after_a_blank_line_and_a_quoted_line_break(tmp_path: Path) -> None:
    body = (
        "2016,,,,,4267,,\n"  # line 2
        "\n"  # line 3: blank
        '2016,,UA,,,483,,"a footnote\n'  # lines 4 and 5: one row
        'over two lines"\n'
        "2016,,GE,,,many,,\n"  # line 6
    )
    with pytest.raises(BulletinError) as error:
        parsed(tmp_path, body)
    assert (error.value.reason, error.value.line) == ("returns 'many' is not a whole number", 6)
    with pytest.raises(BulletinError) as error:
        parsed(tmp_path, body.replace("2016,,GE,,,many,,", "2016,,GE,,,419"))
    assert (error.value.reason, error.value.line) == (
        "the row has 6 fields where the header has 8",
        6,
    )
    good = staged_rows(tmp_path, HEADER + body.replace("many", "419"))
    assert [row[-1] for row in good] == [2, 4, 6]


def test_every_problem_of_a_file_in_one_rejection(tmp_path: Path) -> None:
    with pytest.raises(BulletinError) as error:
        parsed(
            tmp_path,
            "2016,,Atlantis,,,3,,\n"
            "2016,,Narnia,,,x,,\n"
            "2016-13,,UA,,,4,,\n"
            "2017,,Atlantis,,,5,,\n"
            "2017,,GE,,,y,,\n",
        )
    assert error.value.line == 2
    assert error.value.reason == (
        "country 'Atlantis' is not resolved (also line 5);"
        " line 3: returns 'x' is not a whole number (also line 6);"
        " line 3: country 'Narnia' is not resolved;"
        " line 4: period '2016-13' is not YYYY, YYYY-MM or YYYY-MM/YYYY-MM"
    )


def test_source_and_publication_date(tmp_path: Path) -> None:
    header = HEADER.replace("footnote", "footnote,source,published_on")
    edition, _ = parsed(
        tmp_path, "2015,,,,,4041,,,Kamervraag,2016-02-10\n2015,,IQ,,,900,,,,\n", header
    )
    assert (edition["source_code"], edition["source_label"], edition["published_on"]) == (
        "PARLIAMENT",
        "Kamervraag",
        "2016-02-10",
    )
    edition, _ = parsed(tmp_path, "2015,,,,,3870,,\n")
    assert (edition["source_code"], edition["published_on"]) == ("UNKNOWN", None)


@pytest.mark.parametrize(
    ("rows", "reason", "line"),
    [
        (
            "2015,,,,,1,,,IOM,\n2015,,IQ,,,1,,,Fedasil,\n",
            "the file gives two values of source: 'IOM' (line 2) and 'Fedasil';"
            " a file is one publication: split it",
            3,
        ),
        (
            "2015,,,,,1,,,De Morgen,\n",
            "source 'De Morgen' is not a source of data/reference/source.csv"
            " (add it with its rank, or an alias row)",
            2,
        ),
        (
            "2015,,,,,1,,,,2016-02-30\n",
            "published_on '2016-02-30' is not a date (YYYY-MM-DD or DD/MM/YYYY)",
            2,
        ),
    ],
)
def test_bad_sources_and_dates(tmp_path: Path, rows: str, reason: str, line: int) -> None:
    header = HEADER.replace("footnote", "footnote,source,published_on")
    with pytest.raises(BulletinError) as error:
        parsed(tmp_path, rows, header)
    assert (error.value.reason, error.value.line) == (reason, line)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_csv_saved_as_unicode_by_notepad(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "notepad.csv"
    text = "\ufeff" + HEADER + "2016,,Oekraïne,,,1.483,,\n\n2016,,Géorgie,,,419,,*\n"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    edition, staged = staged_of(path)
    assert (edition["format"], edition["encoding"]) == ("tidy", "utf-16")
    assert staged.select("country_code", "returns", "footnote_marks", "line_number").rows() == [
        ("UA", 1483, "", 2),
        ("GE", 419, "*", 4),
    ]
    path.write_bytes(text.replace("419", "many").encode(encoding))
    with pytest.raises(BulletinError) as error:
        parse_file(path, "f" * 64)
    assert (error.value.file, error.value.reason, error.value.line) == (
        "notepad.csv",
        "returns 'many' is not a whole number",
        4,
    )
