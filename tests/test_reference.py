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
