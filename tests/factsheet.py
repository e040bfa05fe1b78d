"""The sample bulletin laid out as PDF factsheets by reportlab, in Dutch or French, in the
layouts Fedasil uses: one column; two columns with the yearly history in a side box; ruled and
unruled tables with a bar chart, a pie chart, a logo and page footers."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from derive import MONTHS_NL as MONTHS
from derive import block_spans, french_cells, french_line, row_cells, table_blocks
from PIL import Image as PILImage
from PIL import ImageDraw
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors, pdfencrypt
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Frame,
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=11)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7, leading=8.5)
HEADING = ParagraphStyle("heading", parent=BODY, fontName="Helvetica-Bold", spaceBefore=6)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8, leading=9.5)
RULED = [("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
UNRULED = [("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
LAYOUTS = ("one-column", "two-columns", "charts")
UNKNOWN_TITLE = "5. Re-integratieondersteuning in 2018 (t.e.m. oktober)"
UNKNOWN_ROWS = [["Micro-onderneming", "320"], ["Huisvesting", "210"], ["Medische hulp", "95"],
                ["totaal", "625"]]  # fmt: skip


@dataclass
class Content:
    """What a factsheet says, cut into the pieces a layout places."""

    intro: list[str] = field(default_factory=list)  # paragraphs
    titles: dict[str, list[str]] = field(default_factory=dict)  # lines above each table
    headers: dict[str, list[list[str]]] = field(default_factory=dict)  # cells of lines
    rows: dict[str, list[list[str]]] = field(default_factory=dict)  # cells
    history: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)  # the section headings of pages 2 and 3
    footnotes: list[str] = field(default_factory=list)
    caption: str = ""  # under the AMIF logo


def paragraphs(lines: list[str]) -> list[str]:
    """Lines joined into paragraphs at blank lines; words broken with a hyphen joined again."""
    found, current = [], ""
    for line in [*lines, ""]:
        line = line.strip()
        if not line:
            if current:
                found.append(current)
            current = ""
        elif current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}".strip()
    return found


def content(sample: str, language: str = "nl", thousands: str = " ") -> Content:
    """The sample's content, in Dutch or (derived line for line) in French."""

    def line_of(line: str) -> str:
        return french_line(line, thousands) if language == "fr" else line

    def cells_of(cells: list[str]) -> list[str]:
        return french_cells(cells, thousands) if language == "fr" else cells

    lines = sample.split("\n")
    prose, _ = table_blocks(sample)
    found = Content(intro=paragraphs([line_of(line) for line in prose[0].split("\n")]))
    for kind, (first, last) in block_spans(sample).items():
        block = [line for line in lines[first : last + 1] if line.strip()]
        is_row = [len(row_cells(line)) > 1 and kind != "HISTORY" for line in block]
        if kind == "MONTHLY":
            # Rows start at the first month; the header cells above start at a year or "totaal".
            is_row = [line.split()[0] in MONTHS for line in block]
        start = is_row.index(True) if True in is_row else len(block)
        above = [line_of(line).strip() for line in block[:start]]
        if kind == "HISTORY":
            found.titles[kind] = above[:1]
            found.history = [line_of(line).strip() for line in block[1:]]
            continue
        if kind == "MONTHLY":
            first_cell = next(i for i, line in enumerate(above) if line[:4].isdigit())
            found.titles[kind] = above[:first_cell]
            cells: list[list[str]] = []
            for line in above[first_cell:]:
                opens = line[:4].isdigit() or line.split()[0] in ("totaal", "total")
                if opens or not cells:
                    cells.append([])
                cells[-1].append(line)
            found.headers[kind] = [[], *cells]
        else:
            words = above[-1].split()
            shares = [["%"]] if words[-1] == "%" else []
            middle = [[" ".join(words[1 : len(words) - len(shares)])]] if len(words) > 2 else []
            found.headers[kind] = [[words[0]], *middle, *shares]
            found.titles[kind] = above[:-1]
        found.rows[kind] = [cells_of(row_cells(line)) for line in block[start:]]
    rest = [line_of(line) for piece in prose[1:] for line in piece.split("\n")]
    # The prose right after the monthly table is the caption of the AMIF logo.
    found.caption = " ".join(line_of(line).strip() for line in prose[1].split("\n") if line.strip())
    for paragraph in paragraphs(rest):
        if paragraph.startswith("*"):
            found.footnotes.append(paragraph)
        elif paragraph != found.caption:
            found.headings.append(paragraph)
    return found


def cell(lines: list[str], style: ParagraphStyle = CELL) -> Paragraph:
    """A table cell of one or more lines (a header wrapped inside its cell)."""
    return Paragraph("<br/>".join(escape(line) for line in lines), style)


