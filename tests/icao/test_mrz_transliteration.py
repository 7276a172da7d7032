"""ICAO 9303 Part 3 transliteration and the MRZ name field."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.icao.mrz import TransliterationError, build_name_field, transliterate


@pytest.mark.parametrize(
    ("name", "mrz"),
    [
        ("Ärzte", "AERZTE"),
        ("Øresund", "OERESUND"),
        ("Straße", "STRASSE"),
        ("Éloïse", "ELOISE"),
        ("Åsa", "AASA"),
        ("Ægir", "AEGIR"),
        ("Müller", "MUELLER"),
        ("Þór", "THOR"),
        ("Łukasz", "LUKASZ"),
        ("Ñúñez", "NUNEZ"),
        ("Çelik", "CELIK"),
        ("O'Brien", "OBRIEN"),
        ("Jean-Luc", "JEAN<LUC"),
        ("  anna   maria ", "ANNA<MARIA"),
        ("Иванов", "IVANOV"),
        ("Щукин", "SHCHUKIN"),
        ("Юлия", "IULIIA"),
    ],
)
def test_transliteration(name: str, mrz: str) -> None:
    assert transliterate(name) == mrz


@pytest.mark.parametrize("name", ["李", "Anna✓", "محمد"])
def test_characters_without_transliteration_raise_a_typed_error(name: str) -> None:
    with pytest.raises(TransliterationError):
        transliterate(name)


def test_name_field_fits() -> None:
    field = build_name_field("Eriksson", "Anna Maria", 39)
    assert field.text == "ERIKSSON<<ANNA<MARIA".ljust(39, "<")
    assert not field.truncated


def test_name_field_mononym() -> None:
    assert build_name_field("Eriksson", "", 30).text == "ERIKSSON".ljust(30, "<")


def test_truncation_shortens_the_secondary_identifier_first() -> None:
    field = build_name_field("Eriksson", "Anna Maria", 14)
    assert field.text == "ERIKSSON<<ANNA" and field.truncated
    field = build_name_field("Eriksson", "Anna Maria", 15)
    assert field.text == "ERIKSSON<<ANN<M" and field.truncated


def test_truncation_of_a_long_primary_identifier_keeps_an_initial() -> None:
    field = build_name_field("Wolfeschlegelsteinhausenbergerdorff", "Hubert", 30)
    assert field.text == "WOLFESCHLEGELSTEINHAUSENBER<<H"
    assert field.truncated


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZäöüßéøå -'", min_size=1, max_size=60),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZäöüßéøå -'", max_size=60),
    st.sampled_from([30, 31, 39]),
)
def test_name_field_always_has_the_right_length_and_alphabet(
    primary: str, secondary: str, length: int
) -> None:
    if not transliterate(primary):
        return
    field = build_name_field(primary, secondary, length)
    assert len(field.text) == length
    assert set(field.text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ<")
    assert not field.text.startswith("<")
    if field.truncated:
        assert field.text[-1] != "<"
