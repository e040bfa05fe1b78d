"""Figures written as the bulletins write them (Belgian notation): 1.234 persons, 18,5 %."""

from __future__ import annotations

# The same notation for the charts' axes (d3-format's locale, as vl-convert names it).
CHART_LOCALE = "nl-NL"
MISSING = "\u2013"  # an en dash where a figure is not published
MINUS = "\u2212"  # a real minus sign, as typeset


def count(value: int | float | None) -> str:
    """A count with a dot between thousands (1.234); a dash when there is none."""
    if value is None:
        return MISSING
    return f"{round(value):,}".replace(",", ".")


def percent(value: float | None, signed: bool = False) -> str:
    """A percentage with a decimal comma and at most one decimal (18,5 %, 45 %)."""
    if value is None:
        return MISSING
    text = f"{value:+.1f}" if signed else f"{value:.1f}"
    return text.removesuffix(".0").replace(".", ",").replace("-", MINUS) + " %"


def change(now: int | None, before: int | None) -> str:
    """The change from `before` to `now` in percent, signed (-19,7 % with a minus sign)."""
    if now is None or not before:
        return MISSING
    return percent(100 * (now - before) / before, signed=True)
