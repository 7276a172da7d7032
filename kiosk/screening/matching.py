"""How well a traveller agrees with a listed person: names, birth date, nationality.

The name score ignores token order. Every token of one name is paired with its most similar
token of the other (Jaro-Winkler similarity), the similarities are averaged weighted by token
length, in both directions, and the two directions are averaged. A missing middle name costs
a little; a reordered or transliterated name costs nothing or almost nothing.

The scores of many listed names are computed at once with numpy: names are rows of token ids
into a vocabulary, and the similarities are computed once per distinct token with rapidfuzz.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cdist

from models.errors import ParseError

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]
NO_TOKEN = -1

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}|XX|00)(?:-(\d{2}|XX|00))?)?$")


class Agreement(StrEnum):
    """How one field of the traveller compares with the listed person."""

    EXACT = "exact"
    PARTIAL = "partial"
    MISMATCH = "mismatch"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A birth date of which the month or the day may be unknown (0)."""

    year: int
    month: int = 0
    day: int = 0

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``; ``00`` or ``XX`` mark an unknown part."""
        match = _PARTIAL_DATE.match(text.strip())
        if match is None:
            raise ParseError("birth date is not YYYY[-MM[-DD]]")
        year = int(match.group(1))
        month = int(match.group(2)) if match.group(2) and match.group(2) != "XX" else 0
        day = int(match.group(3)) if match.group(3) and match.group(3) != "XX" else 0
        if month == 0 and day:
            raise ParseError("birth date has a day but no month")
        if not 1850 <= year <= 2200 or month > 12:
            raise ParseError("birth date out of range")
        if month and day:
            try:
                dt.date(year, month, day)
            except ValueError as exc:
                raise ParseError("birth date is not a calendar date") from exc
        return cls(year, month, day)

    @classmethod
    def of(cls, value: dt.date | PartialDate | None) -> PartialDate | None:
        if value is None or isinstance(value, PartialDate):
            return value
        return cls(value.year, value.month, value.day)

    @property
    def code(self) -> int:
        """``yyyymmdd`` with zeros for unknown parts."""
        return self.year * 10000 + self.month * 100 + self.day

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Penalties subtracted from the name score when other fields disagree."""

    dob_partial_penalty: float = 0.05
    dob_mismatch_penalty: float = 0.25
    nationality_mismatch_penalty: float = 0.05


def token_similarities(query: Sequence[str], tokens: Sequence[str]) -> FloatArray:
    """Jaro-Winkler similarity of every query token with every token, shape (query, tokens + 1):
    the last column, zeros, is where padding (``NO_TOKEN``) points."""
    result: FloatArray = np.zeros((len(query), len(tokens) + 1), dtype=np.float32)
    # the many tokens as rapidfuzz's queries: each string is prepared once
    result[:, :-1] = cdist(
        list(tokens), list(query), scorer=JaroWinkler.normalized_similarity, dtype=np.float32
    ).T
    return result


def name_scores(
    similarities: FloatArray,
    query_lengths: IntArray,
    row_tokens: IntArray,
    token_lengths: IntArray,
) -> FloatArray:
    """Name scores of rows of token positions against one query name.

    ``similarities`` has one row per query token and one column per token used in
    ``row_tokens``, plus a last column of zeros that ``NO_TOKEN`` (-1), the padding of the
    rows, points at; ``token_lengths`` are those columns' token lengths (0 for the padding).
    """
    q_weights = query_lengths.astype(np.float32)
    r_weights = token_lengths[row_tokens].astype(np.float32)
    forward = np.zeros(row_tokens.shape[0], dtype=np.float32)
    backward = np.zeros(row_tokens.shape, dtype=np.float32)
    for i in range(similarities.shape[0]):
        pair = similarities[i][row_tokens]  # (rows, positions)
        forward += pair.max(axis=1) * q_weights[i]
        np.maximum(backward, pair, out=backward)
    forward /= q_weights.sum()
    # summed position by position, in order: the compiled search sums the same way
    weighted = np.zeros(row_tokens.shape[0], dtype=np.float32)
    for p in range(row_tokens.shape[1]):
        weighted += backward[:, p] * r_weights[:, p]
    backward_score = weighted / np.maximum(r_weights.sum(axis=1), 1)
    scores: FloatArray = ((forward + backward_score) / 2).astype(np.float32)
    return scores


def name_score(query: Sequence[str], listed: Sequence[str]) -> float:
    """The name score of two token lists, one pair at a time (reference implementation)."""
    if not query or not listed:
        return 0.0
    sims = [[JaroWinkler.normalized_similarity(q, t) for t in listed] for q in query]
    forward = sum(len(q) * max(row) for q, row in zip(query, sims, strict=True))
    forward /= sum(len(q) for q in query)
    backward = sum(len(t) * max(row[j] for row in sims) for j, t in enumerate(listed))
    backward /= sum(len(t) for t in listed)
    return (forward + backward) / 2


def birth_agreement(query: int, listed: npt.NDArray[np.int32]) -> npt.NDArray[np.int8]:
    """Birth date agreement codes (0 exact, 1 partial, 2 mismatch, 3 unknown) of listed dates
    (``yyyymmdd`` ints, 0 unknown) with the traveller's."""
    out = np.full(listed.shape, 3, dtype=np.int8)
    if query == 0:
        return out
    qy, qm, qd = query // 10000, query // 100 % 100, query % 100
    ly, lm, ld = listed // 10000, listed // 100 % 100, listed % 100
    known = listed != 0
    month_ok = (lm == 0) | (qm == 0) | (lm == qm)
    day_ok = (ld == 0) | (qd == 0) | (ld == qd)
    exact = known & (ly == qy) & month_ok & day_ok
    swapped = (ly == qy) & (lm == qd) & (ld == qm) & (lm != 0) & (qm != 0)
    year_off = (np.abs(ly - qy) == 1) & month_ok & day_ok
    partial = known & ~exact & (swapped | year_off | ((ly == qy) & (month_ok | day_ok)))
    out[known] = 2
    out[partial] = 1
    out[exact] = 0
    return out


AGREEMENTS = (Agreement.EXACT, Agreement.PARTIAL, Agreement.MISMATCH, Agreement.UNKNOWN)


def penalties(
    birth_codes: npt.NDArray[np.int8],
    nationality_match: npt.NDArray[np.int8],
    weights: ScoreWeights,
) -> FloatArray:
    """What to subtract from the name scores given the birth date and nationality agreement
    codes (for nationality: 0 same, 2 different, 3 unknown)."""
    birth = np.array(
        [0.0, weights.dob_partial_penalty, weights.dob_mismatch_penalty, 0.0], dtype=np.float32
    )
    nationality = np.array([0.0, 0.0, weights.nationality_mismatch_penalty, 0.0], dtype=np.float32)
    result: FloatArray = birth[birth_codes] + nationality[nationality_match]
    return result
