"""What the report shows, read from a published warehouse file: plain rows, no formatting."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from flows import database
from flows.quality import freshness
from flows.quality.freshness import Freshness, FreshnessLimits

# Each value of a figure published with more than one, the winner first; the figure named by
# its period and the codes it breaks down (the dimensions that are not _T). The page shows the
# first values of the latest periods (the latest end, then the longest): a thousand overlapping
# editions give hundreds of thousands, all in marts.revisions.
REVISIONS = """
    select
        period_code,
        concat_ws(' ', nullif(organiser_code, '_T'), nullif(country_code, '_T'),
            nullif(category_code, '_T'), nullif(channel_code, '_T')) as breakdown,
        measure, value, is_winner, kind, decided_by, reason,
        bulletin, source_line, source_code, published_on
    from marts.revisions
    order by period_end desc, period_start, organiser_code, country_code, category_code,
        channel_code, measure, is_winner desc, bulletin
    limit $shown
"""
REVISIONS_SHOWN = 200  # values
REVISIONS_COUNT = """
    select count(*) as "values",
        count(distinct (period_code, organiser_code, country_code, category_code, channel_code,
            measure)) as figures
    from marts.revisions
"""
# Failed critical results first, then failed warnings, then what passed.
QUALITY_ORDER = "success, severity != 'critical', suite, expectation, bulletin"
# Results shown of each expectation and outcome (one per file that failed it, say); all are in
# marts.data_quality.
QUALITY_SHOWN = 20


@dataclass
class Headline:
    """The newest edition's year to date against the same months of the year before.

    `rows` has one dict per organiser (`organiser`, `this_year`, `last_year`, counts of persons,
    None where not published); `months` is how many months of each year the sums hold.
    """

    year: int
    through_month: int
    rows: list[dict]
    months: dict[int, int]


@dataclass
class Breakdown:
    """One breakdown mart's rows for its latest period (the latest end, then the longest)."""

    period_code: str | None = None
    period_name: str = ""
    bulletin: str = ""
    rows: list[dict] = field(default_factory=list)


@dataclass
class ReportData:
    """Everything the page shows, from marts, core.dim_bulletin and the quality tables."""

    warehouse: Path
    publication: dict | None
    editions: list[dict]
    headline: Headline | None
    monthly: list[dict]
    annual: list[dict]
    footnotes: list[str]
    countries: Breakdown
    categories: Breakdown
    channels: Breakdown
    quality: list[dict]  # at most QUALITY_SHOWN of each expectation and outcome
    quality_count: dict  # results, passed, critical, warnings: all of marts.data_quality
    rejected: list[dict]
    revisions: list[dict] | None  # None where the warehouse predates marts.revisions
    revisions_count: dict  # figures and values of the whole of marts.revisions
    freshness: Freshness


