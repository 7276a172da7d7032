"""Normalisation of names, codes and document numbers."""

from __future__ import annotations

import random

import pytest

from kiosk.screening.normalise import (
    _ascii_transliterate,
    _transliterate,
    name_tokens,
    normalise_code,
    normalise_document_number,
    normalise_document_type,
    normalise_name,
    transliterate,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Müller-Lüdenscheidt", "MUELLER LUEDENSCHEIDT"),
        ("O'Neill", "ONEILL"),
        ("Åse Ærø", "AASE AEROE"),
        ("Þór Straße", "THOR STRASSE"),
        ("Núñez García", "NUNEZ GARCIA"),
        ("Иван Щукин", "IVAN SHCHUKIN"),
        ("  de la   Cruz ", "DE LA CRUZ"),
        ("SMITH<<JOHN", "SMITH JOHN"),
    ],
)
def test_names_become_icao_tokens(raw: str, expected: str) -> None:
    # GIVEN a name as written on a list WHEN normalised THEN it is ICAO Latin capitals
    assert normalise_name(raw) == expected


def test_name_tokens_join_parts_and_drop_non_letters() -> None:
    assert name_tokens("van der Berg", "Jan 2nd") == ("VAN", "DER", "BERG", "JAN", "ND")
    assert name_tokens("", "") == ()


def test_codes_numbers_and_types() -> None:
    assert normalise_code("d<<") == "D"
    assert normalise_document_number(" c01x-00 t47 ") == "C01X00T47"
    assert normalise_document_type("PM") == "P"
    assert normalise_document_type("") == ""


def test_the_ascii_shortcut_transliterates_as_the_character_by_character_pass() -> None:
    # GIVEN random ASCII strings of letters, the separators and dropped marks the ICAO
    # transliteration knows, digits and characters it refuses, control characters
    rng = random.Random(20261202)
    alphabet = "ABCabcz -\t<'`.,19/()#\\\"_~|\n\r\x00\x7f\x1f"
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        # WHEN transliterated THEN the shortcut gives what the full pass gives
        assert _ascii_transliterate(text) == _transliterate(text), repr(text)
    # and a name with a letter outside ASCII still takes the full pass
    assert transliterate("Müller 2") == "MUELLER 2"
