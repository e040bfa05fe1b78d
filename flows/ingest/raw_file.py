"""Reading a raw file: its hash, its text (UTF-8 or Windows-1252), and what a parser makes of it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.errors import BulletinError

# C0 control characters other than tab and line ends never occur in a text bulletin.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


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


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode(data: bytes, file: str) -> tuple[str, str]:
    """The text of a file and its encoding; UTF-8 first, then Windows-1252."""
    if not data.strip():
        raise BulletinError(file, "the file is empty")
    if b"\x00" in data:
        raise BulletinError(file, "the file is binary, not a text bulletin")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if match := CONTROL.search(text):
            line = text.count("\n", 0, match.start()) + 1
            raise BulletinError(file, "the file is binary, not a text bulletin", line)
        return text, "utf-8" if encoding == "utf-8-sig" else "windows-1252"
    raise BulletinError(file, "the file is neither UTF-8 nor Windows-1252 text")


def clean_lines(text: str) -> list[str]:
    """Lines without line ends, trailing blanks or no-break spaces."""
    return [
        line.replace("\u00a0", " ").replace("\u202f", " ").rstrip() for line in text.splitlines()
    ]
