"""Fuzzy watchlist search: variants found, others not, blocking as good as brute force."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kiosk.screening import watchlist_kernels as kernels
from kiosk.screening.matching import (
    NO_TOKEN,
    Agreement,
    PartialDate,
    name_score,
    name_scores,
    token_similarities,
)
from kiosk.screening.normalise import name_tokens
from kiosk.screening.synthetic import people, queries
from kiosk.screening.watchlist import (
    PersonQuery,
    WatchlistEntry,
    WatchlistIndex,
    _packed,
    block_keys,
)

THRESHOLD = 0.88
DOB = PartialDate(1971, 4, 23)


@pytest.fixture(scope="module")
def index() -> WatchlistIndex:
    listed = [
        WatchlistEntry("W1", "UN", "Müller", "Hans Peter", DOB, "DEU"),
        WatchlistEntry("W2", "UN", "Al-Rashid", "Mohammed Yusuf", PartialDate(1980), "SYR"),
        WatchlistEntry("W3", "INTERPOL", "Øvergård", "Bjørn", None, "NOR"),
        WatchlistEntry("W4", "INTERPOL", "Fernández García", "José Luis", PartialDate(1966, 2, 1)),
    ]
    # many unrelated people, so that blocking has work to do
    return WatchlistIndex(listed + people(3000, seed=7))


def _refs(index: WatchlistIndex, query: PersonQuery) -> list[str]:
    return [hit.entry.reference for hit in index.search(query, THRESHOLD)]


@pytest.mark.parametrize(
    ("query", "reference"),
    [
        (PersonQuery("MUELLER", "HANS PETER", DOB, "DEU"), "W1"),  # ICAO transliteration
        (PersonQuery("MULLER", "HANS PETER", DOB, "DEU"), "W1"),  # accent dropped
        (PersonQuery("Hans Peter", "Müller", DOB, "DEU"), "W1"),  # reordered
        (PersonQuery("Muller", "Hans", DOB, ""), "W1"),  # middle name missing
        (PersonQuery("ALRASHID", "MOHAMED YUSUF", PartialDate(1980, 5, 5)), "W2"),  # typo
        (PersonQuery("OVERGAARD", "BJORN", PartialDate(1990, 1, 1), "NOR"), "W3"),
        (PersonQuery("FERNANDEZ GARCIA", "JOSE LUIS", PartialDate(1966, 2, 1), "ESP"), "W4"),
        (PersonQuery("FERNANDES GARCIA", "JOSE", PartialDate(1966, 1, 2)), "W4"),  # swapped
    ],
)
def test_variants_of_listed_people_are_found(
    index: WatchlistIndex, query: PersonQuery, reference: str
) -> None:
    # GIVEN a listed person WHEN a variant of their name is searched THEN they are a hit
    hits = index.search(query, THRESHOLD)
    assert hits and hits[0].entry.reference == reference
    assert "name" in hits[0].matched_fields
    assert hits[0].list_name == hits[0].entry.list_name


def test_exact_match_scores_one_with_all_fields(index: WatchlistIndex) -> None:
    hit = index.search(PersonQuery("Müller", "Hans Peter", DOB, "DEU"), THRESHOLD)[0]
    assert hit.score == pytest.approx(1.0)
    assert hit.matched_fields == ("name", "birth_date", "nationality")
    assert hit.list_name == "UN"


@pytest.mark.parametrize(
    "query",
    [
        PersonQuery("Okonkwo", "Chiamaka", DOB, "NGA"),
        PersonQuery("Wang", "Xiu Ying", PartialDate(2001, 3, 3), "CHN"),
        PersonQuery("Miller", "Anna", DOB, "USA"),
    ],
)
def test_unrelated_people_are_not_listed_people(index: WatchlistIndex, query: PersonQuery) -> None:
    assert not {"W1", "W2", "W3", "W4"} & set(_refs(index, query))


def test_birth_date_mismatch_lowers_score(index: WatchlistIndex) -> None:
    same = index.brute_force(PersonQuery("Muller", "Hans Peter", DOB), 0.0)
    other = index.brute_force(PersonQuery("Muller", "Hans Peter", PartialDate(1971, 4, 24)), 0.0)
    far = index.brute_force(PersonQuery("Muller", "Hans Peter", PartialDate(1990, 1, 1)), 0.0)
    w1 = [{h.entry.reference: h for h in hits}["W1"] for hits in (same, other, far)]
    assert w1[0].birth_date is Agreement.EXACT
    assert w1[1].birth_date is Agreement.PARTIAL
    assert w1[2].birth_date is Agreement.MISMATCH
    assert w1[0].score > w1[1].score > w1[2].score
    assert w1[0].name_score == w1[2].name_score
    assert "W1" not in _refs(index, PersonQuery("Muller", "Hans Peter", PartialDate(1990, 1, 1)))


def test_vectorised_name_score_equals_reference() -> None:
    rng = random.Random(3)
    listed = [["MUELLER", "HANS", "PETER"], ["SMITH", "JOHN"], ["LI", "WEI"], ["AL", "RASHID"]]
    vocabulary = sorted({t for row in listed for t in row})
    rows = np.full((len(listed), 3), NO_TOKEN, dtype=np.int32)
    for i, row in enumerate(listed):
        rows[i, : len(row)] = [vocabulary.index(t) for t in row]
    lengths = np.array([len(t) for t in vocabulary] + [0], dtype=np.int32)
    for _ in range(20):
        query = rng.sample(vocabulary, rng.randint(1, 3))
        sims = token_similarities(query, vocabulary)
        q_lengths = np.array([len(t) for t in query], dtype=np.int32)
        fast = name_scores(sims, q_lengths, rows, lengths)
        slow = [name_score(query, row) for row in listed]
        assert fast == pytest.approx(slow, abs=1e-5)


def test_blocked_search_recall_against_brute_force() -> None:
    # GIVEN 20,000 synthetic people and 150 queries (variants and unrelated people)
    entries = people(20_000, seed=11)
    index = WatchlistIndex(entries)
    expected = found = 0
    for query in queries(entries, 150, seed=12):
        brute = {id(h.entry) for h in index.brute_force(query, THRESHOLD)}
        blocked = {id(h.entry) for h in index.search(query, THRESHOLD)}
        assert blocked <= brute  # the same scorer: blocking only removes candidates
        expected += len(brute)
        found += len(brute & blocked)
    # THEN the blocked search finds at least 99 % of what brute force finds
    assert expected > 100
    assert found / expected >= 0.99


@pytest.mark.parametrize("threshold", [0.88, 0.75])
def test_compiled_search_scores_as_the_numpy_brute_force(threshold: float) -> None:
    # GIVEN an index with birth dates known, partial and unknown, and nationalities
    entries = people(8_000, seed=21)
    index = WatchlistIndex(entries)
    for query in queries(entries, 120, seed=22):
        # WHEN the compiled, blocked search and the numpy scan score the same query
        blocked = index.search(query, threshold)
        brute = {id(h.entry): h for h in index.brute_force(query, threshold)}
        # THEN every hit of the search is a brute-force hit with the very same scores and
        # agreements, and hits come best first, ties in list order
        for hit in blocked:
            same = brute[id(hit.entry)]
            assert (hit.score, hit.name_score) == (same.score, same.name_score)
            assert (hit.birth_date, hit.nationality) == (same.birth_date, same.nationality)
        assert [h.score for h in blocked] == sorted((h.score for h in blocked), reverse=True)


def _random_tokens(rng: random.Random, count: int) -> list[str]:
    """Tokens over small alphabets (where Jaro's greedy matching and transpositions are
    hardest) and over A-Z, short, long and past the 63 letters of the bit-parallel path."""
    out = []
    for _ in range(count):
        alphabet = rng.choice(["AB", "ABC", "ABCDE", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"])
        size = rng.randint(1, rng.choice([3, 8, 20, 70]))
        out.append("".join(rng.choice(alphabet) for _ in range(size)))
    return out


def _compiled_similarity(first: str, second: str) -> float:
    (a, starts_a), (b, starts_b) = _packed([first]), _packed([second])
    n1, n2 = int(starts_a[1]), int(starts_b[1])
    if 0 < n1 < 64 and 0 < n2 < 64:
        positions = np.zeros(256, dtype=np.uint64)
        for k, letter in enumerate(b.tolist()):
            positions[letter] |= np.uint64(1 << k)
        return float(kernels._jaro_winkler_bits(a, 0, n1, b, 0, n2, positions))
    return float(kernels._jaro_winkler(a, 0, n1, b, 0, n2, np.zeros(n1 + n2, dtype=np.uint8)))


def test_compiled_jaro_winkler_is_rapidfuzz_to_the_last_bit() -> None:
    from rapidfuzz.distance import JaroWinkler

    # GIVEN pairs of a synthetic list's vocabulary and random tokens of every shape
    rng = random.Random(41)
    vocabulary = sorted({t for e in people(400, seed=41) for t in name_tokens(e.surname)})
    pairs = [(rng.choice(vocabulary), rng.choice(vocabulary)) for _ in range(3_000)]
    pairs += list(zip(_random_tokens(rng, 6_000), _random_tokens(rng, 6_000), strict=True))
    for first, second in pairs:
        # THEN the compiled similarity is rapidfuzz's, exactly
        expected = JaroWinkler.normalized_similarity(first, second)
        assert _compiled_similarity(first, second) == expected, (first, second)


def test_similarity_bound_is_never_below_the_similarity() -> None:
    from rapidfuzz.distance import JaroWinkler

    rng = random.Random(43)
    firsts, seconds = _random_tokens(rng, 6_000), _random_tokens(rng, 6_000)
    info_a = kernels.letter_counts(*_packed(firsts))
    info_b = kernels.letter_counts(*_packed(seconds))
    for i, (first, second) in enumerate(zip(firsts, seconds, strict=True)):
        bound = kernels._upper_bound(info_a[i, 0], info_a[i, 1], info_b[i, 0], info_b[i, 1])
        assert bound >= JaroWinkler.normalized_similarity(first, second), (first, second)


def test_bounds_lose_no_hit_that_shares_a_block() -> None:
    # GIVEN a list and queries of its variants and of unrelated people
    entries = people(8_000, seed=45)
    index = WatchlistIndex(entries)
    checked = 0
    for query in queries(entries, 150, seed=46):
        keys = {k for t in name_tokens(query.surname, query.given_names) for k in block_keys(t)}
        found = {id(h.entry) for h in index.search(query, THRESHOLD)}
        for hit in index.brute_force(query, THRESHOLD):
            listed = name_tokens(hit.entry.surname, hit.entry.given_names)
            if keys & {k for t in listed for k in block_keys(t)}:
                # THEN every brute-force hit the blocks reach, the pruned search finds
                checked += 1
                assert id(hit.entry) in found, (query, hit.entry)
    assert checked > 100


def test_searches_on_many_threads_agree_with_one() -> None:
    # GIVEN an index searched from several threads at once (the server's request threads)
    from concurrent.futures import ThreadPoolExecutor

    entries = people(5_000, seed=31)
    index = WatchlistIndex(entries)
    asked = queries(entries, 300, seed=32)
    alone = [[(h.entry.reference, h.score) for h in index.search(q, THRESHOLD)] for q in asked]
    # WHEN the same queries run on four threads, more than 255 each (the stamps wrap)
    with ThreadPoolExecutor(4) as pool:
        together = list(
            pool.map(
                lambda q: [(h.entry.reference, h.score) for h in index.search(q, THRESHOLD)],
                asked * 4,
            )
        )
    # THEN every thread got what one thread alone gets
    assert together == alone * 4


def test_empty_index_and_empty_query() -> None:
    assert WatchlistIndex([]).search(PersonQuery("Smith"), THRESHOLD) == []
    index = WatchlistIndex(people(50))
    assert index.search(PersonQuery("", ""), THRESHOLD) == []
    assert index.search(PersonQuery("1234"), THRESHOLD) == []


def test_partial_dates_parse_and_reject() -> None:
    assert PartialDate.parse("1970") == PartialDate(1970)
    assert PartialDate.parse("1970-05-XX") == PartialDate(1970, 5)
    assert str(PartialDate.parse("1970-05-03")) == "1970-05-03"
    from models.errors import ParseError

    for bad in ("70", "1970-13-01", "1970-02-30", "1970-00-05", "abcd"):
        with pytest.raises(ParseError):
            PartialDate.parse(bad)
