"""One settings object: every knob of a run, its default, and the variable that overrides it."""

from __future__ import annotations

import os
import sys
import time
import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
ENV_PREFIX = "VOLUNTARY_RETURNS_"


@dataclass(frozen=True)
class Settings:
    """Where a run reads and writes, and when the nightly run starts."""

    raw_dir: Path = PROJECT_DIR / "data" / "raw"  # bulletins to load (VOLUNTARY_RETURNS_RAW_DIR)
    warehouse: Path = PROJECT_DIR / "data" / "warehouse.duckdb"  # published file
    expectations_dir: Path = PROJECT_DIR / "expectations"  # suites (JSON)
    schedule: str = "0 2 * * *"  # cron of the nightly run, in `timezone`
    timezone: str = "Europe/Brussels"
    # Like dbt's source freshness: days from the newest edition's coverage end to the day of the
    # check. Editions come about monthly, a month or so after their coverage ends: past 60 days
    # one is missing (warn), past 120 several are (error). Neither stops a publish.
    freshness_warn_after_days: int = 60
    freshness_error_after_days: int = 120
    # Test hook: the named point where a run stops and waits to be killed (see pause_point).
    pause_at: str = ""

    @property
    def data_dir(self) -> Path:
        """The folder of the published file: its marts/, cache/ and gx/ live beside it."""
        return self.warehouse.parent

    @property
    def marts_dir(self) -> Path:
        """Parquet exports of the marts."""
        return self.data_dir / "marts"

    @property
    def report_dir(self) -> Path:
        """The HTML report of the published file (index.html)."""
        return self.data_dir / "report"

    @property
    def cache_dir(self) -> Path:
        """Parsed and staged editions, by sha256."""
        return self.data_dir / "cache"

    @property
    def manifest(self) -> Path:
        """What was published: run id, inputs digest, sha256 and size of every member."""
        return self.data_dir / "publication.json"

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Defaults, overridden by VOLUNTARY_RETURNS_* variables, then by explicit values."""
        settings = cls()
        for name, current in settings.__dict__.items():
            value = os.environ.get(ENV_PREFIX + name.upper())
            if value:
                settings = replace(settings, **{name: typed(current, value, name)})
        given = {
            k: typed(getattr(settings, k), v, k, option=True)
            for k, v in overrides.items()
            if v is not None
        }
        settings = replace(settings, **given)
        try:
            zoneinfo.ZoneInfo(settings.timezone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise SettingsError(
                f"unknown time zone '{settings.timezone}' (--timezone or {ENV_PREFIX}TIMEZONE):"
                " give an IANA name such as Europe/Brussels"
            ) from None
        # Absolute from here on: a path relative to the working directory means the same in
        # every step, and in what a run records (the manifest, Data Docs, the summary).
        paths = {
            k: Path(os.path.abspath(v)) for k, v in settings.__dict__.items() if isinstance(v, Path)
        }
        return replace(settings, **paths)


class SettingsError(ValueError):
    """A setting that cannot be used, in one line naming its variable or option."""


def typed(current: object, value: object, name: str, option: bool = False) -> object:
    """A setting's value given as text, in the type of its default; raises SettingsError for a
    count of days that is not a whole number of zero or more."""
    if not isinstance(current, int):
        return type(current)(value)
    try:
        days = int(str(value))
    except ValueError:
        days = -1
    if days < 0:
        where = f"--{name.replace('_', '-')}" if option else ENV_PREFIX + name.upper()
        raise SettingsError(f"{where}='{value}' is not a whole number of days (0 or more)")
    return days


def pause_point(name: str) -> None:
    """Test hook: stop here for good when VOLUNTARY_RETURNS_PAUSE_AT names this point.

    The run says where it stopped on standard error, so that a test can `kill -9` it there.
    """
    if Settings.load().pause_at != name:
        return
    print(f"paused at {name}", file=sys.stderr, flush=True)
    while True:
        time.sleep(60)
