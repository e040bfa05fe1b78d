"""Parser of a bulletin's text, Dutch or French: a text extract of a Fedasil factsheet, or the
lines the PDF reader rebuilt from word positions.

Tables are recognised by their rows (month names, countries, categories, channels), not by
where the extractor put them or in which order; nothing here knows an edition's year, months or
countries. Lines are cut into tokens from their end, never matched by a backtracking pattern, so
the time taken grows with the length of the text and no faster.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

import polars as pl

from flows import reference
from flows.errors import BulletinError
from flows.ingest.raw_file import RAW_SCHEMA, ParsedFile

# A figure as printed: "1.234", "1 234" (kept together by a no-break space), "1234", "15,5";
# footnote marks and a percent sign follow, attached or as tokens of their own.
NUMBER = r"(?:\d{1,3}(?:\.\d{3})+|\d{1,3}(?:\u00a0\d{3})+|\d+)(?:,\d+)?"
TOKEN = re.compile(rf"(?P<number>{NUMBER})?(?P<marks>\**)%?")
# Thousands written with a plain space ("2 567") are two tokens: a group of 1 to 3 digits
# followed by one of exactly 3 may be one number; the table's columns decide (Row.readings).
GROUP_HEAD = re.compile(r"\d{1,3}")
GROUP_TAIL = re.compile(r"\d{3}(?:,\d+)?")
FIGURE_ENDS = frozenset("0123456789*%")
HISTORY = re.compile(r"(?P<year>(?:19|20)\d\d)\s*:\s*")
FOOTNOTE = re.compile(r"^(?P<marks>\*+)\s*(?P<text>[^\d\s*].*)$")
COVERAGE = re.compile(r"t\.\s?e\.\s?m\.|jusqu['\u2019](?:à|au)(?:\s+fin)?")
YEAR = re.compile(r"^(?:19|20)\d\d$")
TOTAL_LABELS = {"totaal", "total", "totaux"}
# Readings of a row into columns are tried only for rows of a few figures (a table's row).
MOST_TOKENS = 12
# A label longer than this is prose run together, never a row of a table.
LONGEST_LABEL = 300

TABLE_NAMES = {
    "MONTHLY": "the monthly table",
    "HISTORY": "the yearly history",
    "COUNTRY": "the table of destination countries",
    "CATEGORY": "the table of categories",
    "CHANNEL": "the table of application channels",
}
# What one row of each table publishes, in column order (the monthly table reads its header).
ROW_MEASURES = {
    "COUNTRY": ("returns",),
    "CATEGORY": ("returns", "share_pct"),
    "CHANNEL": ("share_pct",),
}
LABEL_DIMENSION = {"COUNTRY": "country", "CATEGORY": "category", "CHANNEL": "channel"}


@dataclass
class Text:
    """A bulletin's lines, its file name, and the page and line each comes from (a PDF's)."""

    file: str
    lines: list[str]
    origins: list[tuple[int, int]] | None = None
    # French editions may write thousands with a space ("1 234"); Dutch ones write "1.234".
    spaced: bool = False

    def origin(self, number: int) -> tuple[int | None, int]:
        """Page (None for a text file) and line of the page of line `number` of the text."""
        return self.origins[number - 1] if self.origins else (None, number)

    def at(self, number: int) -> str:
        """Where line `number` is, in words: "line 12" or "page 2, line 12"."""
        page, line = self.origin(number)
        return f"page {page}, line {line}" if page else f"line {line}"

    def span(self, first: int, last: int) -> str:
        """Where lines `first` to `last` are, in words."""
        (page, start), (last_page, end) = self.origin(first), self.origin(last)
        if first == last:
            return self.at(first)
        lines = f"lines {start} to {end}"
        if page is None:
            return lines
        return f"page {page}, {lines}" if page == last_page else f"pages {page} to {last_page}"

    def error(self, reason: str, number: int | None = None) -> BulletinError:
        """The rejection of this file, at line `number` of the text."""
        if number is None:
            return BulletinError(self.file, reason)
        page, line = self.origin(number)
        return BulletinError(self.file, reason, line, page)


@dataclass
class Row:
    """One line of figures: its number, label, and figures as split at spaces (tokens)."""

    line: int
    label: str
    tokens: list[tuple[str, str]]  # (number as printed, footnote marks)
    kind: str | None = None

    def readings(
        self, count: int, share: int | None = None, spaced: bool = True
    ) -> list[list[tuple[str, str]]]:
        """Every way to read the tokens as `count` figures, joining thousands written with a
        space ("2 567") where `spaced`; figure `share` is a percentage, never above 100."""
        joins = len(self.tokens) - count
        if joins < 0 or (joins and (not spaced or len(self.tokens) > MOST_TOKENS)):
            return []
        if not joins:
            reading = [(number.replace("\u00a0", " "), marks) for number, marks in self.tokens]
            fits = share is None or share >= count or value(reading[share][0]) <= 100
            return [reading] if fits else []
        joinable = [
            i
            for i, ((head, marks), (tail, _)) in enumerate(
                zip(self.tokens, self.tokens[1:], strict=False)
            )
            if not marks and GROUP_HEAD.fullmatch(head) and GROUP_TAIL.fullmatch(tail)
        ]
        readings = []
        for joined in combinations(joinable, joins):
            figures = [list(self.tokens[0])]
            for i, (number, marks) in enumerate(self.tokens[1:]):
                if i in joined:
                    figures[-1] = [f"{figures[-1][0]} {number}", marks]
                else:
                    figures.append([number, marks])
            reading = [(number.replace("\u00a0", " "), marks) for number, marks in figures]
            if share is None or share >= count or value(reading[share][0]) <= 100:
                readings.append(reading)
        return readings


@dataclass
class Table:
    """A run of rows of one kind, closed by its total row where it has one."""

    kind: str
    rows: list[Row] = field(default_factory=list)
    total: Row | None = None
    header: str = ""


@dataclass
class Column:
    """One column of the monthly table: its organiser, year and header text."""

    organiser: str
    year: int
    label: str


def value(number: str) -> float:
    """The value of a figure as printed ("1.234", "1 234", "15,5")."""
    return float(number.replace(".", "").replace(" ", "").replace(",", "."))


def figures_at_end(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A line cut into its label and the figures that end it (none when it ends in a word)."""
    if not text or text[-1] not in FIGURE_ENDS:
        return text.strip(), []
    tokens: list[tuple[int, str | None, str]] = []  # start, number (or None), marks
    end = len(text)
    while end > 0:
        start = text.rfind(" ", 0, end) + 1
        if start < end:
            token = text[start:end]
            if token.isdecimal():  # a plain number, the most common token: no pattern needed
                tokens.append((start, token, ""))
            elif match := TOKEN.fullmatch(token):
                tokens.append((start, match["number"], match["marks"]))
            else:
                break
        end = start - 1
    tokens.reverse()
    # Marks or a percent sign before the first number belong to the label ("categorie %").
    first = next((i for i, (_, number, _) in enumerate(tokens) if number), len(tokens))
    figures: list[tuple[str, str]] = []
    for _, number, marks in tokens[first:]:
        if number:
            figures.append((number, marks))
        else:
            figures[-1] = (figures[-1][0], figures[-1][1] + marks)
    label = text[: tokens[first][0]] if figures else text
    return label.strip(), figures


