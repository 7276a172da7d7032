"""Names, codes and document numbers reduced to the form the lists are matched on.

Names follow ICAO Doc 9303 Part 3: transliterated to the 26 Latin capitals, apostrophes
dropped, every other separator a single space. When the project's ICAO transliteration
(``kiosk.icao.mrz.transliteration``) is importable it does the letter mapping; otherwise a
table of the common Latin cases and the Cyrillic table, then Unicode decomposition (which
strips the remaining accents), stand in for it.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from models.errors import KioskError

# Letters whose ICAO transliteration is not simply "drop the accent".
_LATIN: dict[str, str] = {
    "Ä": "AE", "Æ": "AE", "Ǽ": "AE", "Å": "AA", "Ö": "OE", "Ø": "OE", "Œ": "OE", "Ü": "UE",
    "ß": "SS", "ẞ": "SS", "Þ": "TH", "Ð": "D", "Đ": "D", "Ħ": "H", "Ĳ": "IJ", "Ŀ": "L",
    "Ł": "L", "Ŋ": "N", "ı": "I", "Ŧ": "T", "Ñ": "N",
}  # fmt: skip
# ICAO 9303 Part 3, Cyrillic (Russian, Ukrainian, Belarusian, Serbian, Macedonian letters).
_CYRILLIC: dict[str, str] = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Ґ": "G", "Д": "D", "Ђ": "D", "Ѓ": "G", "Е": "E",
    "Ё": "E", "Є": "IE", "Ж": "ZH", "З": "Z", "Ѕ": "DZ", "И": "I", "І": "I", "Ї": "I", "Й": "I",
    "Ј": "J", "К": "K", "Л": "L", "Љ": "LJ", "М": "M", "Н": "N", "Њ": "NJ", "О": "O", "П": "P",
    "Р": "R", "С": "S", "Т": "T", "Ћ": "C", "Ќ": "K", "У": "U", "Ў": "U", "Ф": "F", "Х": "KH",
    "Ц": "TS", "Ч": "CH", "Џ": "DZ", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "",
    "Э": "E", "Ю": "IU", "Я": "IA",
}  # fmt: skip
_TABLE = {**_LATIN, **_CYRILLIC}
_APOSTROPHES = "'’‘`´ʼ"
_NOT_LETTER = re.compile(r"[^A-Z]+")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_SEPARATOR = re.compile(r"[\s\-\u2010\u2011\u2013\u2014<,;/()]+")

MAX_NAME_CHARS = 200


def _icao_transliterator() -> Callable[[str], str] | None:
    """The project's ICAO transliteration function, if that module has landed."""
    try:
        module = importlib.import_module("kiosk.icao.mrz.transliteration")
    except ImportError:
        return None
    for name in ("transliterate", "transliterate_name", "to_mrz_characters"):
        function = getattr(module, name, None)
        if callable(function):
            return function  # type: ignore[no-any-return]
    return None


_ICAO: Callable[[str], str] | None = _icao_transliterator()


def _fallback_transliterate(text: str) -> str:
    out: list[str] = []
    for char in text.upper():
        mapped = _TABLE.get(char)
        if mapped is not None:
            out.append(mapped)
            continue
        for part in unicodedata.normalize("NFKD", char):
            if not unicodedata.combining(part):
                out.append(_TABLE.get(part, part))
    return "".join(out)


# ASCII, as the ICAO transliteration takes it: the letters, the separators (the filler
# between components) and the marks it drops; any other ASCII character (a digit, say) it
# refuses, and the table below leaves as it is
_ICAO_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -\t<'`.,")
_ICAO_ASCII_MAP = str.maketrans({"-": " ", "\t": " ", "<": " ", "'": "", "`": "", ".": "", ",": ""})


def _ascii_transliterate(text: str) -> str:
    """:func:`transliterate` of ASCII text without a character-by-character pass (names
    and document numbers are nearly always ASCII; a test checks the two agree)."""
    if _ICAO is not None and _ICAO_ASCII.issuperset(text):
        return " ".join(text.upper().translate(_ICAO_ASCII_MAP).split())
    return text.upper()


def transliterate(text: str) -> str:
    """``text`` in ICAO Latin capitals; characters with no mapping are left for the caller."""
    if text.isascii():
        return _ascii_transliterate(text)
    return _transliterate(text)


def _transliterate(text: str) -> str:
    if _ICAO is not None:
        try:
            return _ICAO(text).upper().replace("<", " ")
        except (KioskError, ValueError, LookupError, TypeError):
            pass  # a character it refuses: the table below still gives a usable key
    return _fallback_transliterate(text)


def normalise_name(text: str) -> str:
    """One name (or several names) as space-separated ICAO tokens: ``"Müller-Lüdenscheidt"``
    becomes ``"MUELLER LUEDENSCHEIDT"``, ``"O'Neill"`` becomes ``"ONEILL"``."""
    return " ".join(name_tokens(text))


@lru_cache(maxsize=262_144)
def _word_tokens(word: str) -> tuple[str, ...]:
    for mark in _APOSTROPHES:
        word = word.replace(mark, "")
    return tuple(_NOT_LETTER.sub(" ", transliterate(word)).split())


def name_tokens(*parts: str) -> tuple[str, ...]:
    """The tokens of a person's names, in the order given (callers ignore the order)."""
    tokens: list[str] = []
    for part in parts:
        if part:
            for word in _SEPARATOR.split(part[:MAX_NAME_CHARS]):
                if word:
                    tokens.extend(_word_tokens(word))
    return tuple(tokens)


def normalise_code(text: str) -> str:
    """A country or issuer code: capitals only, MRZ fillers dropped (``"D<<"`` is ``"D"``)."""
    return _NOT_LETTER.sub("", text.upper())


def normalise_document_number(text: str) -> str:
    """A document number as printed in the MRZ: capitals and digits, separators dropped."""
    return _NOT_ALNUM.sub("", transliterate(text).upper())


def normalise_document_type(text: str) -> str:
    """The document category, the first letter of the ICAO code (P, I, A, C, V); ``""`` when
    unknown."""
    code = normalise_code(text)
    return code[:1]
