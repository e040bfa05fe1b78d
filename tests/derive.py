"""Editions derived from the sample bulletin's text, for tests."""

from __future__ import annotations

import re

YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
MONTHS_NL = [
    "Januari", "Februari", "Maart", "April", "Mei", "Juni",
    "Juli", "Augustus", "September", "Oktober", "November", "December",
]  # fmt: skip


def dutch(number: int) -> str:
    """A count in the bulletin's Dutch notation (2.567)."""
    return f"{number:,}".replace(",", ".")


def number(text: str) -> int:
    """A Dutch count read back."""
    return int(text.replace(".", ""))


def shift_years(text: str, years: int) -> str:
    """The same bulletin, every year moved by `years` (another report year)."""
    return YEAR.sub(lambda m: str(int(m.group(1)) + years), text)


def cut_coverage(text: str, last_month: int) -> str:
    """The same bulletin published earlier: months after `last_month` keep only last year's
    figure, the coverage says so, and the monthly total adds up again."""
    lines = text.split("\n")
    totals = [0, 0, 0]
    for i, line in enumerate(lines):
        words = line.split()
        if words and words[0] in MONTHS_NL and len(words) == 5:
            month = MONTHS_NL.index(words[0]) + 1
            if month > last_month:
                lines[i] = f"{words[0]} {words[4]}"
            else:
                totals = [t + number(w) for t, w in zip(totals, words[1:4], strict=True)]
    text = "\n".join(lines)
    name = MONTHS_NL[last_month - 1].lower()
    text = re.sub(r"t\.e\.m\. \w+", f"t.e.m. {name}", text)
    return re.sub(
        r"^totaal [\d.]+ [\d.]+ [\d.]+\*",
        f"totaal {dutch(totals[0])} {dutch(totals[1])} {dutch(totals[2])}*",
        text,
        flags=re.M,
    )


def replace_countries(text: str, countries: list[tuple[str, int]]) -> str:
    """The same bulletin with other destination countries; 'Andere' keeps the total."""
    match = re.search(
        r"land aantal terugkeerders\n\n(.*?)\n\nAndere ([\d.]+)\n\ntotaal ([\d.]+)", text, re.S
    )
    total = number(match.group(3))
    other = total - sum(count for _, count in countries)
    rows = "\n\n".join(f"{name} {dutch(count)}" for name, count in countries)
    return (
        text[: match.start(1)]
        + rows
        + f"\n\nAndere {dutch(other)}\n\ntotaal {dutch(total)}"
        + text[match.end(3) :]
    )


def windows(text: str) -> bytes:
    """The bulletin as a Windows tool would save it: Windows-1252, CRLF, trailing blanks."""
    return "\r\n".join(line + "  " for line in text.split("\n")).encode("cp1252")
