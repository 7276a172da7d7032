"""The traveller screens' message catalogue: one JSON file per language, the same keys in each.

``Catalogue("fr").text("welcome.title")``; a key missing from a language falls back to English
(the test ``tests/ui/test_ui_i18n.py`` makes sure none is missing).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "nl": "Nederlands"}
DEFAULT_LANGUAGE = "en"


@cache
def messages(language: str) -> dict[str, str]:
    """Every message of ``language`` (a copy is not made: treat it as read-only)."""
    if language not in LANGUAGES:
        raise KeyError(f"unknown language {language!r}")
    data = json.loads((HERE / f"{language}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{language}.json is not an object")
    return {str(key): str(value) for key, value in data.items()}


class Catalogue:
    """The messages of the current language, switchable at run time."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = DEFAULT_LANGUAGE
        self.set_language(language)

    def set_language(self, language: str) -> None:
        messages(language)  # fail early on an unknown language
        self.language = language

    def text(self, key: str) -> str:
        found = messages(self.language).get(key)
        if found is None:
            found = messages(DEFAULT_LANGUAGE).get(key, key)
        return found

    def guidance(self, code: str) -> str:
        key = f"guidance.{code}"
        if key in messages(DEFAULT_LANGUAGE):
            return self.text(key)
        return self.text("guidance.unknown")
