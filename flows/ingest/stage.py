"""Staging with polars: decode figures, map labels to codes, attach periods.

A staged row keeps the cells it was staged from (its raw observation): the store and the
warehouse hold each row once, and the raw layer is a view of the staged one.
"""

from __future__ import annotations

import polars as pl

from flows import reference
from flows.ingest.raw_file import RAW_SCHEMA

DIMENSIONS = ("organiser", "country", "category", "channel")

STAGED_SCHEMA = {
    "sha256": pl.String,
    "table_code": pl.String,
    "period_code": pl.String,
    "period_grain": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "organiser_code": pl.String,
    "country_code": pl.String,
    "category_code": pl.String,
    "channel_code": pl.String,
    "returns": pl.Int64,
    "share_pct": pl.Float64,
    "footnote_marks": pl.String,
    "page_number": pl.Int32,
    "line_number": pl.Int32,
    "row_label": pl.String,
    "is_within_coverage": pl.Boolean,
    # the label as published, kept only where it resolved to no code (for the checks' messages)
    "unresolved_organiser": pl.String,
    "unresolved_country": pl.String,
    "unresolved_category": pl.String,
    "unresolved_channel": pl.String,
}
# ...and the cells as parsed, which the raw layer shows.
STAGED_SCHEMA |= {name: dtype for name, dtype in RAW_SCHEMA.items() if name not in STAGED_SCHEMA}
# Thousands separators of a count in a tidy file (its parser refuses decimals).
THOUSANDS = r"[.,\s\u00a0\u202f]"
DUCKDB_TYPES = {
    pl.String: "varchar",
    pl.Date: "date",
    pl.Int64: "bigint",
    pl.Int32: "integer",
    pl.Float64: "double",
    pl.Boolean: "boolean",
}


def staged_table(name: str) -> str:
    """The statement creating a table of staged rows named `name` (if it does not exist)."""
    columns = ", ".join(
        f"{column} {DUCKDB_TYPES[dtype]}" for column, dtype in STAGED_SCHEMA.items()
    )
    return f"create table if not exists {name} ({columns})"


STAGED_TABLE = staged_table("staged")


def decode_count(text: pl.Expr, dutch: pl.Expr) -> pl.Expr:
    """A count as published: "1.234" or "1 234" (French) in a bulletin; "1234", "1.234",
    "1,234", "1 234" in tidy files."""
    in_dutch = text.str.replace_all(r"[.\s]", "")
    tidy = text.str.replace_all(THOUSANDS, "")
    return pl.when(dutch).then(in_dutch).otherwise(tidy).cast(pl.Int64)


def decode_share(text: pl.Expr) -> pl.Expr:
    """A percentage as published: "15", "15,5" or "15.5"."""
    return text.str.replace(",", ".", literal=True).cast(pl.Float64)


def codes(dimension: str, labels: pl.Series) -> dict[str, str | None]:
    """Each distinct label of a dimension to its code, None where unknown; an empty label
    means "not broken down" (`_T`)."""
    lookup = reference.labels(dimension)
    mapping = {label: lookup.get(reference.normalise(label)) for label in labels.unique()}
    return mapping | {"": "_T"}


def code_of(label: pl.Expr, dimension: str, labels: pl.Series) -> pl.Expr:
    """The code of each label, NULL where unknown (see `codes`)."""
    return label.replace_strict(codes(dimension, labels), default=None, return_dtype=pl.String)


def label_codes(dimension: str, labels: pl.Series) -> pl.DataFrame:
    """The distinct labels of a dimension with their codes: {label, code}, code NULL where
    unknown; for staging in SQL, joined to the rows on the label."""
    mapping = codes(dimension, labels)
    return pl.DataFrame(
        {"label": list(mapping), "code": list(mapping.values())},
        schema={"label": pl.String, "code": pl.String},
    )


