"""Parser of the text extract of Fedasil's voluntary-return bulletin.

Tables are recognised by their rows (month names, countries, categories, channels), not by
where the extractor put them; nothing here knows an edition's year, months or countries.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from flows import reference
from flows.errors import BulletinError
from flows.ingest.raw_file import RAW_SCHEMA, ParsedFile

# Dutch numbers: "1.234" (thousands), "15" or "15,5" (decimal comma); marks like "*" follow.
NUMBER = r"\d{1,3}(?:\.\d{3})+|\d+(?:,\d+)?"
FIGURE = re.compile(rf"({NUMBER})\s*(\**)\s*%?")
ROW = re.compile(rf"^(?P<label>.*?)(?:^|\s+)(?P<figures>(?:(?:{NUMBER})\s*\**\s*%?\s*)+)$")
HISTORY = re.compile(rf"^(?P<year>(?:19|20)\d\d)\s*:\s*(?P<figure>{NUMBER})\s*(?P<marks>\**)$")
FOOTNOTE = re.compile(r"^(?P<marks>\*+)\s*(?P<text>[^\d\s*].*)$")
COVERAGE = re.compile(
    r"(?:(?P<start>\w+)\s+)?(?:t\.\s?e\.\s?m\.|jusqu'(?:à|au)(?:\s+fin)?)\s+(?P<end>\w+)"
)
YEAR = re.compile(r"^(?:19|20)\d\d$")
TOTAL_LABELS = {"totaal", "total", "totaux"}

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
class Row:
    """One line of figures: its number, label, figures and their footnote marks."""

    line: int
    label: str
    figures: list[tuple[str, str]]
    kind: str | None = None


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


def row_kind(label: str) -> str | None:
    """The table a row label belongs to, or None when the label is unknown."""
    key = reference.normalise(label)
    if key in reference.months():
        return "MONTHLY"
    if key in TOTAL_LABELS:
        return "TOTAL"
    for kind, dimension in LABEL_DIMENSION.items():
        if key in reference.labels(dimension):
            return kind
    return None


def split_rows(lines: list[str]) -> tuple[list[Table], list[Row], list[dict]]:
    """Tables of figures, history rows and footnote texts, in the order of the file."""
    tables: list[Table] = []
    history: list[Row] = []
    footnotes: list[dict] = []
    run: list[Row] = []
    prose: list[tuple[int, str]] = []  # lines without figures: headers of the next table
    skip_to = 0
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if number <= skip_to or not text:
            continue
        if match := FOOTNOTE.match(text):
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
        if match := HISTORY.match(text):
            history.append(Row(number, match["year"], [(match["figure"], match["marks"])]))
            tables += close_run(run, None, prose)
            run = []
            continue
        match = ROW.match(text)
        if not match:
            tables += close_run(run, None, prose)
            run = []
            prose.append((number, text))
            continue
        row = Row(number, match["label"].strip(), FIGURE.findall(match["figures"]))
        row.kind = row_kind(row.label)
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
    return not (FOOTNOTE.match(line) or HISTORY.match(line) or ROW.match(line))


def close_run(run: list[Row], total: Row | None, prose: list[tuple[int, str]]) -> list[Table]:
    """Cut a run of rows into tables of one kind each; unknown labels join their neighbours."""
    rows = list(run)
    # Lines above a table that end in a number ("... in <year>") are part of its header, except
    # above the country table, whose first country may be one no list knows yet.
    while rows and not rows[0].kind and (not rows[0].label or first_kind(rows) != "COUNTRY"):
        rows.pop(0)
    if not rows:
        return []  # a sentence that ends in a number, not a table
    tables: list[Table] = []
    for row in rows:
        kind = row.kind or (tables[-1].kind if tables else first_kind(rows))
        if not tables or tables[-1].kind != kind:
            header = next((text for line, text in reversed(prose) if line < row.line), "")
            tables.append(Table(kind, header=header))
        tables[-1].rows.append(row)
    tables[-1].total = total
    return tables


def first_kind(rows: list[Row]) -> str | None:
    """The kind of the first row whose label is known."""
    return next((row.kind for row in rows if row.kind), None)


def monthly_header(lines: list[str], first_row: int, width: int) -> list[Column] | None:
    """The monthly table's columns, read back from the lines above its first month."""
    above = [line.strip() for line in lines[: first_row - 1] if line.strip()][-20:]
    for start in range(len(above) - 1, -1, -1):
        text = ""
        for part in above[start:]:
            # Hyphenated words are joined ("Vreemdeling-" / "enzaken").
            text = text[:-1] + part if text.endswith("-") else f"{text} {part}".strip()
        columns = header_columns(text)
        if columns and len(columns) == width:
            return columns
    return None


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
    """Coverage start and end months stated in the text ("t.e.m. <month>")."""
    for line in lines:
        for match in COVERAGE.finditer(line.lower()):
            end = reference.months().get(reference.normalise(match["end"]))
            if end is None:
                continue
            start = reference.months().get(reference.normalise(match["start"] or ""), 1)
            return start, end
    return None, None


