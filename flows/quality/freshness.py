"""Freshness: how old the newest edition's figures are on a given day, like dbt's source freshness.

The age is counted from the newest edition's coverage end (the last day its figures cover), since
that is what a reader of the figures needs to know. A stale warehouse is still published: its
figures are the newest there are. Past `warn_after_days` the check warns, past
`error_after_days` it says error; both are a failed finding of severity warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from flows.quality.gate import Finding
from flows.settings import Settings

SUITE = "freshness"
EXPECTATION = "newest_edition_is_fresh"


@dataclass(frozen=True)
class FreshnessLimits:
    """Days after the newest coverage end from which the figures are stale."""

    warn_after_days: int
    error_after_days: int

    @classmethod
    def of(cls, settings: Settings) -> FreshnessLimits:
        """The limits the settings give."""
        return cls(settings.freshness_warn_after_days, settings.freshness_error_after_days)


@dataclass(frozen=True)
class Freshness:
    """The newest edition's coverage end and publication date, judged on `checked_on`."""

    checked_on: date
    limits: FreshnessLimits
    edition: str | None = None
    coverage_end: date | None = None
    published_on: date | None = None  # where the warehouse records a publication date

    @property
    def age_days(self) -> int | None:
        """Days from the coverage end to `checked_on`; None when no edition is loaded."""
        return None if self.coverage_end is None else (self.checked_on - self.coverage_end).days

    @property
    def status(self) -> str:
        """`pass`, `warn` or `error`; `error` when the warehouse holds no edition."""
        age = self.age_days
        if age is None or age > self.limits.error_after_days:
            return "error"
        return "warn" if age > self.limits.warn_after_days else "pass"

    def describe(self) -> str:
        """The check in words: status, then `account`."""
        return f"{self.status}: {self.account}"

    @property
    def account(self) -> str:
        """Coverage end, publication date, age and limits in words."""
        limits = (
            f"warn after {self.limits.warn_after_days} days,"
            f" error after {self.limits.error_after_days}"
        )
        if self.coverage_end is None:
            return f"no edition is loaded ({limits})"
        published = f", published {self.published_on}" if self.published_on else ""
        return (
            f"the newest edition covers up to {self.coverage_end}{published},"
            f" {self.age_days} days before {self.checked_on} ({limits})"
        )

    def finding(self) -> Finding:
        """The check as a finding of marts.data_quality (severity warning: never blocks)."""
        return Finding(
            suite=SUITE,
            expectation=EXPECTATION,
            severity="warning",
            success=self.status == "pass",
            observed=self.describe(),
            bulletin=self.edition,
            details=[
                {
                    "file": self.edition,
                    "status": self.status,
                    "coverage_end": self.coverage_end,
                    "published_on": self.published_on,
                    "age_days": self.age_days,
                    "checked_on": self.checked_on,
                }
            ],
        )


def check(con: duckdb.DuckDBPyConnection, checked_on: date, limits: FreshnessLimits) -> Freshness:
    """The freshness of the warehouse the connection uses, from core.dim_bulletin."""
    columns = {
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns()"
            " where database_name = current_database()"
            " and schema_name = 'core' and table_name = 'dim_bulletin'"
        ).fetchall()
    }
    # The publication date is shown where the edition states one (else it is its coverage end).
    stated = {"published_on", "is_published_on_stated"} <= columns
    published = "if(is_published_on_stated, published_on, null)" if stated else "null::date"
    newest = con.execute(
        f"select file_name, coverage_end, {published} from core.dim_bulletin"
        " order by coverage_end desc, coverage_start, file_name limit 1"
    ).fetchall()  # fetchall, not fetchone: DuckDB 2 keeps an unfinished result pending
    if not newest:
        return Freshness(checked_on, limits)
    edition, coverage_end, published_on = newest[0]
    return Freshness(checked_on, limits, edition, coverage_end, published_on)