def rows(
    con: duckdb.DuckDBPyConnection, query: str, parameters: list | dict | None = None
) -> list[dict]:
    """A query's result as dictionaries."""
    result = con.execute(query, parameters or [])
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether the warehouse has this table (marts.revisions comes with sources and vintages)."""
    return bool(
        rows(
            con,
            "select 1 from duckdb_tables()"
            " where database_name = current_database() and schema_name = ? and table_name = ?",
            [schema, table],
        )
    )


def headline(con: duckdb.DuckDBPyConnection, coverage_end: date) -> Headline:
    """Year to date of the newest edition's year against the same months a year earlier, from
    marts.monthly_returns; from marts.annual_returns where the year has no monthly figures."""
    year, month = coverage_end.year, coverage_end.month
    months = rows(
        con,
        "select year, count(*) as months, sum(returns) as returns,"
        " sum(returns_fedasil) as returns_fedasil, sum(returns_dvz) as returns_dvz"
        " from marts.monthly_returns where year in (?, ?) and month_number <= ? group by year",
        [year, year - 1, month],
    )
    by_year = {row["year"]: row for row in months}
    if year not in by_year:
        annual = rows(
            con,
            "select year, months_covered as months, returns, returns_fedasil, returns_dvz"
            " from marts.annual_returns where year = ? and months_covered = ?",
            [year, month],
        )
        by_year.update({row["year"]: row for row in annual})
    this_year, last_year = by_year.get(year, {}), by_year.get(year - 1, {})
    if last_year.get("months") != this_year.get("months"):
        last_year = {}  # not the same months: no comparison
    names = dict(con.execute("select organiser_code, name_en from core.dim_organiser").fetchall())
    organisers = [("_T", "returns"), ("FEDASIL", "returns_fedasil"), ("DVZ", "returns_dvz")]
    return Headline(
        year,
        month,
        [
            {
                "organiser": names.get(code, code),
                "this_year": this_year.get(column),
                "last_year": last_year.get(column),
            }
            for code, column in organisers
        ],
        {y: row["months"] for y, row in by_year.items()},
    )


def breakdown(con: duckdb.DuckDBPyConnection, mart: str, order: str) -> Breakdown:
    """The rows of a breakdown mart for its latest period, in `order`."""
    latest = rows(
        con,
        f"select mart.period_code, period.name_en from marts.{mart} as mart"
        " left join core.dim_period as period on period.period_code = mart.period_code"
        " order by mart.period_end desc, mart.period_start asc, mart.period_code limit 1",
    )
    if not latest:
        return Breakdown()
    code, name = latest[0]["period_code"], latest[0]["name_en"]
    found = rows(con, f"select * from marts.{mart} where period_code = ? order by {order}", [code])
    editions = sorted({row["bulletin"] for row in found if row["bulletin"]})
    return Breakdown(code, name or code, ", ".join(editions), found)


def quality(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The expectation results of the last run, failures first, with their offending rows: at
    most QUALITY_SHOWN of each expectation and outcome, each with `outcome_count`
    (how many there are)."""
    found = rows(
        con,
        "select *, count(*) over outcome as outcome_count from marts.data_quality"
        " window outcome as (partition by suite, expectation, severity, success)"
        " qualify row_number() over (outcome order by bulletin) <= $shown"
        f" order by {QUALITY_ORDER}",
        {"shown": QUALITY_SHOWN},
    )
    for row in found:
        row["details"] = json.loads(row["details"] or "[]")
    return found


def quality_count(con: duckdb.DuckDBPyConnection) -> dict:
    """How many results of the last run passed, failed as warnings, failed as critical."""
    return rows(
        con,
        "select count(*) as results, count(*) filter (success) as passed,"
        " count(*) filter (not success and severity = 'critical') as critical,"
        " count(*) filter (not success and severity != 'critical') as warnings"
        " from marts.data_quality",
    )[0]


def read(warehouse: Path, today: date, limits: FreshnessLimits) -> ReportData:
    """Read everything the report shows from a published warehouse file, read-only.

    Raises duckdb.Error when the file is not a warehouse of this project.
    """
    con = database.connect()
    try:
        # Attached to a connection of its own rather than opened: DuckDB shares one database
        # per path and process, so a reader of the file replaced by the publish (in this process)
        # would otherwise be handed the old data, or refuse a connection of another configuration.
        con.execute("attach ? as published (read_only)", [str(warehouse)])
        con.execute("use published")
        editions = rows(
            con,
            "select * from core.dim_bulletin order by coverage_end desc, coverage_start, file_name",
        )
        publication = rows(con, "select * from marts.publication")
        newest = editions[0]["coverage_end"] if editions else None
        revised = has_table(con, "marts", "revisions")
        revisions = rows(con, REVISIONS, {"shown": REVISIONS_SHOWN}) if revised else None
        return ReportData(
            warehouse=warehouse,
            publication=publication[0] if publication else None,
            editions=editions,
            headline=headline(con, newest) if newest else None,
            monthly=rows(con, "select * from marts.monthly_returns order by month"),
            annual=rows(con, "select * from marts.annual_returns order by year"),
            footnotes=[
                text
                for (text,) in con.execute(
                    "select distinct footnote from marts.annual_returns"
                    " where footnote is not null order by footnote"
                ).fetchall()
            ],
            countries=breakdown(
                con, "returns_by_country", "country_code = '_O', rank, country_code"
            ),
            categories=breakdown(con, "returns_by_category", "returns desc nulls last"),
            channels=breakdown(con, "returns_by_channel", "share_pct desc nulls last"),
            quality=quality(con),
            quality_count=quality_count(con),
            rejected=rows(con, "select * from marts.rejected_bulletins order by file"),
            revisions=revisions,
            revisions_count=rows(con, REVISIONS_COUNT)[0] if revised else {},
            freshness=freshness.check(con, today, limits),
        )
    finally:
        con.close()