def table(
    found: Content, kind: str, ruled: bool, rows: slice = slice(None), column: float = 26 * mm
) -> Table:
    """One table of the factsheet: its header row and (some of) its rows."""
    header = [cell(lines) for lines in found.headers[kind]]
    width = len(header)
    body = []
    for cells in found.rows.get(kind, UNKNOWN_ROWS)[rows]:
        # A month after the coverage end has last year's figure only, in the last column.
        cells = [cells[0], *[""] * (width - len(cells)), *cells[1:]]
        body.append([escape(text) for text in cells])
    widths = [42 * mm] + [22 * mm] * (width - 1) if kind != "MONTHLY" else [column] * width
    if kind == "CHANNEL":
        widths[0] = 70 * mm
    style = TableStyle(
        [*(RULED if ruled else UNRULED), ("FONTSIZE", (0, 0), (-1, -1), 8),
         ("ALIGN", (1, 1), (-1, -1), "RIGHT")]
    )  # fmt: skip
    return Table([header, *body], colWidths=widths, style=style, repeatRows=1)


def text(lines: list[str], style: ParagraphStyle = BODY) -> list[Paragraph]:
    """Paragraphs of lines."""
    return [Paragraph(escape(line), style) for line in lines]


def section(found: Content, kind: str) -> str:
    """The section heading that announces a table (by its number: 2, 3 or 4)."""
    number = {"COUNTRY": "2.", "CATEGORY": "3.", "CHANNEL": "4."}[kind]
    return next(heading for heading in found.headings if heading.startswith(number))


def history_box(found: Content) -> Table:
    """The yearly history in a box with a border."""
    lines = [*found.titles["HISTORY"], *found.history]
    return Table(
        [[cell(lines, BODY)]],
        style=TableStyle([("BOX", (0, 0), (-1, -1), 1, colors.darkblue)]),
    )


def logo() -> Image:
    """A logo: a picture with no text in it."""
    picture = PILImage.new("RGB", (120, 60), "white")
    ImageDraw.Draw(picture).ellipse((10, 10, 110, 50), fill="navy")
    data = io.BytesIO()
    picture.save(data, format="PNG")
    data.seek(0)
    return Image(data, width=30 * mm, height=15 * mm)


