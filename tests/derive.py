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


# Where each table block of the sample starts and ends: its first and last lines begin so.
BLOCKS = {
    "MONTHLY": ("1. Aantal vrijwillige terugkeerders", "totaal 2.567"),
    "HISTORY": ("VRIJWILLIGE TERUGKEER IN", "2007 :"),
    "CATEGORY": ("categorie aantal terugkeerders", "totaal 2.713"),
    "COUNTRY": ("land aantal terugkeerders", "totaal 2.609"),
    "CHANNEL": ("categorie %", "Gesloten centra"),
}


def block_spans(text: str) -> dict[str, tuple[int, int]]:
    """Line indexes (first, last) of each table block of the sample, with its titles."""
    lines = text.split("\n")
    spans = {}
    for kind, (start, end) in BLOCKS.items():
        first = next(i for i, line in enumerate(lines) if line.startswith(start))
        last = next(i for i in range(first, len(lines)) if lines[i].startswith(end))
        spans[kind] = (first, last)
    return spans


def table_blocks(text: str) -> tuple[list[str], dict[str, str]]:
    """The sample cut into the prose around its tables (one piece more than tables) and its
    five table blocks."""
    lines = text.split("\n")
    prose, blocks, position = [], {}, 0
    for kind, (first, last) in sorted(block_spans(text).items(), key=lambda item: item[1]):
        prose.append("\n".join(lines[position:first]))
        blocks[kind] = "\n".join(lines[first : last + 1])
        position = last + 1
    prose.append("\n".join(lines[position:]))
    return prose, blocks


def reorder(text: str, order: tuple[str, ...], dense: bool = False) -> str:
    """The sample with its table blocks in another order between the same prose; `dense`
    drops every blank line."""
    prose, blocks = table_blocks(text)
    parts = [prose[0]]
    for kind, after in zip(order, prose[1:], strict=True):
        parts += [blocks[kind], after]
    joined = "\n".join(parts)
    return "\n".join(line for line in joined.split("\n") if line.strip()) if dense else joined


