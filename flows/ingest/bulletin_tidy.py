"""Parser of the tidy CSV format: one observation per row, codes or names per dimension.

DuckDB reads the file, checks its rows and stages them straight into the new warehouse's table
of staged rows (which keeps the cells as typed): millions of rows never pass through Python,
every check below is one query over them, and each row is written once. A file is one
publication: its optional `source` and `published_on` columns say whose and when.
"""

from __future__ import annotations

import codecs
import csv
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl

from flows import reference
from flows.database import arrow
from flows.errors import BulletinError
from flows.ingest import stage

COLUMNS = ("period", "organiser", "country", "category", "channel", "returns", "share_pct")
OPTIONAL_COLUMNS = ("footnote", "source", "published_on")
DIMENSIONS = ("organiser", "country", "category", "channel")
LABEL_CELLS = ", ".join(f"nullif({name}, '')" for name in DIMENSIONS)
# The separators a header may use: commas, or semicolons as Excel writes in a Belgian locale.
DELIMITERS = (",", ";")
# More digits than any count or share has: beyond them a figure is a typing error, and a
# 64-bit integer would overflow.
MAX_DIGITS = 15
PERIOD = r"\d{4}(-(0[1-9]|1[0-2]))?|\d{4}-(0[1-9]|1[0-2])/\d{4}-(0[1-9]|1[0-2])"
# A count has no decimals: a dot, comma or space before each group of three digits is a
# thousands separator (4.267, 4,267, 4 267), the same one throughout.
SPACES = " \u00a0\u202f"  # a space, a no-break space, a narrow no-break space
COUNT = rf"-?(\d+|\d{{1,3}}(\.\d{{3}})+|\d{{1,3}}(,\d{{3}})+|\d{{1,3}}([{SPACES}]\d{{3}})+)"
SHARE = r"-?\d+([.,]\d+)?"
# What a count drops before it is read as a number: its thousands separators.
SEPARATORS = f"[.,{SPACES}]"
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
# Notepad's "Unicode" is UTF-16 with a byte-order mark: such a file is read through a UTF-8 copy.
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Each rule: why a row is refused, and the condition that finds it among the file's rows.
RULES = {
    "period '{period}' is not YYYY, YYYY-MM or YYYY-MM/YYYY-MM": (
        f"not regexp_full_match(period, '{PERIOD}')"
    ),
    "period '{period}' ends before it starts": (
        f"regexp_full_match(period, '{PERIOD}') and length(period) = 15"
        " and split_part(period, '/', 1) > split_part(period, '/', 2)"
    ),
    "the row has neither returns nor share_pct": "returns = '' and share_pct = ''",
    "returns '{returns}' is not a whole number": (
        # plain digits first: the alternatives with separators are tried on the rest only
        f"returns != '' and not regexp_full_match(returns, '\\d+')"
        f" and not regexp_full_match(returns, '{COUNT}')"
    ),
    f"returns '{{returns}}' has more than {MAX_DIGITS} digits: no count is that large": (
        f"length(returns) > {MAX_DIGITS}"  # cheap first: most rows stop here
        f" and length(regexp_replace(returns, '\\D', '', 'g')) > {MAX_DIGITS}"
        f" and regexp_full_match(returns, '{COUNT}')"
    ),
    "share_pct '{share_pct}' is not a number": (
        f"share_pct != '' and not regexp_full_match(share_pct, '{SHARE}')"
    ),
    f"share_pct '{{share_pct}}' has more than {MAX_DIGITS} digits": (
        f"length(share_pct) > {MAX_DIGITS}"
        f" and length(regexp_replace(share_pct, '\\D', '', 'g')) > {MAX_DIGITS}"
        f" and regexp_full_match(share_pct, '{SHARE}')"
    ),
    "published_on '{published_on}' is not a date (YYYY-MM-DD or DD/MM/YYYY)": (
        "published_on != '' and coalesce("
        + ", ".join(f"try_strptime(published_on, '{f}')" for f in DATE_FORMATS)
        + ") is null"
    ),
}
# The columns RULES read.
RULED = ("period", "returns", "share_pct", "published_on")
# A row's table: the dimension it breaks down (organisers and totals: the monthly table).
TABLE_CODE = """
    case
        when country not in ('', '_T') then 'COUNTRY'
        when category not in ('', '_T') then 'CATEGORY'
        when channel not in ('', '_T') then 'CHANNEL'
        else 'MONTHLY'
    end
"""
# Lines quoted in a rejection for each kind of problem; the others are counted.
LINES_SHOWN = 5


