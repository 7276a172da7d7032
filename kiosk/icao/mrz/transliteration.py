"""ICAO 9303 Part 3 transliteration of names, and the MRZ name field.

Latin letters with diacritics lose them, except the multi-letter transliterations the
standard gives (Ä->AE, Å->AA, Æ->AE, Ö->OE, Ø->OE, Œ->OE, Ü->UE, ß->SS, Þ->TH, Ĳ->IJ).
Cyrillic follows the Part 3 table. Spaces and hyphens become the filler ``<``; apostrophes,
commas and full stops are dropped. Any other character raises
:class:`TransliterationError`, so a name is never silently mangled.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from kiosk.icao.mrz.errors import MrzBuildError, TransliterationError

_MULTI_LETTER = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ö": "OE",
    "Ø": "OE",
    "Œ": "OE",
    "Ü": "UE",
    "ß": "SS",
    "ẞ": "SS",
    "Þ": "TH",
    "Ĳ": "IJ",
    "Ð": "D",
    "Đ": "D",
    "Ħ": "H",
    "Ŀ": "L",
    "Ł": "L",
    "Ŋ": "N",
    "Ŧ": "T",
    "İ": "I",
    "ı": "I",
}

_CYRILLIC = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Ґ": "G", "Д": "D", "Ђ": "D", "Ѓ": "G",
    "Е": "E", "Ё": "E", "Є": "IE", "Ж": "ZH", "З": "Z", "Ѕ": "DZ", "И": "I", "І": "I",
    "Ї": "I", "Й": "I", "Ј": "J", "К": "K", "Л": "L", "Љ": "LJ", "М": "M", "Н": "N",
    "Њ": "NJ", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "Ћ": "C", "Ќ": "K",
    "У": "U", "Ў": "U", "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Џ": "DZ", "Ш": "SH",
    "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU", "Я": "IA",
}  # fmt: skip

_SEPARATORS = frozenset(" -\u2010\u2011\u2013\t")
_DROPPED = frozenset("'’‘`´.,")


def _transliterate_char(char: str) -> str:
    if "A" <= char <= "Z":
        return char
    upper = char.upper()
    if len(upper) == 1 and "A" <= upper <= "Z":
        return upper
    if char == "ß":
        return "SS"
    for table in (_MULTI_LETTER, _CYRILLIC):
        if upper in table:
            return table[upper]
    decomposed = unicodedata.normalize("NFKD", upper)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and all("A" <= c <= "Z" for c in base):
        return base
    raise TransliterationError("a name holds a character with no ICAO 9303 transliteration")


def transliterate(name: str) -> str:
    """The MRZ form of a name: A..Z with ``<`` between its components."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", name):
        if char in _SEPARATORS or char == "<":
            out.append("<")
        elif char in _DROPPED:
            continue
        else:
            out.append(_transliterate_char(char))
    components = [c for c in "".join(out).split("<") if c]
    return "<".join(components)


@dataclass(frozen=True, slots=True)
class NameField:
    """The MRZ name field and whether the name had to be truncated to fit."""

    text: str
    truncated: bool

    def __repr__(self) -> str:
        return f"NameField(truncated={self.truncated})"


def build_name_field(primary: str, secondary: str, length: int) -> NameField:
    """Primary identifier, ``<<``, secondary identifier, filled or truncated to ``length``.

    Truncation follows ICAO 9303 Part 3: the secondary identifier is shortened first; only if
    the primary identifier alone does not fit is it shortened too, keeping the initial of the
    secondary identifier. A truncated field ends with a letter, never a filler, so readers can
    tell that it was truncated.
    """
    surname = transliterate(primary)
    given = transliterate(secondary)
    if not surname:
        raise MrzBuildError("the primary identifier (surname) is empty")
    full = f"{surname}<<{given}" if given else surname
    if len(full) <= length:
        return NameField(full.ljust(length, "<"), truncated=False)
    if given and len(surname) + 3 <= length:
        room = length - len(surname) - 2
        kept = given[:room].rstrip("<")
        field = f"{surname}<<{kept}"
        if len(field) < length:
            # the cut fell on a separator: keep the next component's initial instead of a
            # trailing filler, so the field still ends with a letter
            field = _fill_with_initials(surname, given, length)
        return NameField(field, truncated=True)
    if given:
        return NameField(f"{surname[: length - 3]}<<{given[0]}", truncated=True)
    return NameField(surname[:length], truncated=True)


def _fill_with_initials(surname: str, given: str, length: int) -> str:
    """Secondary identifier components reduced to initials from the last one backwards."""
    parts = given.split("<")
    for index in range(len(parts) - 1, -1, -1):
        parts[index] = parts[index][:1]
        candidate = f"{surname}<<{'<'.join(parts)}"
        if len(candidate) <= length:
            # lengthen the last shortened component back as far as the field allows
            spare = length - len(candidate)
            original = given.split("<")[index]
            parts[index] = original[: 1 + spare]
            candidate = f"{surname}<<{'<'.join(parts)}"
            return candidate.ljust(length, "<")
    return f"{surname}<<{given[0]}".ljust(length, "<")[:length]
