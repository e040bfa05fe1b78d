"""The report's charts: Vega-Lite specifications built with altair, rendered to SVG in-process.

Why this library: Vega-Lite is a declarative grammar with a well-kept Python front end (altair,
already installed with Great Expectations); vl-convert renders it to static SVG with its own
embedded engine, without a browser or a network, in tens of milliseconds per chart. Static SVG
lets the page carry no script at all (its security policy forbids scripts), keeps it small (a few
hundred kB where plotly inlines megabytes of JavaScript), prints, and is searchable text. Vega's
SVG renderer escapes every label as XML text, so a label from an input file stays text.
"""

from __future__ import annotations

import altair as alt
import vl_convert
from markupsafe import Markup

from flows import reference
from flows.report import notation

THIS_YEAR, LAST_YEAR, OTHER = "#1f5fa8", "#a9bdd3", "#8c8c8c"
PUBLISHED, COMPUTED = "#1f5fa8", "#e08a2c"
WIDTH = 640


def svg(chart: alt.TopLevelMixin) -> Markup:
    """The chart as an SVG element to inline in the page.

    Markup (not escaped again by Jinja2): vl-convert writes the SVG and escapes its texts, and
    the specification carries its data inline, so no base URL is allowed for data.
    """
    spec = chart.configure_view(stroke=None).configure_axis(labelFontSize=12).to_dict()
    return Markup(
        vl_convert.vegalite_to_svg(spec, format_locale=notation.CHART_LOCALE, allowed_base_urls=[])
    )


def monthly(rows: list[dict], year: int) -> Markup:
    """Returns per month of `year` beside the same month a year earlier (grouped bars)."""
    names = reference.month_names("en")
    values = [
        {
            "month": names[row["month_number"]][:3],
            "month_number": row["month_number"],
            "year": str(row["year"]),
            "returns": row["returns"],
            "label": notation.count(row["returns"]),
        }
        for row in rows
        if row["year"] in (year, year - 1) and row["returns"] is not None
    ]
    order = [names[m][:3] for m in range(1, 13)]
    bars = (
        alt.Chart(alt.Data(values=values))
        .mark_bar()
        .encode(
            x=alt.X("month:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("year:N", sort=[str(year - 1), str(year)]),
            y=alt.Y("returns:Q", title="returns (persons)"),
            color=alt.Color(
                "year:N",
                scale=alt.Scale(domain=[str(year - 1), str(year)], range=[LAST_YEAR, THIS_YEAR]),
                legend=alt.Legend(title=None, orient="top"),
            ),
        )
    )
    return svg(bars.properties(width=WIDTH, height=240))


def history(rows: list[dict]) -> Markup:
    """Returns per year, each bar labelled with its figure and footnote marks; a year to date
    is drawn lighter."""
    values = [
        {
            "year": str(row["year"]),
            "returns": row["returns"],
            "label": notation.count(row["returns"]) + (row["footnote_marks"] or ""),
            "kind": "full year" if row["is_complete"] else "year to date",
        }
        for row in rows
        if row["returns"] is not None
    ]
    base = alt.Chart(alt.Data(values=values)).encode(
        x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("returns:Q", title="returns (persons)"),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(domain=["full year", "year to date"], range=[THIS_YEAR, LAST_YEAR]),
            legend=alt.Legend(title=None, orient="top"),
        )
    )
    labels = base.mark_text(dy=-6, fontSize=11).encode(text="label:N")
    return svg((bars + labels).properties(width=WIDTH, height=260))


def shares(values: list[dict]) -> alt.Chart:
    """Horizontal bars of `value` per `name` in the rows' order, in `colour`, labelled."""
    base = alt.Chart(alt.Data(values=values)).encode(
        y=alt.Y("name:N", sort=None, title=None),
        x=alt.X("value:Q", title=None, axis=alt.Axis(tickCount=5)),
    )
    bars = base.mark_bar().encode(color=alt.Color("colour:N", scale=None, legend=None))
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text="label:N")
    return (bars + labels).properties(width=WIDTH - 200, height=24 * len(values))


def countries(rows: list[dict]) -> Markup:
    """Returns per destination country of one period, ranked, with each country's share."""
    values = [
        {
            "name": row["country_name_en"],
            "value": row["returns"],
            "label": f"{notation.count(row['returns'])} ({notation.percent(row['share_pct'])})",
            "colour": OTHER if row["country_code"] == "_O" else THIS_YEAR,
        }
        for row in rows
    ]
    return svg(shares(values))


def categories(rows: list[dict]) -> Markup:
    """Each category's share as published beside the share its count gives (grouped bars)."""
    values = [
        {
            "name": row["category_name_en"],
            "measure": measure,
            "value": row[column],
            "label": notation.percent(row[column]),
        }
        for row in rows
        for measure, column in (
            ("published share", "share_pct"),
            ("share of the counts", "computed_share_pct"),
        )
        if row[column] is not None
    ]
    base = alt.Chart(alt.Data(values=values)).encode(
        y=alt.Y("name:N", sort=None, title=None),
        yOffset=alt.YOffset("measure:N", sort=["published share", "share of the counts"]),
        x=alt.X("value:Q", title="percent"),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "measure:N",
            scale=alt.Scale(
                domain=["published share", "share of the counts"], range=[PUBLISHED, COMPUTED]
            ),
            legend=alt.Legend(title=None, orient="top"),
        )
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text="label:N")
    chart = (bars + labels).properties(width=WIDTH - 200, height=44 * len(rows))
    return svg(chart)


def channels(rows: list[dict]) -> Markup:
    """Each application channel's share as published."""
    values = [
        {
            "name": row["channel_name_en"],
            "value": row["share_pct"],
            "label": notation.percent(row["share_pct"]),
            "colour": THIS_YEAR,
        }
        for row in rows
        if row["share_pct"] is not None
    ]
    return svg(shares(values))
