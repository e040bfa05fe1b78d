"""Parser of the tidy CSV format: one observation per row, codes or names per dimension.

DuckDB reads the file straight into the store's table of raw observations: millions of rows
never pass through Python, and every check below is one query over them.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from flows.errors import BulletinError

COLUMNS = ("period", "organiser", "country", "category", "channel", "returns", "share_pct")
PERIOD = r"\d{4}(-(0[1-9]|1[0-2]))?|\d{4}-(0[1-9]|1[0-2])/\d{4}-(0[1-9]|1[0-2])"
# Each rule: why a row is refused, and the condition that finds it among its observations.
RULES = {
    "period '{period}' is not YYYY, YYYY-MM or YYYY-MM/YYYY-MM": (
        f"not regexp_full_match(period, '{PERIOD}')"
    ),
    "the row has neither returns nor share_pct": "returns_text is null and share_pct_text is null",
    "returns '{returns_text}' is not a whole number": (
        r"not regexp_full_match(returns_text, '-?\d+')"
    ),
    "share_pct '{share_pct_text}' is not a number": (
        r"not regexp_full_match(share_pct_text, '-?\d+(\.\d+)?')"
    ),
}
# A row's table: the dimension it breaks down (organisers and totals: the monthly table).
TABLE_CODE = """
    case
        when country not in ('', '_T') then 'COUNTRY'
        when category not in ('', '_T') then 'CATEGORY'
        when channel not in ('', '_T') then 'CHANNEL'
        else 'MONTHLY'
    end
"""


def load(con: duckdb.DuckDBPyConnection, path: Path, sha256: str) -> dict:
    """Append a tidy CSV's rows to `observations`, check them, and return the edition.

    Raises BulletinError, naming the first offending line; its rows are then removed again.
    """
    file = path.name
    header = read_header(path)
    names = {name.strip().lower(): name for name in header}
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise BulletinError(file, f"the header lacks the columns {', '.join(missing)}", 1)
    columns = ", ".join(
        f"trim(coalesce(\"{names[name]}\", '')) as {name}" if name in names else f"'' as {name}"
        for name in (*COLUMNS, "footnote")
    )
    # Rows keep the file's order while DuckDB keeps the input order: a row's id is its line - 2.
    con.execute("set preserve_insertion_order = true")
    try:
        con.execute(
            "create or replace temp table tidy_file as select * from read_csv("
            "  $path, columns = $columns, header = true, auto_detect = false,"
            "  delim = ',', quote = '\"', escape = '\"')",
            {"path": str(path), "columns": dict.fromkeys(header, "VARCHAR")},
        )
    except duckdb.Error as error:
        raise csv_error(file, error) from None
    finally:
        con.execute("reset preserve_insertion_order")
    try:
        con.execute(
            f"""
            insert into observations by name
            select
                $sha256 as sha256,
                {TABLE_CODE} as table_code,
                concat_ws('|', organiser, country, category, channel) as row_label,
                'returns|share_pct' as column_label,
                period,
                organiser as organiser_label,
                country as country_label,
                category as category_label,
                channel as channel_label,
                nullif(returns, '') as returns_text,
                nullif(share_pct, '') as share_pct_text,
                footnote as footnote_marks,
                line_number
            from (select {columns}, (rowid + 2)::integer as line_number from tidy_file)
            """,
            {"sha256": sha256},
        )
        return check(con, file, sha256)
    except BulletinError:
        con.execute("delete from observations where sha256 = ?", [sha256])
        raise
    finally:
        con.execute("drop table if exists tidy_file")


def check(con: duckdb.DuckDBPyConnection, file: str, sha256: str) -> dict:
    """Refuse the file at its first offending row; else its edition, from its periods."""
    checks = ", ".join(
        f"min(line_number) filter (where {condition})" for condition in RULES.values()
    )
    rows, start, end, *first_bad = con.sql(
        f"select count(*), min(left(period, 7)), max(split_part(period, '/', -1)), {checks}"
        " from observations where sha256 = $sha256",
        params={"sha256": sha256},
    ).fetchall()[0]
    if rows == 0:
        raise BulletinError(file, "the file has a header but no rows", 1)
    for reason, line in zip(RULES, first_bad, strict=True):
        if line is not None:
            row = con.sql(
                "select * from observations where sha256 = $sha256 and line_number = $line",
                params={"sha256": sha256, "line": line},
            ).pl()
            raise BulletinError(file, reason.format(**row.row(0, named=True)), line)
    start = start if len(start) == 7 else f"{start[:4]}-01"
    end = end if len(end) == 7 else f"{end[:4]}-12"
    return {
        "format": "tidy",
        "language": "und",
        "report_year": int(end[:4]),
        "coverage_start": start,
        "coverage_end": end,
        "encoding": "utf-8",
    }


def read_header(path: Path) -> list[str]:
    """The column names of the header line (made unique, so that DuckDB accepts them)."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        names = [name.strip() or "unnamed" for name in handle.readline().rstrip("\r\n").split(",")]
    return [name if names.index(name) == i else f"{name}_{i}" for i, name in enumerate(names)]


def csv_error(file: str, error: Exception) -> BulletinError:
    """DuckDB's CSV error in an analyst's words, with its line where DuckDB names one."""
    message = str(error)
    line = int(match[1]) if (match := re.search(r"CSV Error on Line: (\d+)", message)) else None
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return BulletinError(file, "the file is not UTF-8 text", line)
    if found := re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message):
        return BulletinError(
            file, f"the row has {found[2]} fields where the header has {found[1]}", line
        )
    if line:
        return BulletinError(file, "the row cannot be read as CSV", line)
    return BulletinError(file, f"not a readable CSV file ({message.splitlines()[0]})")