def bar_chart(found: Content) -> Drawing:
    """The months of the report year as bars, with axis labels (numbers, month abbreviations)."""
    months = [cells for cells in found.rows["MONTHLY"][:-1] if len(cells) == 5]
    drawing = Drawing(160 * mm, 55 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 8 * mm, 140 * mm, 42 * mm
    chart.data = [[int(cells[3].replace(".", "").replace(" ", "")) for cells in months]]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 500, 100
    chart.categoryAxis.categoryNames = [cells[0][:3].lower() for cells in months]
    chart.valueAxis.labels.fontSize = chart.categoryAxis.labels.fontSize = 7
    drawing.add(chart)
    return drawing


def pie_chart(found: Content, kind: str) -> Drawing:
    """A pie chart without text: its legend is the table beside it."""
    drawing = Drawing(40 * mm, 40 * mm)
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 5 * mm, 5 * mm, 30 * mm, 30 * mm
    pie.data = [max(1, len(cells[0])) for cells in found.rows[kind] if cells[0] != "totaal"]
    pie.labels = None
    drawing.add(pie)
    return drawing


def footer(label: str) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """A page footer: the publication's name and the page number."""

    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.setFont("Helvetica", 7)
        canvas.drawString(20 * mm, 10 * mm, label)
        canvas.drawRightString(190 * mm, 10 * mm, str(doc.page))

    return draw


def one_column(found: Content, path: Path, unknown: bool = False) -> None:
    """Everything in one column; the country table split over pages 1 and 2. With `unknown`, a
    table no bulletin had before (reintegration support) follows the channels."""
    countries = len(found.rows["COUNTRY"])
    extra = (
        [Paragraph(UNKNOWN_TITLE, HEADING), table(found, "UNKNOWN", ruled=False)] if unknown else []
    )
    story = [
        *text(found.intro),
        *text(found.titles["MONTHLY"], HEADING),
        table(found, "MONTHLY", ruled=False),
        Spacer(1, 4 * mm),
        *text([section(found, "CATEGORY")], HEADING),
        table(found, "CATEGORY", ruled=False),
        *text([section(found, "CHANNEL")], HEADING),
        table(found, "CHANNEL", ruled=False),
        *extra,
        *text(found.titles["HISTORY"], HEADING),
        *text(found.history),
        *text([section(found, "COUNTRY")], HEADING),
        table(found, "COUNTRY", ruled=False, rows=slice(0, countries // 2)),
        PageBreak(),
        table(found, "COUNTRY", ruled=False, rows=slice(countries // 2, None)),
        *text(found.footnotes, SMALL),
    ]
    doc = SimpleDocTemplate(str(path), pagesize=A4, invariant=1)
    doc.build(story)


def two_columns(found: Content, path: Path) -> None:
    """Page 1: the introduction and the monthly table in a wide column, the yearly history in a
    side box with the footnotes under it; page 2: the other tables in two columns."""
    canvas = Canvas(str(path), pagesize=A4, invariant=1)
    height = A4[1]
    left = [
        *text(found.intro),
        *text(found.titles["MONTHLY"], HEADING),
        table(found, "MONTHLY", ruled=False, column=22 * mm),
        Spacer(1, 4 * mm),
        logo(),
        *text([found.caption], SMALL),
    ]
    right = [history_box(found), Spacer(1, 3 * mm), *text(found.footnotes, SMALL)]
    Frame(15 * mm, 15 * mm, 118 * mm, height - 30 * mm).addFromList(left, canvas)
    Frame(138 * mm, 15 * mm, 57 * mm, height - 30 * mm).addFromList(right, canvas)
    canvas.showPage()
    left = [*text([section(found, "COUNTRY")], HEADING), table(found, "COUNTRY", ruled=False)]
    right = [
        *text([section(found, "CATEGORY")], HEADING),
        table(found, "CATEGORY", ruled=False),
        Spacer(1, 4 * mm),
        *text([section(found, "CHANNEL")], HEADING),
        table(found, "CHANNEL", ruled=False),
    ]
    Frame(15 * mm, 15 * mm, 85 * mm, height - 30 * mm).addFromList(left, canvas)
    Frame(102 * mm, 15 * mm, 93 * mm, height - 30 * mm).addFromList(right, canvas)
    canvas.showPage()
    canvas.save()


def charts(found: Content, path: Path) -> None:
    """Ruled and unruled tables, a bar chart of the months with its axis labels, pie charts
    with their legends as tables, a logo, footers with page numbers; the country table on
    page 2."""
    story = [
        logo(),
        *text([found.caption], SMALL),
        *text(found.intro),
        *text(found.titles["MONTHLY"], HEADING),
        table(found, "MONTHLY", ruled=True),
        bar_chart(found),
        PageBreak(),
        *text([section(found, "COUNTRY")], HEADING),
        table(found, "COUNTRY", ruled=True),
        history_box(found),
        *text([section(found, "CATEGORY")], HEADING),
        Table([[pie_chart(found, "CATEGORY"), table(found, "CATEGORY", ruled=False)]]),
        *text([section(found, "CHANNEL")], HEADING),
        Table([[pie_chart(found, "CHANNEL"), table(found, "CHANNEL", ruled=True)]]),
        *text(found.footnotes, SMALL),
    ]
    doc = SimpleDocTemplate(str(path), pagesize=A4, invariant=1)
    label = "Fedasil \u2013 factsheet"
    doc.build(story, onFirstPage=footer(label), onLaterPages=footer(label))


def write_factsheet(
    sample: str, layout: str, path: Path, language: str = "nl", thousands: str = " "
) -> Path:
    """The sample as a PDF factsheet in one of LAYOUTS, in Dutch or French."""
    {"one-column": one_column, "two-columns": two_columns, "charts": charts}[layout](
        content(sample, language, thousands), path
    )
    return path


def write_with_unknown_table(sample: str, path: Path) -> Path:
    """The one-column factsheet with a table of reintegration support after the channels."""
    found = content(sample)
    found.headers["UNKNOWN"] = [["type"], ["aantal"]]
    one_column(found, path, unknown=True)
    return path


def write_scan(path: Path) -> Path:
    """A scanned page: one picture, no text layer."""
    picture = PILImage.new("L", (600, 800), "white")
    draw = ImageDraw.Draw(picture)
    for y in range(50, 750, 20):
        draw.line((50, y, 550, y), fill="black", width=3)
    data = io.BytesIO()
    picture.save(data, format="PNG")
    data.seek(0)
    doc = SimpleDocTemplate(str(path), pagesize=A4, invariant=1)
    doc.build([Image(data, width=150 * mm, height=200 * mm)])
    return path


def write_encrypted(sample: str, path: Path) -> Path:
    """A factsheet that opens only with a password."""
    encryption = pdfencrypt.StandardEncryption("secret", ownerPassword="owner")
    doc = SimpleDocTemplate(str(path), pagesize=A4, encrypt=encryption, invariant=1)
    doc.build(text(content(sample).intro))
    return path
