"""The person watchlist: fuzzy name search with phonetic blocking.

Every name token is transliterated (ICAO) and put in two blocks: its phonetic code
(metaphone) and its first four letters. The index keeps, for each block, the entries holding
a token in it, sorted by birth year. A
query only scores the entries that share a code with one of its tokens; when the configured
penalty for a different birth date makes a hit impossible, it also only reads the entries
born within a year of the traveller or with no known birth date. Candidates whose birth date
and nationality alone cost more than the threshold allows (a name scores at most 1) are
dropped before their names are compared, and so are those that a bound of their tokens'
similarities (from the letters the tokens share, never below the similarity) leaves out of
reach. Only the rest get the exact Jaro-Winkler similarities of their tokens, computed as
rapidfuzz computes them, and are scored exactly as :meth:`WatchlistIndex.brute_force` (numpy
and rapidfuzz, the reference) scores every entry, so the pruning never loses a hit the
blocks reach. The loops run compiled (:mod:`kiosk.screening.watchlist_kernels`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import jellyfish
import numpy as np
import numpy.typing as npt

from kiosk.screening import watchlist_kernels as kernels
from kiosk.screening.matching import (
    AGREEMENTS,
    NO_TOKEN,
    Agreement,
    FloatArray,
    IntArray,
    PartialDate,
    ScoreWeights,
    birth_agreement,
    name_scores,
    penalties,
    token_similarities,
)
from kiosk.screening.normalise import name_tokens, normalise_code

# float32 scores: a row is kept when its penalty leaves the threshold within this margin
_SLACK = 1e-4
_LAST_SERIAL = 255
# a search's token columns are kept in the low 24 bits of a stamp word
MAX_TOKENS = (1 << 24) - 1


@dataclass(slots=True)
class _Scratch:
    rows: npt.NDArray[np.uint8]
    tokens: npt.NDArray[np.uint32]
    serial: int = 0


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """One name of a listed person (aliases are further entries with the same reference)."""

    reference: str
    list_name: str
    surname: str
    given_names: str = ""
    birth_date: PartialDate | None = None
    nationality: str = ""


@dataclass(frozen=True, slots=True)
class PersonQuery:
    """The traveller as the watchlist sees them."""

    surname: str
    given_names: str = ""
    birth_date: PartialDate | None = None
    nationality: str = ""


@dataclass(frozen=True, slots=True)
class WatchlistHit:
    entry: WatchlistEntry
    score: float
    name_score: float
    birth_date: Agreement
    nationality: Agreement

    @property
    def list_name(self) -> str:
        return self.entry.list_name

    @property
    def matched_fields(self) -> tuple[str, ...]:
        fields = ["name"]
        if self.birth_date in (Agreement.EXACT, Agreement.PARTIAL):
            fields.append("birth_date")
        if self.nationality is Agreement.EXACT:
            fields.append("nationality")
        return tuple(fields)


_warmed = threading.Event()


def _warm() -> None:
    """Compile (or load from numba's cache) the search loops once per process, when the
    first index is built, so that no traveller's search waits for it."""
    if _warmed.is_set():
        return
    _warmed.set()
    probe = WatchlistIndex([WatchlistEntry("warm", "warm", "WARM", "UP", PartialDate(1970))])
    probe.search(PersonQuery("WARM", "UP", PartialDate(1970), "XXX"), 0.5)


def _packed(tokens: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Tokens' letters end to end (one byte each: tokens hold A-Z only) and where each
    starts, with the end of the last."""
    starts = np.fromiter(accumulate(map(len, tokens), initial=0), dtype=np.int64)
    return np.frombuffer("".join(tokens).encode("ascii"), dtype=np.uint8), starts


@lru_cache(maxsize=65_536)
def block_keys(token: str) -> tuple[str, str]:
    """The blocks a name token belongs to: its metaphone code and its first four letters
    (Jaro-Winkler rewards a shared prefix, so similar tokens rarely differ in both)."""
    return "M" + (jellyfish.metaphone(token) or token), "P" + token[:4]


class WatchlistIndex:
    """An immutable, searchable copy of the loaded watchlist entries."""

    def __init__(self, entries: Iterable[WatchlistEntry], weights: ScoreWeights | None = None):
        self.weights = weights or ScoreWeights()
        self.entries: list[WatchlistEntry] = list(entries)
        vocabulary: dict[str, int] = {}
        rows: list[list[int]] = []
        for entry in self.entries:
            tokens = name_tokens(entry.surname, entry.given_names)
            rows.append([vocabulary.setdefault(token, len(vocabulary)) for token in tokens])
        if len(vocabulary) > MAX_TOKENS:
            raise ValueError(f"a watchlist holds at most {MAX_TOKENS:,} distinct name tokens")
        self._tokens: list[str] = list(vocabulary)
        # the tokens' letters (A-Z, see name_tokens) end to end, for the compiled similarity
        self._chars, self._char_starts = _packed(self._tokens)
        self._token_info = kernels.letter_counts(self._chars, self._char_starts)
        # one extra 0 at the end: the length of the padding token NO_TOKEN (-1)
        self._token_lengths: IntArray = np.fromiter(
            (len(t) for t in [*self._tokens, ""]), dtype=np.int32, count=len(self._tokens) + 1
        )
        width = max((len(row) for row in rows), default=1) or 1
        self._rows: IntArray = np.full((len(rows), width), NO_TOKEN, dtype=np.int32)
        for i, row in enumerate(rows):
            self._rows[i, : len(row)] = row
        self._births: npt.NDArray[np.int32] = np.fromiter(
            (e.birth_date.code if e.birth_date else 0 for e in self.entries),
            dtype=np.int32,
            count=len(self.entries),
        )
        nationalities = sorted({normalise_code(e.nationality) for e in self.entries} | {""})
        self._nationality_ids = {code: i for i, code in enumerate(nationalities)}
        self._nationalities: npt.NDArray[np.int16] = np.fromiter(
            (self._nationality_ids[normalise_code(e.nationality)] for e in self.entries),
            dtype=np.int16,
            count=len(self.entries),
        )
        self._build_blocks()
        self._penalties: FloatArray = np.array(
            [
                0.0,
                self.weights.dob_partial_penalty,
                self.weights.dob_mismatch_penalty,
                0.0,
                self.weights.nationality_mismatch_penalty,
            ],
            dtype=np.float32,
        )
        self._local = threading.local()
        _warm()

    def _build_blocks(self) -> None:
        codes: dict[str, int] = {}
        token_code = np.array(
            [[codes.setdefault(key, len(codes)) for key in block_keys(t)] for t in self._tokens],
            dtype=np.int64,
        ).reshape(len(self._tokens), 2)
        self._codes = codes
        row_index, position = np.nonzero(self._rows != NO_TOKEN)
        code_of = token_code[self._rows[row_index, position]].ravel()
        row_index = np.repeat(row_index, 2)
        rows = row_index.astype(np.int32)
        years = (self._births[rows] // 10000).astype(np.int16)
        order = np.lexsort((rows, years, code_of))
        code_of, rows, years = code_of[order], rows[order], years[order]
        # a row whose two tokens share a block is listed there once
        first = np.ones(rows.size, dtype=bool)
        first[1:] = (code_of[1:] != code_of[:-1]) | (rows[1:] != rows[:-1])
        code_of, rows, years = code_of[first], rows[first], years[first]
        self._block_rows: IntArray = rows
        self._block_years: npt.NDArray[np.int16] = years
        # each block entry's birth date and nationality beside it: a search reads a block
        # in order, not the whole index at random
        births = self._births[rows]
        self._block_months: npt.NDArray[np.int8] = (births // 100 % 100).astype(np.int8)
        self._block_days: npt.NDArray[np.int8] = (births % 100).astype(np.int8)
        self._block_nationalities: npt.NDArray[np.int16] = self._nationalities[rows]
        # each block entry's row tokens beside it, for the same reason
        most = rows.size * self._rows.shape[1]  # no entry's row has more tokens than a row
        self._entry_starts = np.empty(rows.size + 1, dtype=np.int32 if most < 2**31 else np.int64)
        self._entry_tokens: IntArray = kernels.entry_tokens(self._rows, rows, self._entry_starts)
        counts = np.bincount(code_of, minlength=len(codes))
        self._block_starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def nbytes(self) -> int:
        arrays = (
            self._rows,
            self._births,
            self._nationalities,
            self._block_rows,
            self._block_years,
            self._block_months,
            self._block_days,
            self._block_nationalities,
            self._entry_starts,
            self._entry_tokens,
            self._chars,
            self._char_starts,
            self._token_info,
        )
        return sum(int(a.nbytes) for a in arrays)

    def _query_codes(self, tokens: Sequence[str]) -> npt.NDArray[np.int64]:
        """The blocks of the query's tokens that the index holds, each once."""
        found = {self._codes.get(key) for token in tokens for key in block_keys(token)}
        found.discard(None)
        return np.array(sorted(found), dtype=np.int64)  # type: ignore[type-var]

    def search(
        self, query: PersonQuery, threshold: float, limit: int | None = None
    ) -> list[WatchlistHit]:
        """Entries scoring at least ``threshold``, best first (ties in list order)."""
        tokens = name_tokens(query.surname, query.given_names)
        if not tokens or not self.entries:
            return []
        codes = self._query_codes(tokens)
        if codes.size == 0:
            return []
        year = query.birth_date.year if query.birth_date else 0
        scratch = self._scratch()
        query_chars, query_starts = _packed(tokens)
        found, scores, names, birth, nationality = kernels.search(
            codes,
            year > 0 and threshold + self.weights.dob_mismatch_penalty > 1.0,
            year,
            self._block_starts,
            self._block_rows,
            self._block_years,
            self._block_months,
            self._block_days,
            self._block_nationalities,
            query.birth_date.code if query.birth_date else 0,
            self._nationality_id(query.nationality),
            self._penalties,
            threshold,
            _SLACK,
            self._entry_starts,
            self._entry_tokens,
            self._rows.shape[1],
            self._chars,
            self._char_starts,
            self._token_info,
            query_chars,
            query_starts,
            scratch.rows,
            scratch.tokens,
            scratch.serial,
        )
        if found.size == 0:
            return []
        order = np.lexsort((found, -scores))
        if limit is not None:
            order = order[:limit]
        entries = self.entries
        return [
            WatchlistHit(
                entries[row], round(score, 4), round(name, 4), AGREEMENTS[b], AGREEMENTS[m]
            )  # fmt: skip
            for row, score, name, b, m in zip(
                found[order].tolist(),
                scores[order].tolist(),
                names[order].tolist(),
                birth[order].tolist(),
                nationality[order].tolist(),
                strict=True,
            )
        ]

    def search_many(
        self, queries: Sequence[PersonQuery], threshold: float, limit: int | None = None
    ) -> list[list[WatchlistHit]]:
        """:meth:`search` for every query (a flight's manifest), in order."""
        return [self.search(query, threshold, limit) for query in queries]

    def brute_force(
        self, query: PersonQuery, threshold: float, limit: int | None = None
    ) -> list[WatchlistHit]:
        """The same search over every entry, without blocking or pruning, with numpy and
        rapidfuzz (the reference that recall is checked against)."""
        tokens = name_tokens(query.surname, query.given_names)
        if not tokens or not self.entries:
            return []
        rows = np.arange(len(self.entries), dtype=np.int32)
        birth = birth_agreement(
            query.birth_date.code if query.birth_date else 0, self._births[rows]
        )
        nationality = self._nationality_agreement(query.nationality, rows)
        cost = penalties(birth, nationality, self.weights)
        names = self._name_scores(tokens, rows)
        scores = names - cost
        keep = np.nonzero(scores >= np.float32(threshold))[0]
        keep = keep[np.argsort(-scores[keep], kind="stable")]
        if limit is not None:
            keep = keep[:limit]
        return [
            WatchlistHit(
                entry=self.entries[int(rows[i])],
                score=round(float(scores[i]), 4),
                name_score=round(float(names[i]), 4),
                birth_date=AGREEMENTS[int(birth[i])],
                nationality=AGREEMENTS[int(nationality[i])],
            )
            for i in keep
        ]

    def _name_scores(self, tokens: Sequence[str], rows: IntArray) -> FloatArray:
        sims = token_similarities(tokens, self._tokens)
        query_lengths = np.array([len(t) for t in tokens], dtype=np.int32)
        return name_scores(sims, query_lengths, self._rows[rows], self._token_lengths)

    def _scratch(self) -> _Scratch:
        """This thread's stamp arrays (searches run concurrently on several threads). A
        search marks the rows and tokens it meets with a serial number of its own (one
        byte, and for a token beside its column in the search: the arrays stay small
        enough for the caches), so the arrays are cleared only when the serial numbers run
        out."""
        scratch: _Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = _Scratch(
                np.zeros(len(self.entries), dtype=np.uint8),
                np.zeros(len(self._tokens) + 1, dtype=np.uint32),
            )
            self._local.scratch = scratch
        if scratch.serial >= _LAST_SERIAL:
            scratch.rows.fill(0)
            scratch.tokens.fill(0)
            scratch.serial = 0
        scratch.serial += 1
        return scratch

    def _nationality_id(self, nationality: str) -> int:
        """The query's nationality as the kernels take it: its id, -1 when no entry has
        it, -2 when the query has none."""
        code = normalise_code(nationality)
        return self._nationality_ids.get(code, -1) if code else -2

    def _nationality_agreement(self, nationality: str, rows: IntArray) -> npt.NDArray[np.int8]:
        listed = self._nationalities[rows]
        code = normalise_code(nationality)
        out = np.full(rows.shape, 3, dtype=np.int8)
        if not code:
            return out
        wanted = self._nationality_ids.get(code, -1)
        out[listed != 0] = 2
        out[listed == wanted] = 0
        return out