def history_row(number: int, text: str) -> Row | None:
    """A line of the yearly history ("2017 : 1.234*"), or None."""
    match = HISTORY.match(text)
    if not match:
        return None
    label, tokens = figures_at_end(text[match.end() :])
    readings = Row(number, match["year"], tokens).readings(1) if not label else []
    return Row(number, match["year"], readings[0]) if len(readings) == 1 else None


def row_kind(label: str) -> str | None:
    """The table a row label belongs to, or None when the label is unknown."""
    if len(label) > LONGEST_LABEL:
        return None
    key = reference.normalise(label)
    if key in reference.months():
        return "MONTHLY"
    if key in TOTAL_LABELS:
        return "TOTAL"
    for kind, dimension in LABEL_DIMENSION.items():
        if key in reference.labels(dimension):
            return kind
    return None


def is_heading(row: Row) -> bool:
    """Whether an unknown row is a title that ends in a year ("Retour volontaire en 2018") or a
    lone number (a fragment of a header, an axis label), rather than a row of figures."""
    return not row.label or (len(row.tokens) == 1 and bool(YEAR.match(row.tokens[0][0])))


def split_rows(text: Text) -> tuple[list[Table], list[Row], list[dict]]:
    """Tables of figures (kind UNKNOWN for a table no list knows), history rows and footnote
    texts, in the order of the text."""
    lines = text.lines
    tables: list[Table] = []
    history: list[Row] = []
    footnotes: list[dict] = []
    run: list[Row] = []
    prose: list[tuple[int, str]] = []  # lines without figures: headers of the next table
    skip_to = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if number <= skip_to or not stripped:
            continue
        if stripped[0] == "*" and (match := FOOTNOTE.match(stripped)):
            block = [match["text"].strip()]
            end = number
            # The text goes on over the next lines until its sentence ends, a blank line comes,
            # or a line of figures starts (extracts do not always leave a blank line).
            while end < len(lines) and is_continuation(block[-1], lines[end].strip()):
                block.append(lines[end].strip())
                end += 1
            footnotes.append({"mark": match["marks"], "text": " ".join(block), "line": number})
            skip_to = end
            tables += close_run(run, None, prose)
            run = []
            continue
        if row := history_row(number, stripped):
            history.append(row)
            tables += close_run(run, None, prose)
            run = []
            continue
        label, tokens = figures_at_end(stripped)
        if not tokens:
            tables += close_run(run, None, prose)
            run = []
            prose.append((number, stripped))
            continue
        row = Row(number, label, tokens, row_kind(label))
        if row.kind == "TOTAL":
            tables += close_run(run, row, prose)
            run = []
        else:
            run.append(row)
    tables += close_run(run, None, prose)
    return tables, history, footnotes