FRENCH_PROSE = {
    "Bijna alle migranten \u2013 zowel (ex-)asielzoekers als migranten zonder wettig verblijf "
    "\u2013 die willen terugkeren, komen in": "Presque tous les migrants \u2013 (ex-)demandeurs"
    " d'asile comme migrants en séjour irrégulier \u2013 qui souhaitent rentrer peuvent",
    "aanmerking voor het vrijwilligeterugkeerprogramma. Fedasil is in België de bevoegde "
    "instantie voor vrijwillige terug-": "bénéficier du programme de retour volontaire. Fedasil "
    "est en Belgique l'instance compétente pour le retour volon-",
    "keer. De praktische organisatie van de terugreis naar het land van herkomst wordt beheerd "
    "door IOM (Internationale": "taire. L'organisation pratique du voyage vers le pays "
    "d'origine est assurée par l'OIM (Organisation",
    "Organisatie voor Migratie).": "internationale pour les migrations).",
    "De terugkeerreis gebeurt per vliegtuig. Fedasil organiseert ook vrijwillige terugkeer per "
    "bus naar verschillende lan-": "Le voyage de retour se fait en avion. Fedasil organise aussi "
    "des retours en bus vers plusieurs",
    "den in de Balkan. De Dienst Vreemdelingenzaken organiseert ook vrijwillige terugkeer.": "pays "
    "des Balkans. L'Office des étrangers organise aussi des retours volontaires.",
    "In 2018 organiseerden Fedasil en zijn partners voor 2.567 personen een vrijwillige "
    "terugkeer, via Dienst Vreemdelin-": "En 2018, Fedasil et ses partenaires ont organisé le "
    "retour volontaire de 2 567 personnes ; via l'Office des étran-",
    "genzaken keerden 42 personen terug. Dit cijfer omvat niet het vrijwillig vertrek in het "
    "kader van de Dublin-conventie": "gers, 42 personnes sont rentrées. Ce chiffre ne comprend "
    "pas les départs dans le cadre de la convention de Dublin",
    "naar een EU-land waar de migrant reeds asiel had gevraagd (en dat wordt georganiseerd door "
    "de DVZ).": "vers un pays de l'UE où le migrant avait déjà demandé l'asile (organisés par "
    "l'OE).",
    "Meer info: www.vrijwilligeterugkeer.be": "Plus d'infos : www.retourvolontaire.be",
    "1. Aantal vrijwillige terugkeerders": "1. Nombre de retours volontaires",
    "Aantal vrijwillige terugkeerders in 2018": "Retour volontaire en 2018",
    "Evolutie van het aantal vrijwillige terugkeerders": "Évolution du nombre de retours "
    "volontaires",
    "2018 Dienst": "2018 Office des",
    "Vreemdeling-": "étran-",
    "enzaken": "gers",
    "totaal 2018": "total 2018",
    "totaal 2017": "total 2017",
    "(fedasil+dvz)": "(fedasil+OE)",
    "Naar een meer geïntegreerd": "Vers une politique migratoire",
    "migratiebeleid, dankzij het AMIF": "plus intégrée, grâce au FAMI",
    "VRIJWILLIGE TERUGKEER IN 2018": "RETOUR VOLONTAIRE EN 2018",
    "categorie aantal terugkeerders %": "catégorie nombre de retours %",
    "2. Voornaamste landen van bestemming in 2018 (t.e.m. oktober)": "2. Principaux pays de "
    "destination en 2018 (jusqu'à fin octobre)",
    "3. Categorieën van migranten in 2018 (t.e.m. oktober)": "3. Catégories de migrants en 2018 "
    "(jusqu'à fin octobre)",
    "4. Herkomst van de terugkeeraanvragen in 2018 (t.e.m. oktober)": "4. Origine des demandes "
    "de retour en 2018 (jusqu'à fin octobre)",
    "De migranten dienen hun terugkeeraanvraag in via:": "Les migrants introduisent leur demande "
    "de retour via :",
    "* Dit cijfer omvat niet het vrijwillig vertrek in het kader van de Dublin-conventie naar een "
    "EU-land waar de migrant": "* Ce chiffre ne comprend pas les départs dans le cadre de la "
    "convention de Dublin vers un pays de l'UE où le migrant",
    "reeds asiel had gevraagd (en dat wordt georganiseerd door de DVZ).": "avait déjà demandé "
    "l'asile (organisés par l'OE).",
    "** De busreizen naar de Balkan, georganiseerd door de Dienst Vreemdelingenzaken, zijn niet "
    "in deze cijfers": "** Les voyages en bus vers les Balkans, organisés par l'Office des "
    "étrangers, ne sont pas compris dans ces",
    "opgenomen. In 2011 zijn er, volgens DVZ, bijna 300 personen op die manier teruggekeerd.": (
        "chiffres. En 2011, selon l'OE, près de 300 personnes sont rentrées de cette manière."
    ),
    "land aantal terugkeerders": "pays nombre de retours",
    "categorie %": "catégorie %",
}
FRENCH_LABELS = dict(
    zip(MONTHS_NL, ["Janvier", "Février", "Mars", "Avril", "Mai", "Juin", "Juillet", "Août",
                    "Septembre", "Octobre", "Novembre", "Décembre"], strict=True)
) | {
    "totaal": "total", "Andere": "Autres",
    "Oekraïne": "Ukraine", "Georgië": "Géorgie", "Roemenië": "Roumanie", "Brazilië": "Brésil",
    "Irak": "Irak", "Albanië": "Albanie", "Armenië": "Arménie", "Macedonië": "Macédoine",
    "Mongolië": "Mongolie", "Slowakije": "Slovaquie",
    "Asielzoekers": "Demandeurs d'asile",
    "Uitgeprocedeerde asielzoekers": "Demandeurs d'asile déboutés",
    "Migranten zonder wettig verblijf": "Migrants en séjour irrégulier",
    "Terugkeerpartners": "Partenaires de retour",
    "Opvangnetwerk (Fedasil, Croix-Rouge en Rode Kruis)": "Réseau d'accueil (Fedasil, "
    "Croix-Rouge et Rode Kruis)",
    "Terugkeerloketten": "Guichets retour",
    "Gesloten centra": "Centres fermés",
}  # fmt: skip
# Rows whose last figure is a percentage.
SHARE_ROWS = {
    "Asielzoekers", "Uitgeprocedeerde asielzoekers", "Migranten zonder wettig verblijf",
    "Terugkeerpartners", "Opvangnetwerk (Fedasil, Croix-Rouge en Rode Kruis)",
    "Terugkeerloketten", "Gesloten centra",
}  # fmt: skip
FIGURE = re.compile(r"^[\d.]+\**$|^\*+$")


def row_cells(line: str) -> list[str]:
    """A Dutch line cut into its label and its figures (marks kept with their figure); a line
    without figures is one cell."""
    tokens = line.split()
    count = 0
    while count < len(tokens) and FIGURE.match(tokens[len(tokens) - 1 - count]):
        count += 1
    figures: list[str] = []
    for token in tokens[len(tokens) - count :]:
        if token.strip("*") or not figures:
            figures.append(token)
        else:
            figures[-1] += token
    return [" ".join(tokens[: len(tokens) - count]), *figures]


def french_cells(cells: list[str], thousands: str = " ", percent: str = " %") -> list[str]:
    """A row's cells in the French edition: labels translated, thousands written with
    `thousands`, shares followed by `percent`."""
    label, *figures = cells
    figures = [re.sub(r"(?<=\d)\.(?=\d{3})", thousands, figure) for figure in figures]
    if label in SHARE_ROWS:
        figures[-1] += percent
    return [FRENCH_LABELS.get(label, label), *figures]


def french_line(line: str, thousands: str = " ", percent: str = " %") -> str:
    """One line of the sample in the French edition."""
    if line.strip() in FRENCH_PROSE:
        return FRENCH_PROSE[line.strip()]
    cells = row_cells(line)
    if len(cells) == 1:
        return line
    return " ".join(cell for cell in french_cells(cells, thousands, percent) if cell)


def french(text: str, thousands: str = " ", percent: str = " %") -> str:
    """The French edition of the sample, line for line: "Retour volontaire en 2018", janvier
    ... décembre, "Office des étrangers", thousands written with `thousands` (a space, a no-break
    space, a narrow no-break space or a dot), shares followed by `percent` (" %" or "%")."""
    return "\n".join(french_line(line, thousands, percent) for line in text.split("\n"))
