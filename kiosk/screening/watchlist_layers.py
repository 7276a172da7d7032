"""A watchlist that takes changes without rebuilding its large index.

Building the index of a million names takes about a minute; a list that moves by a few
entries must not hold the next manifest back that long. :class:`LayeredWatchlist` searches
a large *base* index, a small index of the entries added or changed since the base was
built (rebuilt with each change, so its cost follows the size of the changes), and any
other small indexes searched alongside (a member state's national list). A changed or
deleted entry of the base is masked by its reference. When the changes grow past
``compact_after`` entries, the next change rebuilds the base with them (compaction).

Results are those one index holding the same entries gives: every layer scores its
entries exactly as :class:`~kiosk.screening.watchlist.WatchlistIndex` does, and the hits
are merged best first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kiosk.screening.matching import ScoreWeights
from kiosk.screening.watchlist import PersonQuery, WatchlistEntry, WatchlistHit, WatchlistIndex

COMPACT_AFTER = 50_000


@dataclass(frozen=True)
class LayeredWatchlist:
    base: WatchlistIndex
    added: Mapping[str, WatchlistEntry] = field(default_factory=dict)
    masked: frozenset[str] = frozenset()  # base references changed or deleted since
    extra: tuple[WatchlistIndex, ...] = ()
    compact_after: int = COMPACT_AFTER
    overlay: WatchlistIndex | None = None

    @classmethod
    def of(
        cls,
        entries: Iterable[WatchlistEntry],
        weights: ScoreWeights | None = None,
        extra: tuple[WatchlistIndex, ...] = (),
    ) -> LayeredWatchlist:
        return cls(WatchlistIndex(entries, weights), extra=extra)

    @property
    def weights(self) -> ScoreWeights:
        return self.base.weights

    def with_changes(
        self, changes: Iterable[tuple[str, WatchlistEntry | None]]
    ) -> LayeredWatchlist:
        """The list after these changes, in order: ``(reference, entry)`` replaces the entry
        of that reference, ``(reference, None)`` deletes it. The base index is reused, not
        rebuilt, until the changes grow past ``compact_after``."""
        added = dict(self.added)
        masked = set(self.masked)
        for reference, entry in changes:
            masked.add(reference)
            if entry is None:
                added.pop(reference, None)
            else:
                added[reference] = entry
        if len(added) + len(masked) > self.compact_after:
            live = [e for e in self.base.entries if e.reference not in masked]
            return LayeredWatchlist(
                WatchlistIndex([*live, *added.values()], self.weights),
                extra=self.extra,
                compact_after=self.compact_after,
            )
        overlay = WatchlistIndex(added.values(), self.weights) if added else None
        return LayeredWatchlist(
            self.base, added, frozenset(masked), self.extra, self.compact_after, overlay
        )

    def with_extra(self, extra: tuple[WatchlistIndex, ...]) -> LayeredWatchlist:
        """The same list with other indexes searched alongside (replacing the former ones)."""
        return LayeredWatchlist(
            self.base, self.added, self.masked, extra, self.compact_after, self.overlay
        )

    @property
    def layers(self) -> tuple[WatchlistIndex, ...]:
        overlay = (self.overlay,) if self.overlay is not None else ()
        return (self.base, *overlay, *self.extra)

    def __len__(self) -> int:
        live = sum(1 for e in self.base.entries if e.reference not in self.masked)
        return live + len(self.added) + sum(len(index) for index in self.extra)

    def search(
        self, query: PersonQuery, threshold: float, limit: int | None = None
    ) -> list[WatchlistHit]:
        return self.search_many([query], threshold, limit)[0]

    def search_many(
        self, queries: Sequence[PersonQuery], threshold: float, limit: int | None = None
    ) -> list[list[WatchlistHit]]:
        """Every query's hits in every layer, best first (the base's masked entries left out)."""
        found = [
            index.search_many(queries, threshold, None if self.masked else limit)
            for index in self.layers
        ]
        return [self._merge([layer[i] for layer in found], limit) for i in range(len(queries))]

    def brute_force(
        self, query: PersonQuery, threshold: float, limit: int | None = None
    ) -> list[WatchlistHit]:
        """Every entry of every layer scored (for checking recall)."""
        found = [index.brute_force(query, threshold) for index in self.layers]
        return self._merge(found, limit)

    def _merge(self, found: list[list[WatchlistHit]], limit: int | None) -> list[WatchlistHit]:
        base, *others = found
        if self.masked:
            base = [hit for hit in base if hit.entry.reference not in self.masked]
        hits = [*base, *(hit for layer in others for hit in layer)]
        hits.sort(key=lambda hit: -hit.score)  # stable: the base first on a tie
        return hits if limit is None else hits[:limit]
