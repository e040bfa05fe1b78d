"""Reference data: code lists, label lookups and country names (pycountry plus aliases)."""

from __future__ import annotations

import csv
import gettext
import re
import sys
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import pycountry

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"

# Dimensions whose code lists are reference files named <dimension>.csv.
CODE_LISTS = ("organiser", "category", "channel", "source_table", "source")
LANGUAGES = ("nl", "fr", "en")


@lru_cache(maxsize=65536)
def normalise(label: str) -> str:
    """Fold a label for lookups: no accents, no case, no punctuation, single spaces.

    Text in brackets is kept: "Asielzoekers (uitgeprocedeerd en in procedure)" is not
    "Asielzoekers". A bracketed label resolves through an alias row that says why. Format
    characters (Unicode category Cf: soft hyphens, zero-width spaces, direction marks) are
    dropped: PDF extractors leave them inside names that look right ("Oekra\u00adïne").
    """
    text = unicodedata.normalize("NFKD", label)
    text = "".join(
        c for c in text if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    ).casefold()
    text = re.sub(r"[^\w+]+", " ", text)
    return " ".join(text.split())


@cache
def format_characters() -> dict[int, None]:
    """A str.translate table that drops every format character (Unicode category Cf)."""
    return {
        code: None for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"
    }


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of one reference file as dictionaries."""
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def code_list(dimension: str) -> list[dict[str, str]]:
    """The code list of a dimension (organiser, category, channel, source_table)."""
    name = f"{dimension}.csv"
    return read_csv(name)


@cache
def months() -> dict[str, int]:
    """Month names in every language (folded) to month numbers."""
    lookup = {}
    for row in read_csv("month.csv"):
        for language in LANGUAGES:
            lookup[normalise(row[f"name_{language}"])] = int(row["month_number"])
    return lookup


@cache
def month_language() -> dict[str, str]:
    """Month names (folded) to the language they are written in; names shared keep Dutch."""
    lookup = {}
    for language in ("en", "fr", "nl"):
        for row in read_csv("month.csv"):
            lookup[normalise(row[f"name_{language}"])] = language
    return lookup


@cache
def month_names(language: str) -> dict[int, str]:
    """Month numbers to their names in one language."""
    return {int(r["month_number"]): r[f"name_{language}"] for r in read_csv("month.csv")}


def _aliases(dimension: str) -> dict[str, str]:
    return {
        normalise(row["label"]): row["code"]
        for row in read_csv("label_alias.csv")
        if row["dimension"] == dimension
    }


@cache
def labels(dimension: str) -> dict[str, str]:
    """Every known label of a dimension (codes, names, aliases; folded) to its code."""
    if dimension == "country":
        return country_labels()
    lookup = {}
    for row in code_list(dimension):
        code = row[f"{dimension}_code"]
        lookup[normalise(code)] = code
        for language in LANGUAGES:
            lookup[normalise(row[f"name_{language}"])] = code
    lookup.update(_aliases(dimension))
    return lookup


@cache
def country_labels() -> dict[str, str]:
    """Country names in Dutch, French and English (folded) and codes, to ISO alpha-2."""
    candidates: dict[str, set[str]] = {}
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        for language in ("nl", "fr")
    ]
    for country in pycountry.countries:
        names = {
            getattr(country, field, None) for field in ("name", "official_name", "common_name")
        } - {None}
        for name in list(names):
            names |= {translation.gettext(name) for translation in translations}
        for name in names:
            candidates.setdefault(normalise(name), set()).add(country.alpha_2)
    # A name shared by two countries ("Congo") is ambiguous: better unresolved than wrong.
    lookup = {name: codes.pop() for name, codes in candidates.items() if len(codes) == 1}
    lookup.update({normalise(c.alpha_2): c.alpha_2 for c in pycountry.countries})
    lookup.update(
        {normalise(r["country_code"]): r["country_code"] for r in read_csv("country_extra.csv")}
    )
    lookup.update(_aliases("country"))
    lookup |= {"_o": "_O", "_t": "_T"}
    # An alias without a code marks a name as ambiguous on purpose.
    return {name: code for name, code in lookup.items() if code}


@cache
def country_names() -> dict[str, dict[str, str]]:
    """Country codes to their names in Dutch, French and English."""
    translations = {
        language: gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[language]
        ).gettext
        for language in ("nl", "fr")
    }
    names = {}
    for country in pycountry.countries:
        english = getattr(country, "common_name", None) or country.name
        names[country.alpha_2] = {
            "en": english,
            "nl": translations["nl"](country.name),
            "fr": translations["fr"](country.name),
        }
    # Codes outside ISO 3166-1 (Kosovo, former states) and names the catalogues get wrong.
    for row in read_csv("country_extra.csv"):
        names[row["country_code"]] = {language: row[f"name_{language}"] for language in LANGUAGES}
    return names
