"""GIVEN the officer booth's and technician console's catalogue WHEN every language is loaded
THEN each has every key with the same placeholders, nothing is left in English, and every
reason, lane cause, step and door the wall can show has its words."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from kiosk.lane import LaneCause
from kiosk.sync.lane_link import DOOR_OF, STEP_OF
from models.records import ReasonCode, ReferralOutcome
from ui.i18n import LANGUAGES
from ui.i18n.desk_catalogue import DeskCatalogue, desk_messages

UI = Path(__file__).resolve().parents[2] / "ui"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    english = desk_messages("en")
    for code in LANGUAGES:
        catalogue = desk_messages(code)
        assert catalogue.keys() == english.keys(), code
        for key, text in catalogue.items():
            assert text.strip(), f"{code}:{key} is empty"
            assert _fields(text) == _fields(english[key]), f"{code}:{key} placeholders"


def test_languages_are_really_translated() -> None:
    english = desk_messages("en")
    for code in ("fr", "es", "nl"):
        same = [k for k, v in desk_messages(code).items() if v == english[k] and len(v) > 9]
        assert not same, f"{code} copies English for {same}"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_everything_the_wall_and_queue_show_has_words(language: str) -> None:
    t = DeskCatalogue(language)
    keys = (
        [f"reason.{r.value}" for r in ReasonCode]
        + [f"cause.{c.value}" for c in LaneCause]
        + [f"step.{s}" for s in set(STEP_OF.values()) | {"offline"}]
        + [f"door.{d}" for d in set(DOOR_OF.values()) | {"unknown"}]
        + [f"outcome.{o.value}" for o in ReferralOutcome]
    )
    for key in keys:
        assert t.has(key), key
    assert t.reason("watchlist_hit") != "watchlist hit"


def test_every_literal_key_in_the_booth_code_exists() -> None:
    used = set()
    for path in [*(UI / "officer").glob("*.py"), *(UI / "technician").glob("*.py")]:
        used |= set(re.findall(r'\b(?:t|tr|tr_)\(\s*"([a-z_]+\.[a-z_.]+)"', path.read_text()))
    assert len(used) > 60
    assert used <= desk_messages("en").keys(), sorted(used - desk_messages("en").keys())
