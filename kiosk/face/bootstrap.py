"""95 % confidence intervals by a bootstrap over identities (ISO/IEC 19795-1, Bolle et al.).

Pairs of one identity are not independent (one bad photo spoils every pair it is in), so the
bootstrap draws *identities* with replacement, not pairs. A draw is a vector ``w`` of how many
times each identity was drawn; a genuine pair of identity ``k`` then weighs ``w[k]`` and an
impostor pair of identities ``a`` and ``b`` weighs ``w[a] * w[b]``. Every figure is computed
again with those weights and the interval is the 2.5 and 97.5 percentiles of the draws.

Impostor figures at border operating points only involve the lowest impostor distances, so
each draw works on the low tail of the impostor pairs (:class:`~kiosk.face.pair_scores.
ImpostorTail`, a few percent of them) with the total weight of all impostor pairs computed
from the images per identity: a draw costs O(tail) and 50 million pairs stay affordable. A
figure a draw cannot reach within the tail is NaN in that draw and left out of the interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kiosk.face.error_rates import (
    crossing,
    weighted_fraction_at_most,
    weighted_threshold_at_fmr,
)
from kiosk.face.groups import Group
from kiosk.face.pair_scores import ImpostorTail, PairScores

Float = npt.NDArray[np.float64]
Stats = dict[str, float]


def draws(identities: int, replicates: int, seed: int) -> npt.NDArray[np.int64]:
    """``replicates`` draws of ``identities`` identities with replacement: counts per identity."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, identities, size=(replicates, identities))
    counts = np.zeros((replicates, identities), np.int64)
    for row in range(replicates):
        counts[row] = np.bincount(picks[row], minlength=identities)
    return counts


@dataclass(frozen=True)
class WeightedSet:
    """What a draw needs: the sorted scores, the impostor tail, images per identity, the
    operating threshold, the FMR targets and the groups."""

    scores: PairScores
    tail: ImpostorTail
    images: npt.NDArray[np.int64]  # enrolled images per identity
    threshold: float
    targets: tuple[float, ...]
    groups: tuple[Group, ...] = ()
    orders: int = 1  # comparisons per pair of images: 2 when the two sides are encoded apart

    def prepare(self) -> _Prepared:
        genuine_count = np.bincount(self.scores.genuine_owner, minlength=len(self.images))
        above = self.scores.genuine > self.threshold
        misses = np.bincount(self.scores.genuine_owner[above], minlength=len(self.images)).astype(
            np.float64
        )
        under = int(np.searchsorted(self.tail.distance, self.threshold, side="right"))
        inside = [
            g.members[self.tail.first[:under]] & g.members[self.tail.second[:under]]
            for g in self.groups
        ]
        return _Prepared(genuine_count.astype(np.float64), misses, under, inside)


@dataclass(frozen=True)
class _Prepared:
    genuine_count: Float  # genuine pairs per identity
    misses: Float  # genuine pairs per identity refused at the threshold
    under: int  # tail pairs at or under the threshold
    inside: list[npt.NDArray[np.bool_]]  # per group: those pairs within the group


def impostor_weight(weights: Float, images: Float) -> float:
    """Total weight of the impostor pairs: pairs of images of two different identities."""
    per_identity = weights * images
    return float((per_identity.sum() ** 2 - (per_identity**2).sum()) / 2)


def figures(data: WeightedSet, prepared: _Prepared, weights: Float) -> Stats:
    """Every figure of one draw (``weights`` = ones gives the plain figures)."""
    images = data.images.astype(np.float64)
    genuine, tail = data.scores.genuine, data.tail
    genuine_cumulative = np.cumsum(weights[data.scores.genuine_owner])
    genuine_total = float(genuine_cumulative[-1]) if len(genuine_cumulative) else 0.0
    tail_weights = weights[tail.first] * weights[tail.second]
    tail_cumulative = np.cumsum(tail_weights)
    impostor_total = data.orders * impostor_weight(weights, images)

    def fmr_at(t: float) -> float:
        if t > tail.limit or not len(tail.distance):
            return float("nan")
        return weighted_fraction_at_most(tail.distance, tail_cumulative, impostor_total, t)

    def fnmr_at(t: float) -> float:
        if not genuine_total:
            return float("nan")
        return 1.0 - weighted_fraction_at_most(genuine, genuine_cumulative, genuine_total, t)

    stats: Stats = {"fmr": fmr_at(data.threshold), "fnmr": fnmr_at(data.threshold)}
    for target in data.targets:
        at = weighted_threshold_at_fmr(tail.distance, tail_cumulative, impostor_total, target)
        stats[f"threshold@{target}"] = at
        stats[f"fnmr@{target}"] = fnmr_at(at) if at == at else float("nan")
    stats["eer"] = _eer(fmr_at, fnmr_at, genuine, tail)
    for group, inside in zip(data.groups, prepared.inside, strict=True):
        key = f"{group.column}={group.value}"
        member_weights = weights * group.members
        genuine_weight = float(member_weights @ prepared.genuine_count)
        stats[f"fnmr:{key}"] = (
            float(member_weights @ prepared.misses) / genuine_weight
            if genuine_weight
            else float("nan")
        )
        same_group_total = data.orders * impostor_weight(member_weights, images)
        accepted = float(tail_weights[: prepared.under][inside].sum())
        stats[f"fmr:{key}"] = accepted / same_group_total if same_group_total else float("nan")
    return stats


def _eer(
    fmr_at: Callable[[float], float],
    fnmr_at: Callable[[float], float],
    genuine: Float,
    tail: ImpostorTail,
) -> float:
    if not len(tail.distance) or not len(genuine):
        return float("nan")
    if fmr_at(tail.limit) < fnmr_at(tail.limit):
        return float("nan")  # the crossing lies beyond the tail
    reachable = genuine[: int(np.searchsorted(genuine, tail.limit, side="right"))]
    eer, _ = crossing(fmr_at, fnmr_at, (reachable, tail.distance))
    return eer


def intervals(
    data: WeightedSet,
    replicates: int,
    seed: int,
    extra: Callable[[Stats], Stats] | None = None,
    progress: Callable[[], None] | None = None,
) -> dict[str, tuple[float, float]]:
    """The 95 % percentile interval of every figure over ``replicates`` draws; ``extra``
    derives more figures (ratios) from each draw's figures."""
    prepared = data.prepare()
    collected: dict[str, list[float]] = {}
    for counts in draws(len(data.images), replicates, seed):
        stats = figures(data, prepared, counts.astype(np.float64))
        if extra:
            stats |= extra(stats)
        for key, value in stats.items():
            collected.setdefault(key, []).append(value)
        if progress:
            progress()
    return {key: percentile_interval(values) for key, values in collected.items()}


def percentile_interval(values: list[float]) -> tuple[float, float]:
    finite = np.asarray(values, np.float64)
    finite = finite[~np.isnan(finite)]
    if not len(finite):
        return float("nan"), float("nan")
    # no interpolation: a ratio may be infinite in some draws
    low = np.percentile(finite, 2.5, method="lower")
    high = np.percentile(finite, 97.5, method="higher")
    return float(low), float(high)