def is_continuation(previous: str, line: str) -> bool:
    """Whether `line` continues a footnote's text that ended with `previous`."""
    if not line or previous.endswith("."):
        return False
    return not (FOOTNOTE.match(line) or history_row(0, line) or figures_at_end(line)[1])


def close_run(run: list[Row], total: Row | None, prose: list[tuple[int, str]]) -> list[Table]:
    """Cut a run of rows into tables of one kind each.

    Unknown rows inside a table, or before its total, stay in it (an unknown country is kept
    for the checks; elsewhere it rejects the bulletin). A table without a total ends with its
    last known row: what follows is a heading, or a table no list knows (kind UNKNOWN).
    """
    if not run and total is None:
        return []
    known = [i for i, row in enumerate(run) if row.kind]
    if not known:
        return unknown_table(run, total)
    head, body, tail = run[: known[0]], run[known[0] : known[-1] + 1], run[known[-1] + 1 :]
    tables: list[Table] = []
    if body[0].kind == "COUNTRY":
        # The first country may be one no list knows yet; a title above it is not a country.
        body = [row for row in head if not is_heading(row)] + body
    else:
        tables += unknown_table(head, None)
    if total is not None:
        body, tail = body + tail, []
    current = Table(body[0].kind or run[known[0]].kind)
    for row in body:
        if (row.kind and row.kind != current.kind) or not current.rows:
            header = next((line for number, line in reversed(prose) if number < row.line), "")
            current = Table(row.kind or current.kind, header=header)
            tables.append(current)
        current.rows.append(row)
    current.total = total
    return tables + unknown_table(tail, None)


def unknown_table(rows: list[Row], total: Row | None) -> list[Table]:
    """Rows no list knows: a table of kind UNKNOWN when they hold figures in rows (two rows or
    more, or one with a total), else nothing (a heading, a sentence that ends in a number)."""
    rows = [row for row in rows if not is_heading(row)]
    if len(rows) + (total is not None) < 2 or not rows:
        return []
    return [Table("UNKNOWN", rows, total)]


def monthly_header(text: Text, table: Table) -> list[Column] | None:
    """The monthly table's columns, read back from the lines above its first month: the widest
    header that every row fits, else the widest that its total fits (a row is then wrong)."""
    above = [line.strip() for line in text.lines[: table.rows[0].line - 1] if line.strip()][-20:]
    headers = []
    for start in range(len(above) - 1, -1, -1):
        if not starts_column(above[start].split()[:2], 0):
            continue  # a header starts with a column: a year, or "totaal" and a year
        header = ""
        for part in above[start:]:
            # Hyphenated words are joined ("Vreemdeling-" / "enzaken").
            header = header[:-1] + part if header.endswith("-") else f"{header} {part}".strip()
        columns = header_columns(header)
        if columns and table.total.readings(len(columns), spaced=text.spaced):
            headers.append(columns)
    headers.sort(key=len, reverse=True)
    return next((columns for columns in headers if fits(text, table, columns)), None) or next(
        iter(headers), None
    )


def fits(text: Text, table: Table, columns: list[Column]) -> bool:
    """Whether each month has a figure per column, or last year's only."""
    counts = (len(columns), 1) if len(previous_columns(columns)) == 1 else (len(columns),)
    return all(
        any(row.readings(count, spaced=text.spaced) for count in counts) for row in table.rows
    )


