"""The figures of the sample bulletin, as every rendering of it (another order of its tables,
French, PDF in any layout) must give them."""

from __future__ import annotations

import polars as pl

MONTHS = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]
FEDASIL_2018 = [204, 270, 270, 300, 291, 261, 336, 277, 176, 182]
DVZ_2018 = [9, 7, 2, 3, 2, 2, 3, 9, 4, 1]
TOTAL_2018 = [213, 277, 272, 303, 293, 263, 339, 286, 180, 183]
TOTAL_2017 = [252, 305, 477, 391, 306, 329, 324, 355, 259, 251, 286, 292]
HISTORY = {
    2017: (3827, "*"), 2016: (4267, "*"), 2015: (4053, "*"), 2014: (3587, "*"),
    2013: (4585, "*"), 2012: (5656, ""), 2011: (3358, "**"), 2010: (2957, ""),
    2009: (2659, ""), 2008: (2669, ""), 2007: (2593, ""),
}  # fmt: skip
COUNTRIES = {
    "UA": 483, "GE": 419, "RO": 305, "BR": 273, "IQ": 161, "AL": 72, "AM": 70,
    "MK": 51, "MN": 51, "SK": 47, "_O": 677, "_T": 2609,
}  # fmt: skip
CATEGORIES = {
    "ASYLUM_SEEKER": (488, 15.0),
    "REJECTED_ASYLUM_SEEKER": (788, 30.0),
    "IRREGULAR_MIGRANT": (1437, 55.0),
    "_T": (2713, None),
}
CHANNELS = {"RETURN_PARTNER": 42.0, "RECEPTION_NETWORK": 13.0, "RETURN_DESK": 45.0,
            "CLOSED_CENTRE": 0.0}  # fmt: skip
KEY = ["table_code", "period_code", "organiser_code", "country_code", "category_code",
       "channel_code"]  # fmt: skip


def expected_figures() -> dict[tuple, tuple]:
    """Every figure of the sample: (table, period, organiser, country, category, channel) ->
    (returns, share_pct, footnote marks)."""
    ytd = "2018-01/2018-10"
    figures = {}

    def add(table: str, period: str, codes: tuple = ("_T", "_T", "_T", "_T"), **measures) -> None:
        values = (measures.get("returns"), measures.get("share"), measures.get("marks", ""))
        figures[(table, period, *codes)] = values

    for organiser, counts, total in (
        ("FEDASIL", FEDASIL_2018, 2567), ("DVZ", DVZ_2018, 42), ("_T", TOTAL_2018, 2609),
    ):  # fmt: skip
        for month, count in zip(MONTHS, counts, strict=False):
            add("MONTHLY", f"2018-{month}", (organiser, "_T", "_T", "_T"), returns=count)
        marks = "*" if organiser == "_T" else ""
        add("MONTHLY", ytd, (organiser, "_T", "_T", "_T"), returns=total, marks=marks)
    for month, count in zip(MONTHS, TOTAL_2017, strict=True):
        add("MONTHLY", f"2017-{month}", returns=count)
    add("MONTHLY", "2017", returns=3827, marks="*")
    for year, (count, marks) in HISTORY.items():
        add("HISTORY", str(year), returns=count, marks=marks)
    for code, count in COUNTRIES.items():
        add("COUNTRY", ytd, ("_T", code, "_T", "_T"), returns=count)
    for code, (count, share) in CATEGORIES.items():
        add("CATEGORY", ytd, ("_T", "_T", code, "_T"), returns=count, share=share)
    for code, share in CHANNELS.items():
        add("CHANNEL", ytd, ("_T", "_T", "_T", code), share=share)
    return figures


def figures_of(staged: pl.DataFrame) -> dict[tuple, tuple]:
    """The staged figures of one edition, keyed as expected_figures(); a key twice fails."""
    rows = staged.select(*KEY, "returns", "share_pct", "footnote_marks").rows()
    figures = {row[:6]: row[6:] for row in rows}
    assert len(figures) == len(rows), "an observation appears twice"
    return figures
