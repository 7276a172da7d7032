"""Every pair of enrolled templates, compared in blocks with numpy.

The distance between templates ``x`` and ``y`` is ``sqrt(|x|^2 + |y|^2 - 2 x.y)``: a block of
rows against every later template is one matrix product, so 10,000 templates (50 million
pairs) take seconds and memory stays at one block (``block`` rows) plus the score arrays.
A pair is genuine when both templates belong to one identity.

When the two sides of a comparison are encoded differently (the chip photo with more jitters
than the live frame), ``live`` holds the live side's templates of the same images and every
unordered pair of images {i, j} gives two comparisons, each one a real gate comparison:
reference(i) against live(j) and reference(j) against live(i). Both are kept (not their mean,
which would be a smoother score than any one transaction sees); ``first`` is then the
reference side and ``second`` the live side. The bootstrap over identities accounts for the
two comparisons of a pair not being independent.

:func:`collect` keeps the genuine distances (with their identity) and every impostor
distance as arrays; :func:`impostor_tail` goes over the pairs again to keep, with the
identities of both sides, only the impostor pairs at or under a distance (the low tail the
bootstrap and the group figures need); :func:`pair_blocks` is what both, and the streamed
per-pair CSV, walk through.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]

BLOCK_ROWS = 512


@dataclass(frozen=True)
class PairBlock:
    first: Int  # template index of each pair's first side (the reference side)
    second: Int  # and of its second side (> first when both sides are encoded alike)
    distance: Float
    genuine: npt.NDArray[np.bool_]


def pair_blocks(
    encodings: Float,
    owners: Int,
    block: int = BLOCK_ROWS,
    with_indices: bool = True,
    live: Float | None = None,
) -> Iterator[PairBlock]:
    """Every unordered pair (i < j), ``block`` rows at a time; with ``live``, both orders of
    every pair (reference side first)."""
    count = len(encodings)
    norms = np.einsum("ij,ij->i", encodings, encodings)
    live_norms = norms if live is None else np.einsum("ij,ij->i", live, live)
    empty = np.zeros(0, np.int64)
    for start in range(0, count - 1, block):
        stop = min(count, start + block)
        # column c is template start + c; keep c > r (the pairs after the row's own template)
        upper = np.triu(np.ones((stop - start, count - start), np.bool_), k=1)
        same = owners[start:stop, None] == owners[None, start:]
        r, c = np.nonzero(upper) if with_indices else (empty, empty)
        local = (r, c) if with_indices else None
        if live is None:
            distance = _distances(encodings, norms, encodings, norms, start, stop)
            yield _block(distance, same, upper, local, (r + start, c + start))
            continue
        # reference(i) against live(j), then reference(j) against live(i), for i < j
        forward = _distances(encodings, norms, live, live_norms, start, stop)
        yield _block(forward, same, upper, local, (r + start, c + start))
        backward = _distances(live, live_norms, encodings, norms, start, stop)
        yield _block(backward, same, upper, local, (c + start, r + start))


def _distances(
    rows: Float, row_norms: Float, columns: Float, column_norms: Float, start: int, stop: int
) -> Float:
    """Distances of rows ``start:stop`` of ``rows`` to rows ``start:`` of ``columns``."""
    squared = (
        row_norms[start:stop, None]
        + column_norms[None, start:]
        - 2.0 * (rows[start:stop] @ columns[start:].T)
    )
    return np.sqrt(np.maximum(squared, 0.0))


def _block(
    distance: Float,
    same: npt.NDArray[np.bool_],
    upper: npt.NDArray[np.bool_],
    local: tuple[Int, Int] | None,
    sides: tuple[Int, Int],
) -> PairBlock:
    """The pairs of one block; ``local`` None: only their distances (and no indices)."""
    if local is None:
        empty = np.zeros(0, np.int64)
        return PairBlock(empty, empty, distance[upper], same[upper])
    r, c = local
    return PairBlock(sides[0], sides[1], distance[r, c], same[r, c])


@dataclass(frozen=True)
class PairScores:
    genuine: Float  # sorted ascending
    genuine_owner: Int  # the identity of each genuine pair, in the same order
    impostor: Float  # sorted ascending

    @property
    def pairs(self) -> int:
        return len(self.genuine) + len(self.impostor)


def collect(
    encodings: Float, owners: Int, block: int = BLOCK_ROWS, live: Float | None = None
) -> PairScores:
    """All genuine and impostor distances, sorted."""
    genuine: list[Float] = []
    genuine_owner: list[Int] = []
    impostor: list[Float] = []
    for part in pair_blocks(encodings, owners, block, live=live):
        genuine.append(part.distance[part.genuine])
        genuine_owner.append(owners[part.first[part.genuine]])
        impostor.append(part.distance[~part.genuine])
    g = np.concatenate(genuine) if genuine else np.zeros(0)
    o = np.concatenate(genuine_owner) if genuine_owner else np.zeros(0, np.int64)
    order = np.argsort(g, kind="stable")
    i = np.concatenate(impostor) if impostor else np.zeros(0)
    i.sort()
    return PairScores(g[order], o[order].astype(np.int64), i)


@dataclass(frozen=True)
class ImpostorTail:
    """The impostor pairs at or under ``limit``, sorted by distance, with both identities."""

    limit: float
    distance: Float
    first: Int  # identity of one side
    second: Int  # identity of the other


def impostor_tail(
    encodings: Float,
    owners: Int,
    limit: float,
    block: int = BLOCK_ROWS,
    live: Float | None = None,
) -> ImpostorTail:
    distances: list[Float] = []
    firsts: list[Int] = []
    seconds: list[Int] = []
    for part in pair_blocks(encodings, owners, block, live=live):
        keep = (~part.genuine) & (part.distance <= limit)
        distances.append(part.distance[keep])
        firsts.append(owners[part.first[keep]])
        seconds.append(owners[part.second[keep]])
    d = np.concatenate(distances) if distances else np.zeros(0)
    order = np.argsort(d, kind="stable")
    a = np.concatenate(firsts) if firsts else np.zeros(0, np.int64)
    b = np.concatenate(seconds) if seconds else np.zeros(0, np.int64)
    return ImpostorTail(limit, d[order], a[order].astype(np.int64), b[order].astype(np.int64))