def previous_columns(columns: list[Column]) -> list[int]:
    """Indexes of the monthly columns of years before the report year."""
    report_year = max(column.year for column in columns)
    return [i for i, column in enumerate(columns) if column.year < report_year]


def header_columns(text: str) -> list[Column] | None:
    """Columns of a header text: each starts at a year, or at "totaal" before a year."""
    tokens = text.split()
    starts = [i for i in range(len(tokens)) if starts_column(tokens, i)]
    if not starts or starts[0] != 0:
        return None
    columns = []
    for start, end in zip(starts, [*starts[1:], len(tokens)], strict=True):
        label = " ".join(tokens[start:end])
        year = int(next(token for token in tokens[start:end] if YEAR.match(token)))
        organiser = column_organiser(label)
        if organiser is None:
            return None
        columns.append(Column(organiser, year, label))
    return columns


def starts_column(tokens: list[str], i: int) -> bool:
    """Whether a header token opens a column: "totaal" before a year, or a year on its own."""
    is_total = reference.normalise(tokens[i]) in TOTAL_LABELS
    if is_total:
        return i + 1 < len(tokens) and bool(YEAR.match(tokens[i + 1]))
    after_total = i > 0 and reference.normalise(tokens[i - 1]) in TOTAL_LABELS
    return bool(YEAR.match(tokens[i])) and not after_total


def column_organiser(label: str) -> str | None:
    """The organiser a monthly column counts: a total where it sums or says "totaal"."""
    key = reference.normalise(label)
    if "+" in key or key.split()[0] in TOTAL_LABELS:
        return "_T"
    found = {
        code for name, code in reference.labels("organiser").items() if f" {name} " in f" {key} "
    }
    return found.pop() if len(found) == 1 else None


def coverage(lines: list[str]) -> tuple[int | None, int | None]:
    """Coverage start and end months stated in the text ("t.e.m. <month>", "jusqu'à fin
    <month>", with the start month before it where there is one)."""
    for line in lines:
        lowered = line.lower()
        for match in COVERAGE.finditer(lowered):
            after = lowered[match.end() : match.end() + 40].split()
            end = reference.months().get(reference.normalise(after[0])) if after else None
            if end is None:
                continue
            before = lowered[max(0, match.start() - 40) : match.start()].split()
            start = reference.months().get(reference.normalise(before[-1]) if before else "", 1)
            return start, end
    return None, None


def parse(lines: list[str], file: str, origins: list[tuple[int, int]] | None = None) -> ParsedFile:
    """Parse a bulletin's lines into its edition and its observations, with their lines.

    `origins` gives the page and line of the page of each line (a PDF's rebuilt text). Raises
    BulletinError naming the line (and page) and the reason.
    """
    text = Text(file, lines, origins)
    tables, history, footnotes = split_rows(text)
    found, warnings = known_tables(text, tables)
    for kind in ("MONTHLY", "COUNTRY", "CATEGORY"):
        table = found.get(kind)
        if table and table.total is None:
            raise text.error(
                f"{TABLE_NAMES[kind]} (from {text.at(table.rows[0].line)}) ends without its"
                " 'totaal' row; is the file truncated?",
                table.rows[-1].line,
            )
    for kind in ("MONTHLY", "COUNTRY", "CATEGORY", "CHANNEL"):
        if kind not in found:
            raise text.error(f"{TABLE_NAMES[kind]} was not found; {missing_hint(lines)}")
    if not history:
        raise text.error("the yearly history (lines like 'YYYY : count') was not found")

    text.spaced = language(found["MONTHLY"].rows) == "fr"
    observations, edition = monthly_observations(text, found["MONTHLY"])
    period = f"{edition['report_year']}-{edition['coverage_start'][5:]}/{edition['coverage_end']}"
    for kind in ("COUNTRY", "CATEGORY", "CHANNEL"):
        observations += breakdown_observations(text, found[kind], period)
    for row in history:
        figure, marks = row.tokens[0]
        observations.append(observation("HISTORY", row, "", row.label, returns=figure, marks=marks))
    return ParsedFile(
        edition=edition,
        observations=pl.DataFrame(
            [(*fields, *text.origin(number)) for *fields, number in observations],
            schema=RAW_SCHEMA,
            orient="row",
        ),
        footnotes=[
            footnote | dict(zip(("page", "line"), text.origin(footnote["line"]), strict=True))
            for footnote in footnotes
        ],
        warnings=warnings,
    )