def parse(lines: list[str], file: str) -> ParsedFile:
    """Parse a bulletin's lines into its edition and its observations, with line numbers."""
    tables, history, footnotes = split_rows(lines)
    found: dict[str, Table] = {}
    for table in tables:
        if table.kind in found:
            raise BulletinError(
                file,
                f"{TABLE_NAMES[table.kind]} appears twice (lines {found[table.kind].rows[0].line}"
                f" and {table.rows[0].line})",
                table.rows[0].line,
            )
        found[table.kind] = table
        unknown = next((row for row in table.rows if not row.kind), None)
        if unknown and table.kind != "COUNTRY":
            raise BulletinError(
                file,
                f"'{unknown.label}' is not a row of {TABLE_NAMES[table.kind]}"
                f" (from line {table.rows[0].line})",
                unknown.line,
            )
    for kind in ("MONTHLY", "COUNTRY", "CATEGORY"):
        table = found.get(kind)
        if table and table.total is None:
            raise BulletinError(
                file,
                f"{TABLE_NAMES[kind]} (from line {table.rows[0].line}) ends without its"
                " 'totaal' row; is the file truncated?",
                table.rows[-1].line,
            )
    for kind in ("MONTHLY", "COUNTRY", "CATEGORY", "CHANNEL"):
        if kind not in found:
            raise BulletinError(file, f"{TABLE_NAMES[kind]} was not found; is the file truncated?")
    if not history:
        raise BulletinError(file, "the yearly history (lines like 'YYYY : count') was not found")

    observations, edition = monthly_observations(lines, found["MONTHLY"], file)
    period = f"{edition['report_year']}-{edition['coverage_start'][5:]}/{edition['coverage_end']}"
    for kind in ("COUNTRY", "CATEGORY", "CHANNEL"):
        observations += breakdown_observations(found[kind], period, file)
    for row in history:
        figure, marks = row.figures[0]
        observations.append(observation("HISTORY", row, "", row.label, returns=figure, marks=marks))
    return ParsedFile(
        edition=edition,
        observations=pl.DataFrame(observations, schema=RAW_SCHEMA, orient="row"),
        footnotes=footnotes,
    )


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
    """One raw observation in the column order of RAW_SCHEMA."""
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


