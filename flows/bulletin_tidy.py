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


def parse(path: Path) -> ParsedFile:
    """Read a tidy CSV into raw observations; the file's periods give its coverage."""
    file = path.name
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as error:
        raise BulletinError(
            file, f"not a readable CSV file ({str(error).splitlines()[0]})"
        ) from None
    frame = frame.rename({name: name.strip().lower() for name in frame.columns})
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing:
        raise BulletinError(file, f"the header lacks the columns {', '.join(missing)}", 1)
    if frame.is_empty():
        raise BulletinError(file, "the file has a header but no rows", 1)
    if "footnote" not in frame.columns:
        frame = frame.with_columns(footnote=pl.lit(""))
    frame = frame.with_columns(
        pl.col([*COLUMNS, "footnote"]).fill_null("").str.strip_chars()
    ).with_row_index("line_number", offset=2)
    refuse_first(
        frame,
        ~pl.col("period").str.contains(PERIOD),
        file,
        "period '{period}' is not YYYY, YYYY-MM or YYYY-MM/YYYY-MM",
    )
    refuse_first(
        frame,
        (pl.col("returns") == "") & (pl.col("share_pct") == ""),
        file,
        "the row has neither returns nor share_pct",
    )
    refuse_first(
        frame,
        (pl.col("returns") != "") & ~pl.col("returns").str.contains(WHOLE),
        file,
        "returns '{returns}' is not a whole number",
    )
    refuse_first(
        frame,
        (pl.col("share_pct") != "") & ~pl.col("share_pct").str.contains(DECIMAL),
        file,
        "share_pct '{share_pct}' is not a number",
    )

    bounds = frame.select(
        start=pl.col("period").str.slice(0, 7).min(),
        end=pl.col("period").str.split("/").list.last().max(),
    ).row(0, named=True)
    start = bounds["start"] if len(bounds["start"]) == 7 else f"{bounds['start'][:4]}-01"
    end = bounds["end"] if len(bounds["end"]) == 7 else f"{bounds['end'][:4]}-12"
    edition = {
        "format": "tidy",
        "language": "und",
        "report_year": int(end[:4]),
        "coverage_start": start,
        "coverage_end": end,
        "encoding": "utf-8",
    }
    broken_down = [
        pl.col(name).is_in(["", "_T"]).not_() for name in ("country", "category", "channel")
    ]
    observations = frame.select(
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


def refuse_first(frame: pl.DataFrame, bad: pl.Expr, file: str, reason: str) -> None:
    """Raise on the first row matching `bad`, naming its line and values."""
    first = frame.filter(bad).head(1)
    if not first.is_empty():
        row = first.row(0, named=True)
        raise BulletinError(file, reason.format(**row), row["line_number"])