def known_tables(text: Text, tables: list[Table]) -> tuple[dict[str, Table], list[dict]]:
    """The table of each known kind, and a warning for each table no list knows.

    A table without its total followed by the rest of it (the next table of the same kind, a
    page further) is one table.
    """
    found: dict[str, Table] = {}
    warnings = []
    previous: Table | None = None
    for table in tables:
        if table.kind == "UNKNOWN":
            warnings.append(unknown_warning(text, table))
            previous = None
            continue
        earlier = found.get(table.kind)
        if earlier is not None and earlier is previous and earlier.total is None:
            earlier.rows += table.rows
            earlier.total = table.total
            continue
        if earlier is not None:
            raise text.error(
                f"{TABLE_NAMES[table.kind]} appears twice ({text.at(earlier.rows[0].line)}"
                f" and {text.at(table.rows[0].line)})",
                table.rows[0].line,
            )
        found[table.kind] = previous = table
    for table in found.values():
        unknown = next((row for row in table.rows if not row.kind), None)
        if unknown and table.kind != "COUNTRY":
            raise text.error(
                f"'{unknown.label}' is not a row of {TABLE_NAMES[table.kind]}"
                f" (from {text.at(table.rows[0].line)})",
                unknown.line,
            )
    return found, warnings


def unknown_warning(text: Text, table: Table) -> dict:
    """A warning for a table no list knows: where it is, its first rows and its figures."""
    rows = table.rows + ([table.total] if table.total else [])
    figures = sum(len(row.tokens) for row in rows)
    labels = ", ".join(f"'{row.label[:40]}'" for row in table.rows[:3])
    more = ", ..." if len(table.rows) > 3 else ""
    page, line = text.origin(rows[0].line)
    return {
        "reason": f"{text.span(rows[0].line, rows[-1].line)}: a table this parser does not know"
        f" ({labels}{more}; {figures} figures) was not loaded",
        "line": line,
        "page": page,
    }


def missing_hint(lines: list[str]) -> str:
    """Why a table may be missing: a text whose line breaks were lost, or a truncated one."""
    longest = max(range(len(lines)), key=lambda i: len(lines[i]), default=0)
    if lines and len(lines[longest]) > 10 * LONGEST_LABEL:
        return (
            f"line {longest + 1} holds {len(lines[longest]):,} characters: were the line breaks"
            " of the text lost?"
        )
    return "is the file truncated?"


def observation(
    table: str,
    row: Row,
    column: str,
    period: str,
    *,
    organiser: str = "",
    dimension_label: str = "",
    returns: str | None = None,
    share: str | None = None,
    marks: str = "",
) -> tuple:
    """One raw observation in the column order of RAW_SCHEMA, its line last (page and line of
    the page are filled in from it)."""
    labels = {LABEL_DIMENSION.get(table): dimension_label}
    return (
        table,
        row.label,
        column,
        period,
        organiser,
        labels.get("country", ""),
        labels.get("category", ""),
        labels.get("channel", ""),
        returns,
        share,
        marks,
        row.line,
    )


def read(text: Text, row: Row, counts: tuple[int, ...], share: int | None = None) -> list | None:
    """The row's figures read as the first of `counts` figures that fits; refused when the
    thousands written with spaces can be read in two ways."""
    for count in counts:
        readings = row.readings(count, share, text.spaced)
        if len(readings) == 1:
            return readings[0]
        if readings:
            raise text.error(
                f"the figures of '{row.label}' read as {count} figures in {len(readings)} ways"
                " (spaces between thousands and between columns); write thousands as 1.234"
                " or with a no-break space",
                row.line,
            )
    return None