@dataclass(frozen=True)
class Layout:
    """How a tidy file is written: its separator, its column names (made unique), the names as
    written, and its encoding (`utf-8`, or `utf-16` where it opens with that byte-order mark)."""

    delimiter: str
    header: list[str]
    names: list[str]
    encoding: str = "utf-8"


def sniff(path: Path) -> Layout | None:
    """The layout of a tidy CSV (its header's first column is period), else None.

    Headers quoted as R and pandas write them, and semicolons as Excel writes them in a Belgian
    locale, are read too.
    """
    with open(path, "rb") as handle:
        head = handle.read(4096).removeprefix(codecs.BOM_UTF8)
    encoding = "utf-16" if head[:2] in UTF16_BOMS else "utf-8"
    # Any line end ends the header: a lone CR (old Mac line ends) too.
    text = head.decode(encoding, errors="replace").removeprefix("\ufeff")
    line = next(iter(text.splitlines()), "")
    for delimiter in DELIMITERS:
        names = next(csv.reader([line], delimiter=delimiter), [])
        if len(names) > 1 and names[0].strip().lower() == "period":
            names = [name.strip() for name in names]
            header = [name or "unnamed" for name in names]
            unique = [n if header.index(n) == i else f"{n}_{i}" for i, n in enumerate(header)]
            return Layout(delimiter, unique, names, encoding)
    return None


def header_problem(layout: Layout) -> str | None:
    """What is wrong with a tidy file's header, in words, or None: a missing column, a column
    named twice, or one this format does not read (a typing error would lose its cells:
    `publised_on`). Columns without a name are left alone."""
    given = [name.lower() for name in layout.names]
    if missing := [name for name in COLUMNS if name not in given]:
        return f"the header lacks the columns {', '.join(missing)}"
    if twice := sorted({name for name in given if given.count(name) > 1 and name}):
        return f"the header names {', '.join(twice)} more than once: keep one column of each"
    known = (*COLUMNS, *OPTIONAL_COLUMNS)
    if unknown := [name for name in layout.names if name and name.lower() not in known]:
        return (
            f"the header has columns this format does not read: {', '.join(unknown)}"
            f" (it reads {', '.join(COLUMNS)}, and optionally {', '.join(OPTIONAL_COLUMNS)})"
        )
    return None


def load(con: duckdb.DuckDBPyConnection, path: Path, sha256: str, table: str = "staged") -> dict:
    """Append a tidy CSV's rows to `table` (of `stage.STAGED_SCHEMA`), after checking them;
    return the edition.

    A file in UTF-16 with a byte-order mark (Notepad's "Unicode") is read through a UTF-8 copy
    under the same name, in a temporary folder. Raises BulletinError naming every problem of the
    file at once (each kind of problem with its lines); nothing of a refused file is appended.
    """
    with open(path, "rb") as handle:
        utf16 = handle.read(2) in UTF16_BOMS
    if not utf16:
        return load_utf8(con, path, sha256, table)
    with tempfile.TemporaryDirectory(prefix="tidy-utf16-") as folder:
        copy = Path(folder) / path.name
        try:
            with (
                open(path, encoding="utf-16", newline="") as source,
                open(copy, "w", encoding="utf-8", newline="") as target,
            ):
                shutil.copyfileobj(source, target, 1 << 20)
        except UnicodeDecodeError:
            raise BulletinError(
                path.name, "the file starts as UTF-16 text but is not UTF-16 throughout"
            ) from None
        return load_utf8(con, copy, sha256, table) | {"encoding": "utf-16"}


