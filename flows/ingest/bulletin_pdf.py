"""Reader of a bulletin published as a PDF factsheet: the words of each page, with their
positions, rebuilt into the lines of its columns, boxes and tables.

pdfplumber (MIT, on pdfminer.six, pure Python) is the library: it gives every word with its box,
and the rectangles, rules and images of a page, which is what rebuilding rows by position needs.
Text in stream order does not do: pdftotext and pdfminer's `extract_text()` interleave the lines
of two columns ("... wettig verblijf \u2013 die 2017 : 1.234*"), and pdfminer's own layout analysis
reads a table column by column.

Each page is cut into regions along its widest blank bands (a recursive X-Y cut): into columns
where a blank band runs from the top of a region to its bottom and what lies right of it is not
a column of figures (that is a gap inside a table), else into blocks above one another. Lines
are rebuilt inside each region, so a side box never interleaves with the column beside it.
Chart axis labels, text on images, logo captions and repeated page headers and footers are left
out. The bulletin text parser reads the lines as it reads a text extract.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from flows.errors import BulletinError
from flows.ingest.raw_file import clean_lines

if TYPE_CHECKING:
    import pdfplumber

# A word that is a figure, a footnote mark or a percent sign.
FIGURE = re.compile(r"[\d.,]*\d[\d.,]*\**%?|\*+|%")
GROUP_HEAD = re.compile(r"\d{1,3}")
GROUP_TAIL = re.compile(r"\d{3}(?:,\d+)?\**%?")
PAGE_NUMBER = re.compile(r"\W*(?:pagina|page|p\.)?\s*\d+(?:\s*(?:/|van|de|of|sur)\s*\d+)?\W*", re.I)
# Gaps in units of the page's usual font size: a blank band this wide between columns, this
# high between blocks; two groups of digits closer than this are one number ("2 567").
COLUMN_GAP = 1.2
BLOCK_GAP = 0.35
THOUSANDS_GAP = 0.5
# Page headers and footers are looked for in this share of the page's height, top and bottom.
MARGIN = 0.08
# Chart axis labels sit this far (in points) left of, below and above the bars and axes.
AXIS_LABELS = {"left": 45.0, "bottom": 25.0, "top": 12.0, "right": 10.0}

Word = dict  # a word of pdfplumber: text, x0, x1, top, bottom, size
# pdfminer logs what it repairs in malformed files; a file it cannot read is rejected here.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


def is_pdf(path: Path) -> bool:
    """Whether a file is a PDF: "%PDF-" within its first kilobyte."""
    with open(path, "rb") as handle:
        return b"%PDF-" in handle.read(1024)


def read(path: Path, file: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The rebuilt lines of every page, and the page and line of the page of each.

    Raises BulletinError for a scan (no text layer), an encrypted or a damaged file.
    """
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 2048))
        if b"%%EOF" not in handle.read():
            raise BulletinError(file, "the PDF ends before its end marker: it is truncated")
    # Imported here: only a raw folder with PDFs needs pdfplumber (a quarter of a second).
    import pdfplumber
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        with pdfplumber.open(path) as pdf:
            pages = [page_words(page, number, file) for number, page in enumerate(pdf.pages, 1)]
    except BulletinError:
        raise
    except PdfminerException as error:
        cause = error.args[0] if error.args else error
        if "Password" in type(cause).__name__ or "Encrypt" in type(cause).__name__:
            raise BulletinError(
                file, "the PDF is protected by a password: save it without one"
            ) from None
        raise BulletinError(file, f"the PDF is damaged ({describe(cause)})") from None
    except Exception as error:  # pdfminer raises many kinds of error on malformed files
        raise BulletinError(file, f"the PDF is damaged ({describe(error)})") from None
    if not any(words for words, _ in pages):
        raise BulletinError(file, "no page of the PDF holds text: is it damaged?")
    repeated = repeated_margins(pages)
    lines: list[str] = []
    origins: list[tuple[int, int]] = []
    for number, (words, height) in enumerate(pages, start=1):
        dropped = {
            id(word)
            for text, line in margin_lines(words, height)
            if PAGE_NUMBER.fullmatch(text) or masked(text) in repeated
            for word in line
        }
        kept = [w for w in words if id(w) not in dropped]
        page_lines = clean_lines("\n".join(rebuild(kept)))
        lines += page_lines
        origins += [(number, line) for line in range(1, len(page_lines) + 1)]
    return lines, origins


