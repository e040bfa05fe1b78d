"""Choosing the reader of a raw file by its content: PDF factsheet, tidy CSV or bulletin text."""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.ingest import bulletin_pdf, bulletin_text, bulletin_tidy
from flows.ingest.raw_file import RAW_SCHEMA, ParsedFile, clean_lines, decode
from flows.ingest.stage import STAGED_TABLE


def is_tidy(path: Path) -> bool:
    """Whether a file is a tidy CSV: it opens with a header whose first column is period."""
    return bulletin_tidy.sniff(path) is not None


def parse_file(path: Path, sha256: str) -> ParsedFile:
    """Parse one raw file by its content: a PDF ("%PDF-"), a tidy CSV or a bulletin's text.

    A PDF's lines are rebuilt from the positions of its words, then read by the same table
    recogniser as a text extract; each figure keeps its page and line of the page.
    """
    if bulletin_pdf.is_pdf(path):
        lines, origins = bulletin_pdf.read(path, path.name)
        parsed = bulletin_text.parse(lines, path.name, origins)
        parsed.edition["encoding"] = "pdf"
    elif is_tidy(path):
        con = duckdb.connect()
        con.execute(STAGED_TABLE)
        edition = bulletin_tidy.load(con, path, sha256)
        observations = con.sql(
            f"select {', '.join(RAW_SCHEMA)} from staged order by line_number"
        ).pl()
        con.close()
        parsed = ParsedFile(edition, observations.cast(RAW_SCHEMA))
    else:
        text, encoding = decode(path.read_bytes(), path.name)
        parsed = bulletin_text.parse(clean_lines(text), path.name)
        parsed.edition["encoding"] = encoding
    parsed.edition |= {"sha256": sha256, "file_name": path.name}
    return parsed
