"""GIVEN the traveller message catalogue WHEN every language is loaded THEN each has every key
of every other language, no empty value, and every guidance code of the face tracker."""

from __future__ import annotations

import pytest

from kiosk.face.quality import Guidance
from ui.i18n import LANGUAGES, Catalogue, messages


def test_every_language_has_every_key_and_no_empty_value() -> None:
    all_keys = set().union(*(messages(code).keys() for code in LANGUAGES))
    assert len(all_keys) > 30
    for code in LANGUAGES:
        catalogue = messages(code)
        missing = all_keys - catalogue.keys()
        assert not missing, f"{code} lacks {sorted(missing)}"
        empty = [key for key, value in catalogue.items() if not value.strip()]
        assert not empty, f"{code} has empty messages {empty}"


def test_languages_are_really_translated() -> None:
    english = messages("en")
    for code in ("fr", "es", "nl"):
        same = [k for k, v in messages(code).items() if v == english[k] and len(v) > 8]
        assert not same, f"{code} copies English for {same}"


@pytest.mark.parametrize("guidance", list(Guidance))
def test_every_face_guidance_code_has_a_message(guidance: Guidance) -> None:
    assert f"guidance.{guidance.code}" in messages("en")


def test_an_unknown_guidance_code_gets_a_generic_message_not_the_code() -> None:
    catalogue = Catalogue("nl")
    assert catalogue.guidance("something_new") == messages("nl")["guidance.unknown"]
    with pytest.raises(KeyError):
        catalogue.set_language("xx")


def test_french_high_punctuation_has_a_no_break_space_before_it() -> None:
    # French typography: a (narrow) no-break space before ; : ! ?, never a plain space
    for key, value in messages("fr").items():
        for mark in ";:!?":
            assert f" {mark}" not in value, f"fr {key}: plain space before {mark!r}"


@pytest.mark.parametrize(
    ("code", "key", "wrong"),
    [
        ("fr", "cancelled.title", "retiré"),  # reads as "confiscated"
        ("fr", "welcome.instruction", "éligible"),
        ("fr", "proceed.instruction", "portique"),
        ("fr", "guidance.too_dark", "Il fait trop sombre"),
        ("es", "cancelled.title", "retirado"),
        ("es", "officer.instruction", "mostrador atendido"),
        ("es", "camera.instruction", "Quédese quieto"),
        ("es", "welcome.title", "Bienvenido"),
        ("nl", "cancelled.title", "weggenomen"),
        ("nl", "guidance.too_bright", "schittering"),
        ("nl", "camera.instruction", "omlijning"),
        ("en", "guidance.centre_face", "centre of the screen"),
    ],
)
def test_strings_the_language_review_found_wrong_stay_fixed(
    code: str, key: str, wrong: str
) -> None:
    assert wrong not in messages(code)[key]


def test_centring_guidance_points_at_the_outline_in_every_language() -> None:
    outline = {"en": "outline", "fr": "contour", "es": "contorno", "nl": "kader"}
    for code, word in outline.items():
        assert word in messages(code)["guidance.centre_face"]