def describe(error: BaseException) -> str:
    """An error of pdfminer in a few words."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text[:80]}" if text else type(error).__name__


def page_words(page: pdfplumber.page.Page, number: int, file: str) -> tuple[list[Word], float]:
    """The upright words of a page that are text (not chart axis labels, not on images or
    their captions), and the page's height."""
    words = [w for w in page.extract_words(extra_attrs=["size"]) if w["upright"]]
    if not words and page.images:
        raise BulletinError(
            file, f"page {number} has no text layer: scanned PDFs are not supported"
        )
    if not words:
        return [], page.height
    drop = chart_boxes(page) + [box_of(image) for image in page.images]
    words = [w for w in words if not any(inside(w, box) for box in drop)]
    captions = {id(w) for image in page.images for w in caption(words, image)}
    return [w for w in words if id(w) not in captions], page.height


def box_of(item: dict) -> tuple[float, float, float, float]:
    """The box (x0, top, x1, bottom) of a word, a rectangle, a line or an image."""
    return item["x0"], item["top"], item["x1"], item["bottom"]


def inside(word: Word, box: tuple[float, float, float, float]) -> bool:
    """Whether the middle of a word lies in a box."""
    x, y = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def caption(words: list[Word], image: dict) -> list[Word]:
    """The words of an image's caption: a line in small print just under it, across it."""
    if not words:
        return []
    size = statistics.median(w["size"] for w in words)
    under = [
        w
        for w in words
        if w["size"] < size and image["bottom"] <= w["top"] <= image["bottom"] + size
    ]
    found = []
    for line in group_lines(under):
        for part in parts_of(line, COLUMN_GAP * size):
            if part[0]["x0"] <= image["x1"] and part[-1]["x1"] >= image["x0"]:
                found += part
    return found


def parts_of(line: list[Word], gap: float) -> list[list[Word]]:
    """A line cut where its words are further apart than `gap` (columns side by side)."""
    parts = [[line[0]]]
    for previous, word in itertools.pairwise(line):
        if word["x0"] - previous["x1"] > gap:
            parts.append([])
        parts[-1].append(word)
    return parts


def chart_boxes(page: pdfplumber.page.Page) -> list[tuple[float, float, float, float]]:
    """The boxes of bar charts with their axis labels: three filled bars or more on one
    baseline, of unequal heights, with the axes that touch them."""
    bars: dict[int, list[dict]] = {}
    for rect in page.rects:
        if rect.get("fill") and rect["width"] < 60:
            bars.setdefault(round(rect["bottom"]), []).append(rect)
    boxes = []
    for group in bars.values():
        if len(group) < 3 or len({round(r["height"]) for r in group}) < 2:
            continue
        x0, top, x1, bottom = (
            min(r["x0"] for r in group),
            min(r["top"] for r in group),
            max(r["x1"] for r in group),
            max(r["bottom"] for r in group),
        )
        for line in page.lines:
            lx0, ltop, lx1, lbottom = box_of(line)
            if lx0 <= x1 + 5 and lx1 >= x0 - 5 and ltop <= bottom + 5 and lbottom >= top - 5:
                x0, top = min(x0, lx0), min(top, ltop)
                x1, bottom = max(x1, lx1), max(bottom, lbottom)
        boxes.append(
            (
                x0 - AXIS_LABELS["left"],
                top - AXIS_LABELS["top"],
                x1 + AXIS_LABELS["right"],
                bottom + AXIS_LABELS["bottom"],
            )
        )
    return boxes


def margin_lines(words: list[Word], height: float) -> list[tuple[str, list[Word]]]:
    """Lines in the top and bottom margins of a page, with their words."""
    found = []
    for line in group_lines([w for w in words if in_margin(w, height)]):
        found.append((" ".join(w["text"] for w in line), line))
    return found


def in_margin(word: Word, height: float) -> bool:
    """Whether a word is in the top or bottom margin of its page."""
    return word["bottom"] < MARGIN * height or word["top"] > (1 - MARGIN) * height


def repeated_margins(pages: list[tuple[list[Word], float]]) -> set[str]:
    """Texts of margin lines found on two pages or more, digits masked: headers, footers."""
    seen: Counter[str] = Counter()
    for words, height in pages:
        seen.update({masked(text) for text, _ in margin_lines(words, height)})
    return {text for text, count in seen.items() if count > 1}


def masked(text: str) -> str:
    """A text with its numbers masked: the same footer on every page ("pagina 2")."""
    return re.sub(r"\d+", "#", text)


def rebuild(words: list[Word]) -> list[str]:
    """The lines of a page: region by region in reading order, top to bottom in each."""
    if not words:
        return []
    size = statistics.median(w["size"] for w in words)
    lines = []
    for region in regions(words, size):
        lines += region_lines(region, size)
    return lines


def regions(words: list[Word], size: float) -> list[list[Word]]:
    """Regions of a page in reading order: columns left to right, blocks top to bottom."""
    found: list[list[Word]] = []
    pending = [words]
    while pending:
        region = pending.pop(0)
        parts = split(region, size)
        if parts is None:
            found.append(region)
        else:
            pending[:0] = parts
    return found


