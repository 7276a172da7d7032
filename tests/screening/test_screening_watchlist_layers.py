"""The layered watchlist gives the hits one index of the same entries gives, after changes
(replace, delete, delete then add again), before and after compaction, without rebuilding
its base until then."""

from __future__ import annotations

import random

from kiosk.screening.matching import PartialDate
from kiosk.screening.synthetic import people, variant
from kiosk.screening.watchlist import PersonQuery, WatchlistEntry, WatchlistIndex
from kiosk.screening.watchlist_layers import LayeredWatchlist

THRESHOLD = 0.88


def _hits(found: list[list]) -> list[list[tuple[str, float]]]:  # type: ignore[type-arg]
    return [[(h.entry.reference, h.score) for h in hits] for hits in found]


def _queries(entries: list[WatchlistEntry], count: int) -> list[PersonQuery]:
    rng = random.Random(5)
    return [variant(rng, rng.choice(entries)) for _ in range(count)]


def test_changes_apply_without_a_rebuild_and_agree_with_one_index() -> None:
    # GIVEN a layered list over 3,000 people
    base = people(3000, seed=11)
    layered = LayeredWatchlist.of(base)
    moved_person = base[10]
    renamed = WatchlistEntry(moved_person.reference, "regional", "Zzyzxwq", "Quentin",
                             PartialDate(1961, 3, 4), "TTO")  # fmt: skip
    newcomer = WatchlistEntry("NEW-1", "regional", "Okonkwo", "Chidi", PartialDate(1990, 5, 6))
    back = base[20]
    # WHEN an entry is replaced, one is deleted, one deleted and added again, one added
    changes = [
        (renamed.reference, renamed),
        (base[15].reference, None),
        (back.reference, None),
        (back.reference, back),
        (newcomer.reference, newcomer),
    ]
    moved = layered.with_changes(changes)
    # THEN the base index is the same object (not rebuilt) ...
    assert moved.base is layered.base and moved.overlay is not None
    # ... and every search agrees with one index holding the same entries
    live = [e for e in base if e.reference not in {renamed.reference, base[15].reference}]
    expected = WatchlistIndex([*live, renamed, newcomer])
    assert len(moved) == len(expected)
    queries = [
        *_queries(base, 60),
        PersonQuery(moved_person.surname, moved_person.given_names, moved_person.birth_date,
                    moved_person.nationality),
        PersonQuery("Zzyzxwq", "Quentin", PartialDate(1961, 3, 4), "TTO"),
        PersonQuery("Okonkwo", "Chidi", PartialDate(1990, 5, 6)),
        PersonQuery(base[15].surname, base[15].given_names, base[15].birth_date),
        PersonQuery(back.surname, back.given_names, back.birth_date, back.nationality),
    ]  # fmt: skip
    got = _hits(moved.search_many(queries, THRESHOLD, limit=10))
    want = _hits(expected.search_many(queries, THRESHOLD, limit=10))
    assert got == want
    assert any(r == "NEW-1" for r, _ in got[-3]) and any(r == back.reference for r, _ in got[-1])
    assert all(r != base[15].reference for r, _ in got[-2])
    assert all(r != moved_person.reference for r, _ in got[-5])  # the old name is gone
    for query in queries[-5:]:
        assert _hits([moved.brute_force(query, THRESHOLD)]) == _hits(
            [expected.brute_force(query, THRESHOLD)]
        )


def test_many_changes_compact_into_a_new_base_with_the_same_hits() -> None:
    base = people(2000, seed=12)
    layered = LayeredWatchlist(WatchlistIndex(base), compact_after=50)
    extra = people(60, seed=13)
    renamed = [
        WatchlistEntry(f"X-{e.reference}", "regional", e.surname, e.given_names, e.birth_date)
        for e in extra
    ]
    moved = layered.with_changes([(e.reference, e) for e in renamed])
    assert moved.base is not layered.base and not moved.added and not moved.masked
    queries = _queries(renamed, 30)
    expected = WatchlistIndex([*base, *renamed])
    assert _hits(moved.search_many(queries, THRESHOLD)) == _hits(
        expected.search_many(queries, THRESHOLD)
    )


def test_the_pruned_search_agrees_with_brute_force() -> None:
    # GIVEN travellers near listed people and unrelated ones (pruning must lose no hit)
    entries = people(4000, seed=21)
    index = WatchlistIndex(entries)
    rng = random.Random(8)
    queries = [variant(rng, rng.choice(entries)) for _ in range(80)]
    queries += [PersonQuery(e.surname, e.given_names, None, "") for e in entries[:20]]
    # THEN the blocked, pruned search finds every brute-force hit of these variants
    for query, hits in zip(queries, index.search_many(queries, THRESHOLD), strict=True):
        truth = _hits([index.brute_force(query, THRESHOLD)])[0]
        found = _hits([hits])[0]
        assert set(truth) <= set(found) and all(pair in truth for pair in found)