def within_coverage(report_year: pl.Expr, coverage_end: pl.Expr) -> pl.Expr:
    """Whether a period is inside its edition's coverage: another year than the report year,
    or ending by the end of the coverage's last month ("2018-10")."""
    end = (coverage_end + "-01").str.to_date("%Y-%m-%d").dt.month_end()
    return (pl.col("period_start").dt.year() != report_year) | (pl.col("period_end") <= end)


def period_codes(periods_given: pl.Series, report_year: int, coverage_end: str) -> pl.DataFrame:
    """The distinct periods of one edition staged: {period, period_code, period_grain,
    period_start, period_end, is_within_coverage}; for staging in SQL, joined on the period."""
    frame = pl.DataFrame({"period": periods_given.unique()}, schema={"period": pl.String})
    return frame.with_columns(*periods(pl.col("period"))).with_columns(
        is_within_coverage=within_coverage(pl.lit(report_year), pl.lit(coverage_end))
    )


def periods(period: pl.Expr) -> list[pl.Expr]:
    """Start, end, grain and canonical code of periods "YYYY", "YYYY-MM", "YYYY-MM/YYYY-MM"."""
    first = period.str.split("/").list.first()
    last = period.str.split("/").list.last()
    start = pl.when(first.str.len_chars() == 4).then(first + "-01").otherwise(first)
    end = pl.when(last.str.len_chars() == 4).then(last + "-12").otherwise(last)
    start_date = (start + "-01").str.to_date("%Y-%m-%d")
    end_date = (end + "-01").str.to_date("%Y-%m-%d").dt.month_end()
    # A range over a whole calendar year is that year (a range of one month stays a range:
    # a bulletin's total "through January" is not its January row).
    is_year = (
        (start.str.slice(5) == "01")
        & (end.str.slice(5) == "12")
        & (start.str.slice(0, 4) == end.str.slice(0, 4))
    )
    is_month = ~period.str.contains("/") & (first.str.len_chars() == 7)
    grain = pl.when(is_year).then(pl.lit("year")).when(is_month).then(pl.lit("month"))
    grain = grain.otherwise(pl.lit("range"))
    code = (
        pl.when(is_year)
        .then(start.str.slice(0, 4))
        .when(is_month)
        .then(start)
        .otherwise(start + "/" + end)
    )
    return [
        code.alias("period_code"),
        grain.alias("period_grain"),
        start_date.alias("period_start"),
        end_date.alias("period_end"),
    ]


def with_edition(edition: dict, observations: pl.DataFrame) -> pl.DataFrame:
    """Raw observations with the edition attributes that staging reads."""
    return observations.with_columns(
        sha256=pl.lit(edition["sha256"]),
        format=pl.lit(edition["format"]),
        report_year=pl.lit(edition["report_year"], dtype=pl.Int32),
        coverage_end=pl.lit(edition["coverage_end"]),
    )


def stage(observations: pl.DataFrame) -> pl.DataFrame:
    """Typed, coded observations, one row per published observation.

    The frame holds raw observations of any number of editions, each row with its edition's
    sha256, format, report_year and coverage_end.
    """
    dutch = pl.col("format") == "bulletin"
    # Periods repeat: each distinct one is parsed once, then joined to its rows.
    distinct = observations.select(pl.col("period").unique())
    staged = (
        observations.join(
            distinct.with_columns(*periods(pl.col("period"))), on="period", how="left"
        )
        .with_columns(
            *(
                code_of(pl.col(f"{name}_label"), name, observations[f"{name}_label"]).alias(
                    f"{name}_code"
                )
                for name in DIMENSIONS
            ),
            returns=decode_count(pl.col("returns_text"), dutch),
            share_pct=decode_share(pl.col("share_pct_text")),
        )
        .with_columns(
            is_within_coverage=within_coverage(pl.col("report_year"), pl.col("coverage_end")),
            **{
                f"unresolved_{name}": pl.when(pl.col(f"{name}_code").is_null()).then(
                    pl.col(f"{name}_label")
                )
                for name in DIMENSIONS
            },
        )
    )
    return staged.select(STAGED_SCHEMA.keys()).cast(STAGED_SCHEMA)
