"""Reading a raw file: its hash, its text (UTF-8, UTF-16 or Windows-1252), and what a parser
makes of it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows import reference
from flows.errors import BulletinError

# C0 control characters other than tab and line ends never occur in a text bulletin.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A no-break space (or the narrow one of French typography) between a digit and three more
# separates thousands ("2 567"); the parser keeps it as one figure. Elsewhere it is a space.
NO_BREAK_SPACE = re.compile(r"(?<=\d)([\u00a0\u202f])(?=\d{3}(?!\d))|[\u00a0\u202f]")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A character written in UTF-8 (two to four bytes); Windows-1252 text hardly ever holds one.
UTF8_CHARACTER = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


# One raw observation: a figure (or a count and its share) as published, with its lineage.
RAW_SCHEMA = {
    "table_code": pl.String,
    "row_label": pl.String,
    "column_label": pl.String,
    "period": pl.String,
    "organiser_label": pl.String,
    "country_label": pl.String,
    "category_label": pl.String,
    "channel_label": pl.String,
    "returns_text": pl.String,
    "share_pct_text": pl.String,
    "footnote_marks": pl.String,
    "page_number": pl.Int32,
    "line_number": pl.Int32,
}
OBSERVATIONS_TABLE = "create table if not exists observations (sha256 varchar, {})".format(
    ", ".join(
        f"{name} {'integer' if dtype == pl.Int32 else 'varchar'}"
        for name, dtype in RAW_SCHEMA.items()
    )
)


@dataclass
class ParsedFile:
    """What the parser read from one file: the edition, its observations and footnotes."""

    edition: dict
    observations: pl.DataFrame
    footnotes: list[dict] = field(default_factory=list)
    # What was read but not loaded (a table the parser does not know): reason, line, page.
    warnings: list[dict] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode(data: bytes, file: str) -> tuple[str, str]:
    """The text of a file and its encoding: UTF-16 with a byte-order mark (Notepad's "Unicode"),
    else UTF-8, else Windows-1252."""
    if data.startswith(UTF16_BOMS):
        try:
            return text_of(data.decode("utf-16"), file), "utf-16"
        except UnicodeDecodeError:
            raise BulletinError(
                file, "the file starts as UTF-16 text but is not UTF-16 throughout"
            ) from None
    if b"\x00" in data and data.strip():
        raise BulletinError(file, "the file is binary, not a text bulletin")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            if UTF8_CHARACTER.search(data):
                # Read as Windows-1252, the UTF-8 lines would give names no one wrote.
                line = data.count(b"\n", 0, error.start) + 1
                raise BulletinError(
                    file,
                    "this line is not UTF-8 while others are: the file mixes encodings;"
                    " save it as UTF-8",
                    line,
                ) from None
            continue
        return text_of(text, file), "utf-8" if encoding == "utf-8-sig" else "windows-1252"
    raise BulletinError(file, "the file is neither UTF-8 nor Windows-1252 text")


def text_of(text: str, file: str) -> str:
    """The decoded text, refused when it is empty or holds control characters (binary)."""
    if not text.strip():
        raise BulletinError(file, "the file is empty")
    if match := CONTROL.search(text):
        line = text.count("\n", 0, match.start()) + 1
        raise BulletinError(file, "the file is binary, not a text bulletin", line)
    return text


def clean_lines(text: str) -> list[str]:
    """Lines without line ends, trailing blanks, tabs or format characters (soft hyphens,
    zero-width spaces); no-break spaces are spaces except between thousands."""
    lines = []
    drop = reference.format_characters()
    for line in text.splitlines():
        line = line.rstrip()
        # A soft hyphen that ends a line is where a word was broken: a hyphen, as printed.
        if line.endswith("\u00ad"):
            line = line[:-1] + "-"
        if not line.isascii():
            line = NO_BREAK_SPACE.sub(lambda m: "\u00a0" if m[1] else " ", line.translate(drop))
        lines.append(line.replace("\t", " ").rstrip())
    return lines
