"""Parser of the tidy CSV format: one observation per row, codes or names per dimension."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.errors import BulletinError
from flows.raw_file import TIDY_HEADER, ParsedFile

COLUMNS = TIDY_HEADER.split(",")
PERIOD = r"^\d{4}(-(0[1-9]|1[0-2]))?$|^\d{4}-(0[1-9]|1[0-2])/\d{4}-(0[1-9]|1[0-2])$"
WHOLE = r"^-?\d+$"
DECIMAL = r"^-?\d+(\.\d+)?$"


RULES = {
    "period '{period}' is not YYYY, YYYY-MM or YYYY-MM/YYYY-MM": ~pl.col("period").str.contains(
        PERIOD
    ),
    "the row has neither returns nor share_pct": (pl.col("returns") == "")
    & (pl.col("share_pct") == ""),
    "returns '{returns}' is not a whole number": (pl.col("returns") != "")
    & ~pl.col("returns").str.contains(WHOLE),
    "share_pct '{share_pct}' is not a number": (pl.col("share_pct") != "")
    & ~pl.col("share_pct").str.contains(DECIMAL),
}


def parse(path: Path) -> ParsedFile:
    """Read a tidy CSV lazily into raw observations; the file's periods give its coverage.

    Nothing is held whole in memory: the checks are one streaming pass, and the observations
    stay a lazy frame until they are written to the store.
    """
    file = path.name
    lazy = pl.scan_csv(path, infer_schema=False, encoding="utf8")
    try:
        names = lazy.collect_schema().names()
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as error:
        raise BulletinError(file, f"not a readable CSV file ({first_line(error)})") from None
    lazy = lazy.rename({name: name.strip().lower() for name in names})
    missing = [name for name in COLUMNS if name not in lazy.collect_schema().names()]
    if missing:
        raise BulletinError(file, f"the header lacks the columns {', '.join(missing)}", 1)
    if "footnote" not in lazy.collect_schema().names():
        lazy = lazy.with_columns(footnote=pl.lit(""))
    lazy = lazy.with_columns(
        pl.col([*COLUMNS, "footnote"]).fill_null("").str.strip_chars()
    ).with_row_index("line_number", offset=2)
    try:
        summary = (
            lazy.select(
                rows=pl.len(),
                start=pl.col("period").str.slice(0, 7).min(),
                end=pl.col("period").str.split("/").list.last().max(),
                **{
                    f"rule{i}": pl.col("line_number").filter(bad).min()
                    for i, bad in enumerate(RULES.values())
                },
            )
            .collect(engine="streaming")
            .row(0, named=True)
        )
    except pl.exceptions.ComputeError as error:
        raise BulletinError(file, f"not a readable UTF-8 CSV file ({first_line(error)})") from None
    if summary["rows"] == 0:
        raise BulletinError(file, "the file has a header but no rows", 1)
    for i, reason in enumerate(RULES):
        if (line := summary[f"rule{i}"]) is not None:
            row = lazy.filter(pl.col("line_number") == line).collect().row(0, named=True)
            raise BulletinError(file, reason.format(**row), line)

    start = summary["start"] if len(summary["start"]) == 7 else f"{summary['start'][:4]}-01"
    end = summary["end"] if len(summary["end"]) == 7 else f"{summary['end'][:4]}-12"
    edition = {
        "format": "tidy",
        "language": "und",
        "report_year": int(end[:4]),
        "coverage_start": start,
        "coverage_end": end,
        "encoding": "utf-8",
    }
    broken_down = [~pl.col(name).is_in(["", "_T"]) for name in ("country", "category", "channel")]
    observations = lazy.select(
        table_code=pl.when(broken_down[0])
        .then(pl.lit("COUNTRY"))
        .when(broken_down[1])
        .then(pl.lit("CATEGORY"))
        .when(broken_down[2])
        .then(pl.lit("CHANNEL"))
        .otherwise(pl.lit("MONTHLY")),
        row_label=pl.concat_str("organiser", "country", "category", "channel", separator="|"),
        column_label=pl.lit("returns|share_pct"),
        period=pl.col("period"),
        organiser_label=pl.col("organiser"),
        country_label=pl.col("country"),
        category_label=pl.col("category"),
        channel_label=pl.col("channel"),
        returns_text=pl.col("returns").replace("", None),
        share_pct_text=pl.col("share_pct").replace("", None),
        footnote_marks=pl.col("footnote"),
        line_number=pl.col("line_number").cast(pl.Int32),
    )
    return ParsedFile(edition=edition, observations=observations)


def first_line(error: Exception) -> str:
    """The first line of a library's error message."""
    return str(error).splitlines()[0]
