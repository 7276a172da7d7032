"""The lost/stolen index: exact and normalised lookups, vectorised and scalar hashes agree."""

from __future__ import annotations

import numpy as np

from kiosk.screening.lost_stolen import DocumentKey, LostStolenIndex, hash_keys, key_hash


def _index() -> LostStolenIndex:
    return LostStolenIndex.from_keys(
        [
            DocumentKey.of("GBR", "P", "123456789"),
            DocumentKey.of("D", "P", "C01X00T47"),
            DocumentKey.of("JAM", "", "A1234567"),  # the list does not say which document
        ]
    )


def test_exact_lookup_finds_listed_document() -> None:
    index = _index()
    assert len(index) == 3
    assert index.lookup("GBR", "P", "123456789")
    assert not index.lookup("GBR", "P", "123456788")
    assert not index.lookup("USA", "P", "123456789")
    assert not index.lookup("GBR", "I", "123456789")


def test_lookup_normalises_issuer_type_and_number() -> None:
    index = _index()
    assert index.lookup("D<<", "PM", "c01x-00t47")
    assert index.lookup("gbr", "P<", " 1234 56789 ")


def test_entry_without_type_matches_any_type() -> None:
    index = _index()
    assert index.lookup("JAM", "P", "A1234567")
    assert index.lookup("JAM", "I", "A1234567")


def test_empty_number_never_matches() -> None:
    assert not LostStolenIndex.from_keys([DocumentKey.of("GBR", "P", "")]).lookup("GBR", "P", "")


def test_vectorised_hash_equals_scalar_hash() -> None:
    keys = [DocumentKey.of("GBR", "P", str(n) * (n % 7 + 1)) for n in range(200)]
    assert list(hash_keys(keys)) == [key_hash(k) for k in keys]
    assert hash_keys([]).dtype == np.uint64


def test_merged_index_holds_both() -> None:
    index = _index().merged(hash_keys([DocumentKey.of("BRB", "P", "X1")]))
    assert index.lookup("BRB", "P", "X1")
    assert index.lookup("GBR", "P", "123456789")
    assert index.nbytes == 8 * len(index)
