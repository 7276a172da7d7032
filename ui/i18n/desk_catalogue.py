"""The officer booth's and technician console's messages: ``ui/i18n/desk/<lang>.json``, the
same four languages and the same keys as the traveller catalogue's rules (a key missing from a
language falls back to English; ``tests/ui/test_ui_desk_i18n.py`` makes sure none is).

Placeholders are ``str.format`` fields (``{name}``): every language keeps the same ones.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ui.i18n import DEFAULT_LANGUAGE, LANGUAGES

HERE = Path(__file__).resolve().parent / "desk"


@cache
def desk_messages(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise KeyError(f"unknown language {language!r}")
    data = json.loads((HERE / f"{language}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"desk/{language}.json is not an object")
    return {str(key): str(value) for key, value in data.items()}


class DeskCatalogue:
    """The desk messages of the current language, switchable at run time."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = DEFAULT_LANGUAGE
        self.set_language(language)

    def set_language(self, language: str) -> None:
        desk_messages(language)
        self.language = language

    def __call__(self, key: str, **values: object) -> str:
        text = desk_messages(self.language).get(key)
        if text is None:
            text = desk_messages(DEFAULT_LANGUAGE).get(key, key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in desk_messages(DEFAULT_LANGUAGE)

    def reason(self, code: str) -> str:
        """A reason code in plain words."""
        key = f"reason.{code}"
        if key in desk_messages(DEFAULT_LANGUAGE):
            return self(key)
        return code.replace("_", " ")
