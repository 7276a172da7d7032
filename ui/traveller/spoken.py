"""What the traveller screens speak: each screen's title and instruction, each guidance
message, in every language of the catalogue (for rendering ahead of the first traveller)."""

from __future__ import annotations

from ui.i18n import LANGUAGES, messages


def spoken(*parts: str) -> str:
    """Sentences joined for speech: each part ends with one full stop."""
    return " ".join(p.strip().rstrip(".") + "." for p in parts if p.strip())


def every_prompt(
    screens: tuple[str, ...], officer_directions: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(language, text) of everything ``screens`` and the face guidance may speak."""
    directions = officer_directions or {}
    prompts: list[tuple[str, str]] = []
    for language in LANGUAGES:
        catalogue = messages(language)
        for name in screens:
            instruction = catalogue[f"{name}.instruction"]
            if name == "officer" and language in directions:
                instruction = directions[language]
            prompts.append((language, spoken(catalogue[f"{name}.title"], instruction)))
        prompts += [(language, v) for k, v in catalogue.items() if k.startswith("guidance.")]
    return prompts
