"""Synthetic inputs for tests and benchmarks: bulletins in the sample's layout, tidy CSV files.

Every figure is drawn from a seeded generator and the tables agree with each other: months add
up to their totals, Fedasil plus DVZ make the total, countries and categories add up to the total
of the edition, shares add up to 100 and match their counts, so an edition raises no warning.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb

from flows import reference

NBSP = "\u00a0"


def dutch(number: int) -> str:
    """A count in the bulletin's notation: a dot between thousands."""
    return f"{number:,}".replace(",", ".")


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`parts` non-negative counts drawn at random that add up to `total`."""
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def shares(counts: list[int]) -> list[int]:
    """Whole percentages of counts that add up to 100 (largest remainders)."""
    total = sum(counts) or 1
    exact = [100 * c / total for c in counts]
    whole = [int(x) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - whole[i], reverse=True)
    for i in by_remainder[: 100 - sum(whole)]:
        whole[i] += 1
    return whole


def resolvable_countries() -> list[tuple[str, str]]:
    """(ISO code, Dutch name) of the countries whose Dutch name resolves back to their code."""
    labels = reference.country_labels()
    return [
        (code, names["nl"])
        for code, names in sorted(reference.country_names().items())
        if not code.startswith("_") and labels.get(reference.normalise(names["nl"])) == code
    ]


def bulletin(
    report_year: int, coverage_end: int, countries: int | list[str] = 10, seed: int = 0
) -> str:
    """The text of one edition in the sample's layout, with consistent made-up figures.

    `countries` is how many destination countries to list (drawn at random), or their Dutch
    names.
    """
    rng = random.Random(f"{report_year}-{coverage_end}-{seed}")
    months = reference.month_names("nl")
    fedasil = [rng.randint(150, 350) for _ in range(coverage_end)]
    dvz = [rng.randint(0, 12) for _ in range(coverage_end)]
    last_year = [rng.randint(200, 480) for _ in range(12)]
    total = sum(fedasil) + sum(dvz)
    if isinstance(countries, int):
        countries = [name for _, name in rng.sample(resolvable_countries(), countries)]
    named = sorted(split(total * 3 // 4, len(countries), rng), reverse=True)
    other = total - sum(named)
    category_counts = split(total, 3, rng)
    category_shares = shares(category_counts)
    channel_shares = shares(split(1000, 4, rng))
    history = [last_year_total := sum(last_year)] + [rng.randint(2000, 6000) for _ in range(10)]
    marks = {0: "*", 1: "*", 2: " *", 3: " *", 4: " *", 6: " **"}
    coverage = f"(t.e.m. {months[coverage_end].lower()})"

    lines = [
        "Bijna alle migranten die willen terugkeren, komen in aanmerking voor het vrijwillige-",
        "terugkeerprogramma. Fedasil is in België de bevoegde instantie voor vrijwillige terug-",
        "keer.",
        "",
        f"In {report_year} organiseerden Fedasil en zijn partners voor {dutch(sum(fedasil))}"
        " personen een vrijwillige terugkeer.",
        "",
        "1. Aantal vrijwillige terugkeerders",
        f"Aantal vrijwillige terugkeerders in {report_year}",
        "",
        "Evolutie van het aantal vrijwillige terugkeerders ",
        "",
        f"{report_year}",
        "Fedasil",
        "",
        f"{report_year} Dienst ",
        "Vreemdeling-",
        "",
        "enzaken",
        f"totaal {report_year} ",
        "",
        "(fedasil+dvz)",
        f"totaal {report_year - 1} ",
        "",
        "(fedasil+dvz)",
        "",
    ]
    for month in range(1, 13):
        if month <= coverage_end:
            f, d = fedasil[month - 1], dvz[month - 1]
            row = f"{months[month].capitalize()} {f} {d} {f + d} {last_year[month - 1]}"
        else:
            row = f"{months[month].capitalize()} {last_year[month - 1]}"
        lines += [row, ""]
    lines += [
        f"totaal {dutch(sum(fedasil))} {dutch(sum(dvz))} {dutch(total)}* {dutch(last_year_total)}*",
        "",
        f"VRIJWILLIGE TERUGKEER IN {report_year} ",
        "",
    ]
    for offset, figure in enumerate(history):
        space = NBSP if offset % 2 == 0 else ""
        lines += [f"{report_year - 1 - offset}{space} : {dutch(figure)}{marks.get(offset, '')}", ""]
    lines += ["", "categorie aantal terugkeerders %", ""]
    labels = ["Asielzoekers", "Uitgeprocedeerde asielzoekers", "Migranten zonder wettig verblijf"]
    for label, count, share in zip(labels, category_counts, category_shares, strict=True):
        lines += [f"{label} {dutch(count)} {share}", ""]
    lines += [
        f"totaal {dutch(sum(category_counts))}",
        "",
        f"2. Voornaamste landen van bestemming in {report_year} {coverage}",
        "",
        f"3. Categorieën van migranten in {report_year} {coverage}",
        "",
        "* Dit cijfer omvat niet het vrijwillig vertrek in het kader van de Dublin-conventie.",
        "",
        "** De busreizen naar de Balkan zijn niet in deze cijfers ",
        "opgenomen.",
        "",
        "land aantal terugkeerders",
        "",
    ]
    for name, count in zip(countries, named, strict=True):
        lines += [f"{name} {dutch(count)}", ""]
    lines += [f"Andere {dutch(other)}", "", f"totaal {dutch(total)}", "", "categorie %", ""]
    channels = [
        "Terugkeerpartners",
        "Opvangnetwerk (Fedasil, Croix-Rouge en Rode Kruis)",
        "Terugkeerloketten",
        "Gesloten centra",
    ]
    for label, share in zip(channels, channel_shares, strict=True):
        lines += [f"{label} {share}", ""]
    return "\n".join(lines) + "\n"


def write_bulletins(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """`count` distinct editions (report years 1990-2089, every coverage month), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        year, month, draw = 1990 + number // 12 % 100, number % 12 + 1, seed + number // 1200
        path = folder / f"edition-{year}-{month:02d}-{draw}.txt"
        path.write_text(bulletin(year, month, countries=10, seed=draw), encoding="utf-8")
        paths.append(path)
    return paths


def write_tidy(path: Path, rows: int, seed: int = 0) -> Path:
    """A tidy CSV of `rows` observations at the full grain (month x country x category x
    channel x organiser), written by DuckDB without holding the rows in memory."""
    codes = [code for code, _ in resolvable_countries()][:60]
    categories = ["ASYLUM_SEEKER", "REJECTED_ASYLUM_SEEKER", "IRREGULAR_MIGRANT"]
    channels = ["RETURN_PARTNER", "RECEPTION_NETWORK", "RETURN_DESK", "CLOSED_CENTRE"]
    organisers = ["FEDASIL", "DVZ"]
    cells = len(codes) * len(categories) * len(channels) * len(organisers)
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.execute(f"select setseed({(seed % 1000) / 1000})")
    con.execute(
        f"""
        copy (
            select
                strftime(date '2000-01-01' + to_months((i // {cells})::int), '%Y-%m') as period,
                {organisers}[1 + i % 2] as organiser,
                {codes}[1 + (i // 2) % {len(codes)}] as country,
                {categories}[1 + (i // {2 * len(codes)}) % 3] as category,
                {channels}[1 + (i // {6 * len(codes)}) % 4] as channel,
                (random() * 40)::int as returns,
                null as share_pct
            from range({rows}) as t(i)
        ) to $path (header, delimiter ',')
        """,
        {"path": str(path)},
    )
    con.close()
    return path
