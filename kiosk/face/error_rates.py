"""Error rates of a verification system from its sorted comparison scores (ISO/IEC 19795-1).

Scores are distances: a pair matches when its distance is at most the threshold ``t``.
With the genuine and impostor distances sorted once, every rate is a binary search:

- FMR(t) = impostor pairs with distance <= t, over all impostor pairs;
- FNMR(t) = genuine pairs with distance > t, over all genuine pairs;
- the threshold at a target FMR is the largest ``t`` whose FMR does not exceed the target;
- the EER is where FMR and FNMR cross: FMR - FNMR never decreases as ``t`` grows and only
  changes at a score, so the crossing is found by bisection over each sorted array, and the
  EER is the mean of the two rates at the candidate where they are closest.

Nothing here is quadratic: the sort is O(n log n), each rate O(log n). The weighted forms
(every pair with a weight) serve the bootstrap over identities, which gives each pair the
weight of how often its identities were drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]

# Doddington's "rule of 30": 30 errors for 90 % confidence that the true rate is within
# +-30 % of the observed one; fewer and a target FMR is flagged as not resolved by the set
MIN_ERRORS = 30


def resolves(impostor_pairs: int, target: float) -> bool:
    """Whether ``impostor_pairs`` allow at least :data:`MIN_ERRORS` false matches at ``target``."""
    return impostor_pairs * target >= MIN_ERRORS


@dataclass(frozen=True)
class SortedScores:
    """Genuine and impostor distances, each sorted ascending."""

    genuine: Scores
    impostor: Scores

    @classmethod
    def of(cls, genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> SortedScores:
        return cls(
            np.sort(np.asarray(genuine, np.float64)), np.sort(np.asarray(impostor, np.float64))
        )

    def fmr(self, threshold: float) -> float:
        return fmr(self.impostor, threshold)

    def fnmr(self, threshold: float) -> float:
        return fnmr(self.genuine, threshold)

    def threshold_at_fmr(self, target: float) -> float:
        return threshold_at_fmr(self.impostor, target)

    def eer(self) -> tuple[float, float]:
        return equal_error_rate(self.genuine, self.impostor)


def fmr(impostor_sorted: Scores, threshold: float) -> float:
    """Share of impostor distances <= ``threshold`` (0 when there are none)."""
    if not len(impostor_sorted):
        return 0.0
    accepted = np.searchsorted(impostor_sorted, threshold, side="right")
    return float(accepted) / len(impostor_sorted)


def fnmr(genuine_sorted: Scores, threshold: float) -> float:
    """Share of genuine distances > ``threshold`` (0 when there are none)."""
    if not len(genuine_sorted):
        return 0.0
    accepted = np.searchsorted(genuine_sorted, threshold, side="right")
    return float(len(genuine_sorted) - accepted) / len(genuine_sorted)


def threshold_at_fmr(impostor_sorted: Scores, target: float) -> float:
    """The largest distance threshold whose FMR does not exceed ``target``."""
    if not len(impostor_sorted):
        return float("nan")
    allowed = int(math.floor(target * len(impostor_sorted) + 1e-9))  # impostors we may accept
    if allowed >= len(impostor_sorted):
        return float(impostor_sorted[-1])
    # just under the first impostor distance that must be refused
    return float(np.nextafter(impostor_sorted[allowed], -np.inf))


def equal_error_rate(genuine_sorted: Scores, impostor_sorted: Scores) -> tuple[float, float]:
    """(EER, threshold) of sorted scores; NaN when either set is empty."""
    if not len(genuine_sorted) or not len(impostor_sorted):
        return float("nan"), float("nan")
    return crossing(
        lambda t: fmr(impostor_sorted, t),
        lambda t: fnmr(genuine_sorted, t),
        (genuine_sorted, impostor_sorted),
    )


def crossing(
    fmr_at: Callable[[float], float],
    fnmr_at: Callable[[float], float],
    candidates: tuple[Scores, ...],
) -> tuple[float, float]:
    """Where the non-decreasing FMR - FNMR changes sign among the sorted ``candidates``.

    The rates only change at a candidate value, so the closest point is the last candidate
    below the crossing or the first one at or above it; each is found by bisection.
    """

    def gap(t: float) -> float:
        return fmr_at(t) - fnmr_at(t)

    near: list[float] = []
    for values in candidates:
        if not len(values):
            continue
        low, high = 0, len(values)  # first index whose gap is >= 0
        while low < high:
            middle = (low + high) // 2
            if gap(float(values[middle])) >= 0:
                high = middle
            else:
                low = middle + 1
        near += [float(values[i]) for i in (low - 1, low) if 0 <= i < len(values)]
    best = min(near, key=lambda t: (abs(gap(t)), t))
    return (fmr_at(best) + fnmr_at(best)) / 2, best


# --- weighted rates (the bootstrap) --------------------------------------------------------


def weighted_fraction_at_most(
    sorted_values: Scores, cumulative: Scores, total: float, threshold: float
) -> float:
    """Weight of the values <= ``threshold`` over ``total`` (``cumulative``: running sum)."""
    if total <= 0:
        return float("nan")
    count = int(np.searchsorted(sorted_values, threshold, side="right"))
    return float(cumulative[count - 1]) / total if count else 0.0


def weighted_threshold_at_fmr(
    impostor_sorted: Scores, cumulative: Scores, total: float, target: float
) -> float:
    """The largest threshold whose weighted FMR does not exceed ``target``; NaN when the
    sorted values (a low tail of all impostor pairs) do not reach that far."""
    allowed = target * total * (1 + 1e-12)
    count = int(np.searchsorted(cumulative, allowed, side="right"))
    if count >= len(impostor_sorted):
        return float("nan")
    return float(np.nextafter(impostor_sorted[count], -np.inf))


def det_points(scores: SortedScores, points: int = 400) -> tuple[Scores, Scores]:
    """(FMR, FNMR) along the DET curve, at every genuine score and ``points`` impostor
    quantiles, in order of increasing threshold."""
    impostor = scores.impostor
    picks = impostor[np.unique(np.linspace(0, len(impostor) - 1, points).astype(np.int64))]
    thresholds = np.unique(np.concatenate([scores.genuine, picks, [0.0, 2.0]]))
    accepted_impostors = np.searchsorted(impostor, thresholds, side="right")
    accepted_genuine = np.searchsorted(scores.genuine, thresholds, side="right")
    fmr_values = accepted_impostors / max(1, len(impostor))
    fnmr_values = 1.0 - accepted_genuine / max(1, len(scores.genuine))
    return fmr_values.astype(np.float64), fnmr_values.astype(np.float64)
