"""The tidy CSV format: codes or names per dimension, periods of any grain, clear errors."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flows.errors import BulletinError
from flows.ingest.parse import parse_file
from flows.ingest.stage import stage, with_edition

HEADER = "period,organiser,country,category,channel,returns,share_pct,footnote\n"


def parsed(tmp_path: Path, body: str, header: str = HEADER) -> tuple[dict, pl.DataFrame]:
    path = tmp_path / "typed-in.csv"
    path.write_text(header + body, encoding="utf-8")
    result = parse_file(path, "f" * 64)
    return result.edition, stage(with_edition(result.edition, result.observations))


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
