"""Lost and stolen travel documents: an in-memory index built for tens of millions of records.

A document is identified by its issuer, its category (the first letter of the document code:
P, I, A, C, V; empty when the list does not say) and its number, each normalised. The index
keeps only a 64-bit hash of that key, in one sorted numpy array: 8 bytes a document, so 10
million documents take 80 MB, and a lookup is a binary search (``np.searchsorted``). A hash
collision would only make the kiosk refer a traveller to an officer, and at 10 million
records its chance is about one in 10^12 per lookup; the store keeps the full records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kiosk.screening.normalise import (
    normalise_code,
    normalise_document_number,
    normalise_document_type,
)

HashArray = npt.NDArray[np.uint64]

_MASK = (1 << 64) - 1
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MIX_1 = 0xBF58476D1CE4E5B9
_MIX_2 = 0x94D049BB133111EB
_BUILD_CHUNK = 200_000


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """The normalised identity of a document on a lost/stolen list."""

    issuer: str
    doc_type: str
    number: str

    @classmethod
    def of(cls, issuer: str, doc_type: str, number: str) -> DocumentKey:
        return cls(
            normalise_code(issuer),
            normalise_document_type(doc_type),
            normalise_document_number(number),
        )

    def encoded(self) -> bytes:
        return f"{self.issuer}|{self.doc_type}|{self.number}".encode("ascii")

    def any_type(self) -> DocumentKey:
        return DocumentKey(self.issuer, "", self.number)


def key_hash(key: DocumentKey) -> int:
    """64-bit FNV-1a of the encoded key, then the splitmix64 finaliser (pure Python)."""
    value = _FNV_OFFSET
    for byte in key.encoded():
        value = ((value ^ byte) * _FNV_PRIME) & _MASK
    value ^= value >> 30
    value = (value * _MIX_1) & _MASK
    value ^= value >> 27
    value = (value * _MIX_2) & _MASK
    return value ^ (value >> 31)


def hash_encoded_keys(
    key_bytes: npt.NDArray[np.uint8], lengths: npt.NDArray[np.integer]
) -> HashArray:
    """:func:`key_hash` of many keys at once: row ``i`` of ``key_bytes`` holds the encoded key
    ``i`` padded with anything after ``lengths[i]`` bytes."""
    rows, width = key_bytes.shape
    hashes = np.full(rows, _FNV_OFFSET, dtype=np.uint64)
    stepped = np.empty_like(hashes)
    prime = np.uint64(_FNV_PRIME)
    for column in range(width):
        live = lengths > column
        if not live.any():
            break
        np.bitwise_xor(hashes, key_bytes[:, column], out=stepped, casting="unsafe")
        np.multiply(stepped, prime, out=stepped)  # wraps modulo 2**64
        np.copyto(hashes, stepped, where=live)
    for shift, factor in ((30, _MIX_1), (27, _MIX_2)):
        hashes ^= hashes >> np.uint64(shift)
        np.multiply(hashes, np.uint64(factor), out=hashes)
    hashes ^= hashes >> np.uint64(31)
    return hashes


def hash_keys(keys: Iterable[DocumentKey]) -> HashArray:
    """The hashes of ``keys``, computed in vectorised chunks."""
    return hash_encoded(key.encoded() for key in keys)


def hash_encoded(encoded: Iterable[bytes]) -> HashArray:
    """The hashes of keys already encoded (:meth:`DocumentKey.encoded` of normalised keys),
    computed in vectorised chunks."""
    chunks: list[HashArray] = []
    batch: list[bytes] = []
    for key in encoded:
        batch.append(key)
        if len(batch) >= _BUILD_CHUNK:
            chunks.append(_hash_batch(batch))
            batch = []
    if batch:
        chunks.append(_hash_batch(batch))
    if not chunks:
        return np.empty(0, dtype=np.uint64)
    return np.concatenate(chunks)


def _hash_batch(batch: list[bytes]) -> HashArray:
    fixed = np.array(batch, dtype=bytes)
    width = max(fixed.dtype.itemsize, 1)
    matrix = np.frombuffer(fixed.tobytes(), dtype=np.uint8).reshape(len(batch), width)
    lengths = np.fromiter((len(item) for item in batch), dtype=np.int32, count=len(batch))
    return hash_encoded_keys(matrix, lengths)


class LostStolenIndex:
    """Membership of documents in the loaded lost/stolen lists."""

    def __init__(self, hashes: HashArray | None = None) -> None:
        if hashes is None:
            hashes = np.empty(0, dtype=np.uint64)
        self._hashes: HashArray = np.unique(np.asarray(hashes, dtype=np.uint64))

    @classmethod
    def from_keys(cls, keys: Iterable[DocumentKey]) -> LostStolenIndex:
        return cls(hash_keys(keys))

    def __len__(self) -> int:
        return int(self._hashes.size)

    @property
    def nbytes(self) -> int:
        return int(self._hashes.nbytes)

    def merged(self, hashes: HashArray) -> LostStolenIndex:
        """A new index holding this one's documents and ``hashes``."""
        return LostStolenIndex(np.concatenate([self._hashes, hashes]))

    def _has(self, value: int) -> bool:
        hashes = self._hashes
        position = int(np.searchsorted(hashes, np.uint64(value)))
        return position < hashes.size and int(hashes[position]) == value

    def contains_hashes(self, hashes: HashArray) -> npt.NDArray[np.bool_]:
        """For each of ``hashes`` (:func:`key_hash` values), is it listed? (Many lookups in
        one binary search.)"""
        table = self._hashes
        if table.size == 0 or hashes.size == 0:
            return np.zeros(hashes.shape, dtype=bool)
        positions = np.minimum(np.searchsorted(table, hashes), table.size - 1)
        found: npt.NDArray[np.bool_] = table[positions] == hashes
        return found

    def contains(self, key: DocumentKey) -> bool:
        """Is ``key`` listed, either with its own category or with no category given?"""
        if not key.number:
            return False
        if self._has(key_hash(key)):
            return True
        return bool(key.doc_type) and self._has(key_hash(key.any_type()))

    def lookup(self, issuer: str, doc_type: str, number: str) -> bool:
        return self.contains(DocumentKey.of(issuer, doc_type, number))
