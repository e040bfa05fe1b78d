"""Untrusted text (file names, labels, reasons quoting them) made safe to show.

On a terminal, control and format characters are shown as escapes (`\\x1b[2J` clears no
screen) and a long text is cut; in Markdown, every ASCII punctuation mark is escaped as
CommonMark allows, so that a name renders as the text it is, never as markup or HTML.
"""

from __future__ import annotations

import re
import unicodedata

# Characters longer than this are cut: a 100,000-character label is shown by its start.
LIMIT = 300
# Categories shown as escapes: controls, format characters (bidi overrides, soft hyphens),
# line and paragraph separators, lone surrogates (from file names that are not UTF-8).
HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs"}
PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def terminal(text: object, limit: int = LIMIT) -> str:
    """Text for a terminal: cut to `limit` characters, hidden characters as escapes."""
    text = str(text)
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    if text.isprintable():
        return text  # no character of a hidden category: the common case, without a loop
    return "".join(ascii(c)[1:-1] if unicodedata.category(c) in HIDDEN else c for c in text)


def markdown(text: object, limit: int = LIMIT) -> str:
    """Text for Markdown: as on a terminal, then every punctuation mark escaped."""
    return PUNCTUATION.sub(r"\\\1", terminal(text, limit))
