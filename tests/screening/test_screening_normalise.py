"""Normalisation of names, codes and document numbers."""

from __future__ import annotations

import pytest

from kiosk.screening.normalise import (
    name_tokens,
    normalise_code,
    normalise_document_number,
    normalise_document_type,
    normalise_name,
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