def monthly_observations(text: Text, table: Table) -> tuple[list[tuple], dict]:
    """Observations of the monthly table and the edition identity its header gives."""
    columns = monthly_header(text, table)
    if columns is None:
        width = max(len(row.tokens) for row in table.rows)
        raise text.error(
            f"the header of the monthly table above {text.at(table.rows[0].line)} does not name"
            f" its {width} columns (Fedasil, DVZ, totals with their years)",
            table.rows[0].line,
        )
    report_year = max(column.year for column in columns)
    previous = previous_columns(columns)
    described = "; ".join(column.label for column in columns)

    seen: dict[int, int] = {}
    full_months = []
    observations = []
    for row in table.rows:
        month = reference.months()[reference.normalise(row.label)]
        if month in seen:
            raise text.error(
                f"the month '{row.label}' appears twice (first at {text.at(seen[month])})",
                row.line,
            )
        seen[month] = row.line
        counts = (len(columns), 1) if len(previous) == 1 else (len(columns),)
        figures = read(text, row, counts)
        if figures is None:
            raise text.error(
                f"'{row.label}' has {len(row.tokens)} figures where the monthly table has"
                f" {len(columns)} columns ({described}), or only the previous year's figure"
                " after the coverage end",
                row.line,
            )
        if len(figures) == len(columns):
            picked = list(enumerate(figures))
            full_months.append(month)
        else:
            picked = [(previous[0], figures[0])]
        for index, (figure, marks) in picked:
            column = columns[index]
            observations.append(
                observation(
                    "MONTHLY",
                    row,
                    column.label,
                    f"{column.year}-{month:02d}",
                    organiser=column.organiser,
                    returns=check_count(text, figure, row),
                    marks=marks,
                )
            )

    start, end = coverage(text.lines)
    if end is None:
        if not full_months:
            raise text.error("no month of the report year has figures", table.rows[0].line)
        start, end = 1, max(full_months)
    edition = {
        "format": "bulletin",
        "language": language(table.rows),
        "report_year": report_year,
        "coverage_start": f"{report_year}-{start:02d}",
        "coverage_end": f"{report_year}-{end:02d}",
        # The factsheet is Fedasil's own publication; it states no date of its own.
        "source_code": "FEDASIL",
        "source_label": None,
        "published_on": None,
    }

    total = table.total
    figures = read(text, total, (len(columns),))
    if figures is None:
        raise text.error(
            f"the 'totaal' row has {len(total.tokens)} figures where the monthly table has"
            f" {len(columns)} columns ({described})",
            total.line,
        )
    for column, (figure, marks) in zip(columns, figures, strict=True):
        period = (
            f"{column.year}-{start:02d}/{column.year}-{end:02d}"
            if column.year == report_year
            else str(column.year)
        )
        observations.append(
            observation(
                "MONTHLY",
                total,
                column.label,
                period,
                organiser=column.organiser,
                returns=check_count(text, figure, total),
                marks=marks,
            )
        )
    return observations, edition


def language(rows: list[Row]) -> str:
    """The language of the month names ("april" is Dutch and English: Dutch wins ties)."""
    votes = Counter(reference.month_language().get(reference.normalise(row.label)) for row in rows)
    return "fr" if votes["fr"] > votes["nl"] else "nl"


def breakdown_observations(text: Text, table: Table, period: str) -> list[tuple]:
    """Observations of a table by country, category or channel, and of its total row."""
    measures = ROW_MEASURES[table.kind]
    share = measures.index("share_pct") if "share_pct" in measures else None
    observations = []
    for row in table.rows:
        figures = read(text, row, (len(measures),), share)
        if figures is None:
            raise text.error(
                f"'{row.label}' has {len(row.tokens)} figures where a row of"
                f" {TABLE_NAMES[table.kind]} has {len(measures)} ({', '.join(measures)})",
                row.line,
            )
        observations.append(figures_observation(text, table, row, figures, row.label, period))
    if table.total is not None:
        total = table.total
        # A total may leave out the shares (they add up to 100): as many figures as fit.
        figures = read(text, total, tuple(range(len(measures), 0, -1)), share)
        if figures is None:
            raise text.error(
                f"the 'totaal' row of {TABLE_NAMES[table.kind]} has {len(total.tokens)} figures",
                total.line,
            )
        observations.append(figures_observation(text, table, total, figures, "_T", period))
    return observations


def figures_observation(
    text: Text, table: Table, row: Row, figures: list[tuple[str, str]], label: str, period: str
) -> tuple:
    """One observation from the figures of a row, in the order of the table's measures."""
    values = dict(zip(ROW_MEASURES[table.kind], figures, strict=False))
    returns = values.get("returns")
    share = values.get("share_pct")
    return observation(
        table.kind,
        row,
        table.header,
        period,
        dimension_label=label,
        returns=check_count(text, returns[0], row) if returns else None,
        share=share[0] if share else None,
        marks="".join(marks for _, marks in figures),
    )


def check_count(text: Text, figure: str, row: Row) -> str:
    """A count as published, refused when it is not a whole number."""
    if "," in figure:
        raise text.error(f"'{figure}' in '{row.label}' is not a whole number", row.line)
    return figure