def split(words: list[Word], size: float) -> list[list[Word]] | None:
    """A region cut in two at its widest column gutter, else at its widest gap between blocks;
    None when it is one block."""
    gutters = blank_bands(words, "x0", "x1", COLUMN_GAP * size)
    columns = [gap for gap in gutters if not is_table_gap(words, gap, size)]
    if columns:
        start, end = max(columns, key=lambda gap: gap[1] - gap[0])
        return [[w for w in words if w["x1"] <= start], [w for w in words if w["x0"] >= end]]
    gaps = blank_bands(words, "top", "bottom", BLOCK_GAP * size)
    if gaps:
        start, end = max(gaps, key=lambda gap: gap[1] - gap[0])
        return [[w for w in words if w["bottom"] <= start], [w for w in words if w["top"] >= end]]
    return None


def blank_bands(words: list[Word], low: str, high: str, least: float) -> list[tuple[float, float]]:
    """Bands at least `least` wide that no word covers, between the words (along x or y)."""
    spans = sorted((w[low], w[high]) for w in words)
    bands = []
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start - reach >= least:
            bands.append((reach, start))
        reach = max(reach, end)
    return bands


def is_table_gap(words: list[Word], gap: tuple[float, float], size: float) -> bool:
    """Whether a gutter is a gap inside a table: in most lines from the first line of figures
    down, the first cell right of it holds figures only (a column of figures under its header),
    where beside a column of text it holds text."""
    figures = text = 0
    for line in group_lines([w for w in words if w["x0"] >= gap[1]]):
        if all(FIGURE.fullmatch(w["text"]) for w in parts_of(line, COLUMN_GAP * size)[0]):
            figures += 1
        elif figures:
            text += 1
    return figures > 0 and figures >= text


def group_lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines (by the middle of their height), each left to right."""
    lines: list[list[Word]] = []
    bottom = -1.0
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        middle = (word["top"] + word["bottom"]) / 2
        if lines and middle <= bottom:
            lines[-1].append(word)
            bottom = max(bottom, word["bottom"])
        else:
            lines.append([word])
            bottom = word["bottom"]
    return [sorted(line, key=lambda w: w["x0"]) for line in lines]


def region_lines(words: list[Word], size: float) -> list[str]:
    """The lines of one region. Where a table's header is in the region above its rows, its
    cells are read column by column, each cell top to bottom, as a text extract gives them."""
    lines = group_lines(words)
    gaps = blank_bands(words, "x0", "x1", COLUMN_GAP * size)
    header: list[list[Word]] = []
    first = next((i for i, line in enumerate(lines) if gaps and is_row(line, gaps[0][1])), 0)
    if first > 0:
        edges = [float("-inf"), *(end for _, end in gaps), float("inf")]
        for low, high in itertools.pairwise(edges):
            for line in lines[:first]:
                cell = [w for w in line if low <= w["x0"] < high]
                if cell:
                    header.append(cell)
        lines = lines[first:]
    return [line_text(line, size) for line in header + lines]


def is_row(line: list[Word], figures_from: float) -> bool:
    """Whether a line of a table is a row: figures only, right of its first column."""
    right = [w for w in line if w["x0"] >= figures_from]
    return bool(right) and all(FIGURE.fullmatch(w["text"]) for w in right)


def line_text(line: list[Word], size: float) -> str:
    """A line's words joined by spaces; groups of digits close together are one number, kept
    together by a no-break space ("2 567")."""
    text = line[0]["text"]
    for previous, word in itertools.pairwise(line):
        close = word["x0"] - previous["x1"] < THOUSANDS_GAP * size
        grouped = GROUP_HEAD.fullmatch(previous["text"]) and GROUP_TAIL.fullmatch(word["text"])
        text += ("\u00a0" if close and grouped else " ") + word["text"]
    return text


def main(argv: list[str] | None = None) -> None:
    """Print the rebuilt text of a PDF with the page and line of each line; exit with one line
    when the file cannot be read."""
    parser = argparse.ArgumentParser(
        prog="python -m flows.ingest.bulletin_pdf", description=main.__doc__.splitlines()[0]
    )
    parser.add_argument("pdf", type=Path)
    path = parser.parse_args(argv).pdf
    try:
        if not is_pdf(path):
            sys.exit(f"{path}: not a PDF (it does not start with %PDF-)")
        lines, origins = read(path, path.name)
    except BulletinError as error:
        sys.exit(str(error))
    except OSError as error:
        sys.exit(f"{path}: {error.strerror}")
    for line, (page, number) in zip(lines, origins, strict=True):
        print(f"{page:>3} {number:>4}  {line}")


if __name__ == "__main__":
    main()