def monthly_observations(lines: list[str], table: Table, file: str) -> tuple[list[tuple], dict]:
    """Observations of the monthly table and the edition identity its header gives."""
    width = max(len(row.figures) for row in table.rows)
    columns = monthly_header(lines, table.rows[0].line, width)
    if columns is None:
        raise BulletinError(
            file,
            f"the header of the monthly table above line {table.rows[0].line} does not name its"
            f" {width} columns (Fedasil, DVZ, totals with their years)",
            table.rows[0].line,
        )
    report_year = max(column.year for column in columns)
    previous = [i for i, column in enumerate(columns) if column.year < report_year]
    described = "; ".join(column.label for column in columns)

    seen: dict[int, int] = {}
    full_months = []
    observations = []
    for row in table.rows:
        month = reference.months()[reference.normalise(row.label)]
        if month in seen:
            raise BulletinError(
                file,
                f"the month '{row.label}' appears twice (first at line {seen[month]})",
                row.line,
            )
        seen[month] = row.line
        if len(row.figures) == len(columns):
            picked = list(enumerate(row.figures))
            full_months.append(month)
        elif len(row.figures) == 1 and len(previous) == 1:
            picked = [(previous[0], row.figures[0])]
        else:
            raise BulletinError(
                file,
                f"'{row.label}' has {len(row.figures)} figures where the monthly table has"
                f" {len(columns)} columns ({described}), or only the previous year's figure"
                " after the coverage end",
                row.line,
            )
        for index, (figure, marks) in picked:
            column = columns[index]
            observations.append(
                observation(
                    "MONTHLY",
                    row,
                    column.label,
                    f"{column.year}-{month:02d}",
                    organiser=column.organiser,
                    returns=check_count(figure, row, file),
                    marks=marks,
                )
            )

    start, end = coverage(lines)
    if end is None:
        if not full_months:
            raise BulletinError(file, "no month of the report year has figures", table.rows[0].line)
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
    if len(total.figures) != len(columns):
        raise BulletinError(
            file,
            f"the 'totaal' row has {len(total.figures)} figures where the monthly table has"
            f" {len(columns)} columns ({described})",
            total.line,
        )
    for column, (figure, marks) in zip(columns, total.figures, strict=True):
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
                returns=check_count(figure, total, file),
                marks=marks,
            )
        )
    return observations, edition


def language(rows: list[Row]) -> str:
    """The language of the month names ("april" is Dutch and English: Dutch wins ties)."""
    votes = Counter(reference.month_language().get(reference.normalise(row.label)) for row in rows)
    return "fr" if votes["fr"] > votes["nl"] else "nl"


def breakdown_observations(table: Table, period: str, file: str) -> list[tuple]:
    """Observations of a table by country, category or channel, and of its total row."""
    measures = ROW_MEASURES[table.kind]
    observations = []
    for row in table.rows:
        if len(row.figures) != len(measures):
            raise BulletinError(
                file,
                f"'{row.label}' has {len(row.figures)} figures where a row of"
                f" {TABLE_NAMES[table.kind]} has {len(measures)} ({', '.join(measures)})",
                row.line,
            )
        observations.append(figures_observation(table, row, row.label, period, measures, file))
    if table.total is not None:
        total = table.total
        if not 1 <= len(total.figures) <= len(measures):
            raise BulletinError(
                file,
                f"the 'totaal' row of {TABLE_NAMES[table.kind]} has {len(total.figures)} figures",
                total.line,
            )
        observations.append(figures_observation(table, total, "_T", period, measures, file))
    return observations


def figures_observation(
    table: Table, row: Row, label: str, period: str, measures: tuple[str, ...], file: str
) -> tuple:
    """One observation from the figures of a row, in the order of the table's measures."""
    values = dict(zip(measures, row.figures, strict=False))
    returns = values.get("returns")
    share = values.get("share_pct")
    return observation(
        table.kind,
        row,
        table.header,
        period,
        dimension_label=label,
        returns=check_count(returns[0], row, file) if returns else None,
        share=share[0] if share else None,
        marks="".join(marks for _, marks in row.figures),
    )


def check_count(figure: str, row: Row, file: str) -> str:
    """A count as published, refused when it is not a whole number."""
    if "," in figure:
        raise BulletinError(file, f"'{figure}' in '{row.label}' is not a whole number", row.line)
    return figure