def load_utf8(con: duckdb.DuckDBPyConnection, path: Path, sha256: str, table: str) -> dict:
    """`load` of a UTF-8 file."""
    file = path.name
    layout = sniff(path)
    if layout is None:
        raise BulletinError(file, "the first line is not a header starting with 'period'", 1)
    if problem := header_problem(layout):
        raise BulletinError(file, problem, 1)
    names = {name.lower(): name for name in layout.header}
    columns = ", ".join(
        f"trim(coalesce(tidy_file.\"{names[name]}\", '')) as {name}"
        if name in names
        else f"'' as {name}"
        for name in (*COLUMNS, *OPTIONAL_COLUMNS)
    )
    # Rows keep the file's order while DuckDB keeps the input order: a row's id gives its line.
    # (`reset` would give DuckDB's default, true, not the connection's: its value is restored.)
    ordered = con.sql("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("set preserve_insertion_order = true")
    try:
        con.execute(
            "create or replace temp table tidy_file as select * from read_csv("
            "  $path, columns = $columns, header = true, auto_detect = false,"
            "  delim = $delimiter, quote = '\"', escape = '\"')",
            {
                "path": str(path),
                "columns": dict.fromkeys(layout.header, "VARCHAR"),
                "delimiter": layout.delimiter,
            },
        )
    except duckdb.Error as error:
        raise csv_error(path, error) from None
    finally:
        con.execute(f"set preserve_insertion_order = {ordered}")
    try:
        con.execute(f"create or replace temp view tidy_rows as {rows_query(con, path, columns)}")
        edition = check(con, path)
        stage_rows(con, sha256, edition, table)
        return edition
    finally:
        con.execute("drop view if exists tidy_rows")
        con.execute("drop table if exists tidy_file")
        con.execute("drop table if exists tidy_line_shifts")
        con.execute("drop table if exists tidy_values")
        for name in ("tidy_periods", *(f"tidy_{dimension}" for dimension in DIMENSIONS)):
            con.unregister(name)


def stage_rows(con: duckdb.DuckDBPyConnection, sha256: str, edition: dict, table: str) -> None:
    """Append the checked rows of `tidy_rows` to `table`, staged in one SQL pass: the figures
    decoded, and the labels and periods joined to their codes, which `stage` maps in polars once
    per distinct value. Rows keep their cells as typed (the raw layer) and their line."""
    # the labels' distinct combinations (few: a file is a table of them), in one pass
    labels = con.sql(f"select {', '.join(DIMENSIONS)} from tidy_rows group by all").pl()
    for dimension in DIMENSIONS:
        con.register(f"tidy_{dimension}", arrow(stage.label_codes(dimension, labels[dimension])))
    # the distinct periods: among the distinct values `check` counted
    periods = con.sql("select distinct period from tidy_values").pl().to_series()
    periods = stage.period_codes(periods, edition["report_year"], edition["coverage_end"])
    con.register("tidy_periods", arrow(periods))
    codes = ", ".join(f"tidy_{name}.code as {name}_code" for name in DIMENSIONS)
    unresolved = ", ".join(
        f"if(tidy_{name}.code is null, tidy_rows.{name}, null) as unresolved_{name}"
        for name in DIMENSIONS
    )
    joins = " ".join(
        f"left join tidy_{name} on tidy_{name}.label = tidy_rows.{name}" for name in DIMENSIONS
    )
    con.execute(
        f"""
        insert into {table} by name
        select
            $sha256 as sha256,
            {TABLE_CODE} as table_code,
            tidy_periods.* exclude (period),
            {codes},
            regexp_replace(nullif(returns, ''), '{SEPARATORS}', '', 'g')::bigint as returns,
            replace(nullif(share_pct, ''), ',', '.')::double as share_pct,
            footnote as footnote_marks,
            line_number,
            -- the row's cells as typed, as a bulletin's row label reads ('_T': a total)
            coalesce(nullif(concat_ws(', ', {LABEL_CELLS}), ''), '_T') as row_label,
            {unresolved},
            'returns|share_pct' as column_label,
            tidy_rows.period,
            organiser as organiser_label,
            country as country_label,
            category as category_label,
            channel as channel_label,
            nullif(returns, '') as returns_text,
            nullif(share_pct, '') as share_pct_text
        from tidy_rows
        left join tidy_periods on tidy_periods.period = tidy_rows.period
        {joins}
        """,
        {"sha256": sha256},
    )


def rows_query(con: duckdb.DuckDBPyConnection, path: Path, columns: str) -> str:
    """The file's rows with trimmed cells and their line numbers; rows of empty cells are
    left out (spreadsheets save them below a table).

    A row's line is its row id plus 2, shifted where blank lines or quoted line breaks came
    before it (found by one pass over the file, only when it has either).
    """
    empty = " and ".join(f"{name} = ''" for name in (*COLUMNS, *OPTIONAL_COLUMNS))
    shifts = line_shifts(path)
    if shifts:
        frame = pl.DataFrame(
            shifts, schema={"first_row": pl.Int64, "shift": pl.Int64}, orient="row"
        )
        con.register("line_shifts", frame)
        con.execute("create or replace temp table tidy_line_shifts as select * from line_shifts")
        con.unregister("line_shifts")
        source = (
            "tidy_file asof left join tidy_line_shifts"
            " on tidy_file.rowid >= tidy_line_shifts.first_row"
        )
        shift = " + coalesce(tidy_line_shifts.shift, 0)"
        order = " order by line_number"  # the join does not keep the file's order
    else:
        source, shift, order = "tidy_file", "", ""
    lines = f"(tidy_file.rowid + 2{shift})::integer as line_number"
    return f"select * from (select {columns}, {lines} from {source}) where not ({empty}){order}"


def line_shifts(path: Path) -> list[tuple[int, int]]:
    """Where rows stop starting on line row id + 2: (first row id, lines to add), in order.

    Blank lines (which DuckDB skips) and line breaks inside quotes move the rows after them
    down. Empty for a file with neither, which is known from one scan of its bytes.
    """
    with open(path, "rb") as handle:
        if not any(
            b'"' in block or b"\n\n" in block or b"\n\r\n" in block for block in blocks(handle)
        ):
            return []
    shifts = []
    shift = 0
    row = -2  # the header is row -1
    quoted = False
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not quoted:
                if not line.strip(b"\r\n"):
                    continue
                row += 1
                if row >= 0 and number - row - 2 != shift:
                    shift = number - row - 2
                    shifts.append((row, shift))
            if line.count(b'"') % 2:
                quoted = not quoted
    return shifts


def blocks(handle: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    """A file's bytes in blocks that overlap by two bytes, so that no pair of line ends is cut."""
    tail = b""
    while block := handle.read(size):
        yield tail + block
        tail = block[-2:]


def check(con: duckdb.DuckDBPyConnection, path: Path) -> dict:
    """The edition of the rows in `tidy_rows`, from their periods, source and publication date.

    Raises BulletinError with every problem found: bad rows (each kind with its lines), more
    than one source or publication date, and then the labels that do not resolve.
    """
    file = path.name
    # The rules read four columns, whose distinct combinations are few however many rows a file
    # has: a rule that holds for none of them holds for no row, and a good file is checked in
    # one pass. Only a file with offending rows is read again, for their lines.
    con.execute(
        f"create or replace temp table tidy_values as select {', '.join(RULED)},"
        " count(*) as rows from tidy_rows group by all"
    )
    rows, start, end, *flagged = con.sql(
        "select coalesce(sum(rows), 0)::bigint,"
        " min(if(length(period) = 4, period || '-01', left(period, 7))),"
        " max(if(length(period) = 4, period || '-12', split_part(period, '/', -1))),"
        f" {', '.join(f'bool_or({condition})' for condition in RULES.values())} from tidy_values"
    ).fetchall()[0]
    if rows == 0:
        raise BulletinError(file, "the file has a header but no rows", 1)
    problems = offending_rows(con) if any(flagged) else []
    source, source_problem = single_value(con, "source")
    published_on, date_problem = single_value(con, "published_on")
    problems += [p for p in (source_problem, date_problem) if p]
    source_code = "UNKNOWN"
    if source:
        source_code = reference.labels("source").get(reference.normalise(source[0]))
        if source_code is None:
            problems.append(
                Problem(
                    f"source '{source[0]}' is not a source of data/reference/source.csv"
                    " (add it with its rank, or an alias row)",
                    [source[1]],
                    1,
                )
            )
    if problems:
        problems += unresolved_labels(con)
        raise rejection(file, problems)
    return {
        "format": "tidy",
        "language": "und",
        "report_year": int(end[:4]),
        "coverage_start": start,
        "coverage_end": end,
        "encoding": "utf-8",
        "source_code": source_code,
        "source_label": source[0] if source else None,
        "published_on": as_date(published_on[0]).isoformat() if published_on else None,
    }


def offending_rows(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Each kind of bad row of `tidy_rows` (see RULES), with its first lines and count."""
    counts = ", ".join(
        f"count(*) filter (where {condition}), min(line_number, {LINES_SHOWN})"
        f" filter (where {condition})"
        for condition in RULES.values()
    )
    found = con.sql(f"select {counts} from tidy_rows").fetchall()[0]
    problems = []
    for (reason, _), count, lines in zip(RULES.items(), found[::2], found[1::2], strict=True):
        if count:
            row = (
                con.sql(
                    "select * from tidy_rows where line_number = $line", params={"line": lines[0]}
                )
                .pl()
                .row(0, named=True)
            )
            problems.append(Problem(reason.format(**row), sorted(lines), count))
    return problems


@dataclass
class Problem:
    """One kind of problem of a file: what is wrong, the first lines where, how many rows."""

    text: str
    lines: list[int]
    rows: int

    def __str__(self) -> str:
        others = [str(line) for line in self.lines[1:]]
        if self.rows > len(self.lines):
            others.append(f"{self.rows - len(self.lines)} more")
        if not others:
            return self.text
        also = ", ".join(others[:-1]) + " and " + others[-1] if len(others) > 1 else others[0]
        return f"{self.text} (also line{'s' if len(others) > 1 else ''} {also})"


def rejection(file: str, problems: list[Problem]) -> BulletinError:
    """One error naming every problem of a file, the first line first."""
    problems = sorted(problems, key=lambda p: p.lines[0])
    reason = str(problems[0])
    reason += "".join(f"; line {p.lines[0]}: {p}" for p in problems[1:])
    return BulletinError(file, reason, problems[0].lines[0])


def single_value(
    con: duckdb.DuckDBPyConnection, column: str
) -> tuple[tuple | None, Problem | None]:
    """The one value a file gives in a column (with its first line), or a problem when it
    gives two: a file is one publication. Empty cells take the file's value."""
    values = con.sql(
        f"select {column}, min(line_number) as line from tidy_rows where {column} != ''"
        f" group by {column} order by line limit 2"
    ).fetchall()
    if len(values) > 1:
        (first, line), (second, other) = values
        text = (
            f"the file gives two values of {column}: '{first}' (line {line}) and '{second}';"
            " a file is one publication: split it"
        )
        return values[0], Problem(text, [other], 1)
    return (values[0] if values else None), None


def as_date(text: str) -> date:
    """A publication date written YYYY-MM-DD, or DD/MM/YYYY as Excel writes it in Belgium."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def unresolved_labels(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Labels of the file that resolve to no code, each with its first lines."""
    distinct = " union all ".join(
        f"select '{name}' as dimension, {name} as label, count(*) as rows,"
        f" min(line_number, {LINES_SHOWN}) as lines from tidy_rows where {name} != ''"
        f" group by {name}"
        for name in DIMENSIONS
    )
    problems = []
    for dimension, label, rows, lines in con.sql(distinct).fetchall():
        if reference.labels(dimension).get(reference.normalise(label)) is None:
            problems.append(Problem(f"{dimension} '{label}' is not resolved", sorted(lines), rows))
    return problems


def csv_error(path: Path, error: Exception) -> BulletinError:
    """DuckDB's CSV error in an analyst's words, with the line of the file where it names one."""
    file = path.name
    message = str(error)
    line = None
    if match := re.search(r"CSV Error on Line: (\d+)", message):
        line = physical_line(path, int(match[1]))
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return BulletinError(file, "the file is not UTF-8 text", line)
    if found := re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message):
        return BulletinError(
            file, f"the row has {found[2]} fields where the header has {found[1]}", line
        )
    if line:
        return BulletinError(file, "the row cannot be read as CSV", line)
    return BulletinError(file, f"not a readable CSV file ({message.splitlines()[0]})")


def physical_line(path: Path, logical: int) -> int:
    """The line of the file that DuckDB's CSV error calls line `logical`: DuckDB counts a
    row whose quotes hold line breaks as one line."""
    counted = 0
    quoted = False
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not quoted:
                counted += 1
                if counted == logical:
                    return number
            if line.count(b'"') % 2:
                quoted = not quoted
    return logical
