"""Country names: pycountry's Dutch and French catalogues plus the alias file."""

from __future__ import annotations

import pytest

from flows.reference import country_labels, country_names, labels, normalise


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Oekraïne", "UA"), ("Roemenië", "RO"), ("Brazilië", "BR"), ("Irak", "IQ"),
        ("Albanië", "AL"), ("Armenië", "AM"), ("Mongolië", "MN"), ("Slowakije", "SK"),
        ("Moldavië", "MD"), ("Rusland", "RU"), ("Servië", "RS"), ("Marokko", "MA"),
        ("Géorgie", "GE"), ("Brésil", "BR"), ("Roumanie", "RO"),
        # Names the catalogues miss, from data/reference/label_alias.csv:
        ("Georgië", "GE"), ("Macedonië", "MK"), ("Macédoine", "MK"), ("Wit-Rusland", "BY"),
        ("Bosnië-Herzegovina", "BA"), ("Kosovo", "XK"), ("Andere", "_O"),
        # Codes and English names work too; case and accents do not matter.
        ("UA", "UA"), ("Ukraine", "UA"), ("OEKRAINE", "UA"), ("XK", "XK"), ("CS", "CS"),
    ],
)  # fmt: skip
def test_country_names_resolve(name: str, code: str) -> None:
    assert country_labels()[normalise(name)] == code


def test_ambiguous_and_unknown_names_stay_unresolved() -> None:
    assert normalise("Congo") not in country_labels()
    assert normalise("Atlantis") not in country_labels()


def test_dimension_names() -> None:
    assert country_names()["GE"] == {"nl": "Georgië", "fr": "Géorgie", "en": "Georgia"}
    assert country_names()["XK"]["en"] == "Kosovo"
    assert labels("channel")[normalise("Opvangnetwerk (Fedasil, Croix-Rouge en Rode Kruis)")] == (
        "RECEPTION_NETWORK"
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # Names in use that the catalogues miss (data/reference/label_alias.csv).
        ("Russie", "RU"), ("Russia", "RU"), ("Moldavia", "MD"), ("Turkey", "TR"),
        ("Biélorussie", "BY"),
        # English names through pycountry's common_name and official_name as well as name.
        ("South Korea", "KR"), ("Republic of Türkiye", "TR"), ("Czech Republic", "CZ"),
        ("Syria", "SY"), ("Syrian Arab Republic", "SY"), ("Republic of Moldova", "MD"),
    ],
)  # fmt: skip
def test_names_and_wordings_in_use_resolve(name: str, code: str) -> None:
    assert country_labels()[normalise(name)] == code


@pytest.mark.parametrize(
    ("dimension", "wording", "code"),
    [
        ("channel", "Guichet retour", "RETURN_DESK"),
        ("category", "migrants sans papiers", "IRREGULAR_MIGRANT"),
        ("category", "migrants en situation irrégulière", "IRREGULAR_MIGRANT"),
        ("category", "demandeurs de protection internationale", "ASYLUM_SEEKER"),
        ("category", "personnes en fin de procédure", "REJECTED_ASYLUM_SEEKER"),
        ("category", "zonder wettige verblijfsvergunning", "IRREGULAR_MIGRANT"),
        ("category", "persons at the end of their asylum procedure", "REJECTED_ASYLUM_SEEKER"),
        ("category", "Asielzoekers (uitgeprocedeerd en in procedure)", "ASYLUM_SEEKER_OR_REJECTED"),
        ("category", "Asylum seekers, in procedure or rejected", "ASYLUM_SEEKER_OR_REJECTED"),
        ("source", "Kamervraag", "PARLIAMENT"),
        ("source", "OIM", "IOM"),
    ],
)
def test_wordings_of_categories_channels_and_sources(
    dimension: str, wording: str, code: str
) -> None:
    assert labels(dimension)[normalise(wording)] == code


def test_text_in_brackets_is_never_dropped() -> None:
    # "Asylum seekers (in procedure and rejected)" is not "asylum seekers": without an alias
    # row that says why, a label that resolves only without its brackets does not resolve.
    assert normalise("Asielzoekers (uitgeprocedeerd en in procedure)") != normalise("Asielzoekers")
    assert normalise("Uitgeprocedeerde asielzoekers (Dublin)") not in labels("category")
    assert normalise("Irak (Koerdistan)") not in country_labels()


@pytest.mark.parametrize(
    "label",
    [
        "Oekra\u00adïne",
        "Oekr\u200baïne",
        "\u200eOekraïne\u200f",
        "\ufeffOekraïne",
        "Oek\u2060raïne",
    ],
)
def test_format_characters_do_not_hide_a_name(label: str) -> None:
    # Soft hyphens, zero-width spaces, direction marks and joiners, as PDF extractors leave them.
    assert country_labels()[normalise(label)] == "UA"
