"""The person watchlist: fuzzy name search with phonetic blocking.

Every name token is transliterated (ICAO) and put in two blocks: its phonetic code
(metaphone) and its first four letters. The index keeps, for each block, the entries holding
a token in it, sorted by birth year. A
query only scores the entries that share a code with one of its tokens; when the configured
penalty for a different birth date makes a hit impossible, it also only reads the entries
born within a year of the traveller or with no known birth date. Candidates whose birth date
and nationality alone cost more than the threshold allows (a name scores at most 1) are
dropped before their names are compared. The rest are scored exactly as
:meth:`WatchlistIndex.brute_force` scores every entry, so the pruning never loses a hit.
:meth:`WatchlistIndex.search_many` searches a whole manifest at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
import numpy as np
import numpy.typing as npt

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
_NARROW = 4  # tokens


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


def _distinct(values: IntArray) -> IntArray:
    """The distinct values, sorted (a sort and a comparison: faster than ``np.unique`` on
    the few thousand ids of one query)."""
    ordered = np.sort(values)
    if ordered.size < 2:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    distinct: IntArray = ordered[keep]
    return distinct


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
        self._vocabulary = vocabulary
        self._tokens: list[str] = list(vocabulary)
        self._token_array: npt.NDArray[np.object_] = np.array(self._tokens + [""], dtype=object)
        # one extra 0 at the end: the length of the padding token NO_TOKEN (-1)
        self._token_lengths: IntArray = np.fromiter(
            (len(t) for t in [*self._tokens, ""]), dtype=np.int32, count=len(self._tokens) + 1
        )
        width = max((len(row) for row in rows), default=1) or 1
        self._rows: IntArray = np.full((len(rows), width), NO_TOKEN, dtype=np.int32)
        for i, row in enumerate(rows):
            self._rows[i, : len(row)] = row
        # each row's total token length: the denominator of its backward name score
        self._row_weights: FloatArray = (
            self._token_lengths[self._rows].sum(axis=1).astype(np.float32)
        )
        # most names have few tokens: the pruning reads only the first columns of those
        self._narrow: npt.NDArray[np.bool_] = (self._rows[:, _NARROW:] == NO_TOKEN).all(axis=1)
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
        self._local = threading.local()

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
        counts = np.bincount(code_of, minlength=len(codes))
        self._block_starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def nbytes(self) -> int:
        arrays = (self._rows, self._births, self._nationalities, self._block_rows)
        return sum(int(a.nbytes) for a in arrays) + int(self._block_years.nbytes)

    def candidates(self, query: PersonQuery, threshold: float) -> IntArray:
        """Rows sharing a phonetic block with the query (and a birth year, when that is safe)."""
        year = query.birth_date.year if query.birth_date else 0
        by_year = year > 0 and threshold + self.weights.dob_mismatch_penalty > 1.0
        parts: list[IntArray] = []
        keys = {
            key
            for token in name_tokens(query.surname, query.given_names)
            for key in block_keys(token)
        }
        for key in keys:
            code = self._codes.get(key)
            if code is None:
                continue
            start, end = int(self._block_starts[code]), int(self._block_starts[code + 1])
            if not by_year:
                parts.append(self._block_rows[start:end])
                continue
            years = self._block_years[start:end]
            unknown_end, low, high = np.searchsorted(years, [1, year - 1, year + 2])
            parts.append(self._block_rows[start : start + unknown_end])
            parts.append(self._block_rows[start + low : start + high])
        if not parts:
            return np.empty(0, dtype=np.int32)
        return _distinct(np.concatenate(parts))

    def search(
        self, query: PersonQuery, threshold: float, limit: int | None = None
    ) -> list[WatchlistHit]:
        """Entries scoring at least ``threshold``, best first."""
        return self._hits(query, self.candidates(query, threshold), threshold, limit, prune=True)

    def search_many(
        self, queries: Sequence[PersonQuery], threshold: float, limit: int | None = None
    ) -> list[list[WatchlistHit]]:
        """:meth:`search` for every query (a flight's manifest), in order."""
        return [self.search(query, threshold, limit) for query in queries]

    def brute_force(
        self, query: PersonQuery, threshold: float, limit: int | None = None
    ) -> list[WatchlistHit]:
        """The same search over every entry, without blocking (for checking recall)."""
        rows = np.arange(len(self.entries), dtype=np.int32)
        return self._hits(query, rows, threshold, limit)

    def _hits(
        self,
        query: PersonQuery,
        rows: IntArray,
        threshold: float,
        limit: int | None,
        *,
        prune: bool = False,
    ) -> list[WatchlistHit]:
        tokens = name_tokens(query.surname, query.given_names)
        if not tokens or rows.size == 0:
            return []
        birth = birth_agreement(
            query.birth_date.code if query.birth_date else 0, self._births[rows]
        )
        nationality = self._nationality_agreement(query.nationality, rows)
        cost = penalties(birth, nationality, self.weights)
        if prune:
            # a name scores at most 1: rows whose birth date and nationality cost too much
            # cannot reach the threshold; of the others, only those whose backward name
            # score leaves room for it are scored in full
            possible = np.nonzero(cost <= 1.0 - threshold + _SLACK)[0]
            rows, birth, nationality, cost = (
                rows[possible], birth[possible], nationality[possible], cost[possible]
            )  # fmt: skip
            survivors, names = self._pruned_name_scores(tokens, rows, cost, threshold)
            rows, birth, nationality, cost = (
                rows[survivors], birth[survivors], nationality[survivors], cost[survivors]
            )  # fmt: skip
        else:
            names = self._name_scores(tokens, rows)
        scores = names - cost
        keep = np.nonzero(scores >= threshold)[0]
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
        row_tokens = self._rows[rows]
        query_lengths = np.array([len(t) for t in tokens], dtype=np.int32)
        if row_tokens.size >= len(self._tokens):
            sims = token_similarities(tokens, self._tokens)
            return name_scores(sims, query_lengths, row_tokens, self._token_lengths)
        used, local = self._local_tokens(row_tokens)
        sims = token_similarities(tokens, self._token_array[used].tolist())
        lengths = np.append(self._token_lengths[used], 0).astype(np.int32)
        return name_scores(sims, query_lengths, local, lengths)

    def _local_tokens(self, row_tokens: IntArray) -> tuple[IntArray, IntArray]:
        """The distinct tokens of these rows, and the rows as positions into them (padding
        stays ``NO_TOKEN``, the zero column at the end of the similarities)."""
        used_mask = np.zeros(len(self._tokens) + 1, dtype=bool)
        used_mask[row_tokens] = True
        used_mask[-1] = False
        used = np.nonzero(used_mask)[0].astype(np.int32)
        local_of = np.full(len(self._tokens) + 1, NO_TOKEN, dtype=np.int32)
        local_of[used] = np.arange(used.size, dtype=np.int32)
        return used, local_of[row_tokens]

    def _pruned_name_scores(
        self, tokens: Sequence[str], rows: IntArray, cost: FloatArray, threshold: float
    ) -> tuple[IntArray, FloatArray]:
        """The rows (positions into ``rows``) that may reach ``threshold`` and their exact
        name scores. The name score is the mean of a forward part (at most 1) and a backward
        part, which needs only each row token's best similarity with any query token: a row
        whose backward part is below ``2 * (threshold + cost) - 1`` cannot reach the
        threshold, and is not scored further."""
        if rows.size == 0:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
        narrow = self._narrow[rows]
        groups = (np.nonzero(narrow)[0], np.nonzero(~narrow)[0])
        row_tokens = (self._rows[rows[groups[0]], :_NARROW], self._rows[rows[groups[1]]])
        # the distinct tokens of these rows, and each token's position among them; the
        # padding NO_TOKEN (-1, sorted first) keeps pointing at the zero column at the end
        used = _distinct(np.concatenate([part.ravel() for part in row_tokens]))
        if used.size and used[0] == NO_TOKEN:
            used = used[1:]
        local_of = self._scratch()
        local_of[used] = np.arange(used.size, dtype=np.int32)
        sims = token_similarities(tokens, self._token_array[used].tolist())
        lengths = np.append(self._token_lengths[used], 0).astype(np.int32)
        # each token's best similarity times its length (the padding column stays 0)
        weighted = sims.max(axis=0) * lengths.astype(np.float32)
        need = 2 * (threshold + cost) - 1 - _SLACK
        survivors: list[IntArray] = []
        for group, part in zip(groups, row_tokens, strict=True):
            local = local_of[part]
            backward = weighted[local].sum(axis=1) / np.maximum(self._row_weights[rows[group]], 1)
            survivors.append(group[backward >= need[group]])
        kept = np.sort(np.concatenate(survivors)).astype(np.int32)
        query_lengths = np.array([len(t) for t in tokens], dtype=np.int32)
        names = name_scores(sims, query_lengths, local_of[self._rows[rows[kept]]], lengths)
        return kept, names

    def _scratch(self) -> IntArray:
        """This thread's token-position array (one per thread: searches run concurrently).
        Only the positions of the tokens a search writes are read by it, so it is never
        cleared; its last element, where NO_TOKEN points, stays NO_TOKEN."""
        local_of: IntArray | None = getattr(self._local, "positions", None)
        if local_of is None:
            local_of = np.full(len(self._tokens) + 1, NO_TOKEN, dtype=np.int32)
            self._local.positions = local_of
        return local_of

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
