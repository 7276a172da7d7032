"""Offline evaluation of the matcher on a folder of face images (ISO/IEC 19795-1 figures).

Every image is enrolled once (:mod:`kiosk.face.enrolment`; a failure to make a template
counts towards the failure-to-enrol rate, FTE); every unordered pair of enrolled images is
compared (:mod:`kiosk.face.pair_scores`): same identity = genuine, different = impostor. When
the chip-photo side and the live side are encoded with different settings (the enrolment has
``live_encodings``), each pair gives both its comparisons, reference(i) against live(j) and
reference(j) against live(i), and every rate is over comparisons. The
figures come from the sorted scores (:mod:`kiosk.face.error_rates`): FMR and FNMR at the
operating threshold, FNMR at FMR 1 %, 0.1 % and 0.01 %, the EER, and the threshold that meets
each FMR target. A target the set cannot resolve (fewer than 30 impostor pairs would be
accepted) is flagged; when not even one would be, its figure is taken at FMR = 0.

95 % intervals come from a bootstrap over identities (:mod:`kiosk.face.bootstrap`). With
groups (:mod:`kiosk.face.groups`), each group's FMR and FNMR are taken at the one global
threshold, its FMR over same-group impostor pairs, and the differential of a label column is
the ratio of the worst group's rate to the best's, among the groups with at least
:data:`MIN_GROUP_IDENTITIES` identities.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiosk.face.bootstrap import WeightedSet, figures, intervals
from kiosk.face.enrolment import Enrolment
from kiosk.face.error_rates import SortedScores, resolves
from kiosk.face.groups import Group
from kiosk.face.pair_scores import PairScores, collect, impostor_tail

log = logging.getLogger(__name__)

FMR_TARGETS = (0.01, 0.001, 0.0001)
OPERATING_FMR = 0.001  # Frontex's best practice for ABC gates
MIN_GROUP_IDENTITIES = 10
TAIL_MARGIN = 3.0  # the impostor tail reaches this many times the largest FMR of interest


@dataclass(frozen=True)
class Settings:
    threshold: float  # the operating threshold: figures "at_threshold" and per group
    targets: tuple[float, ...] = FMR_TARGETS
    operating_fmr: float = OPERATING_FMR
    replicates: int = 500
    seed: int = 0
    min_group_identities: int = MIN_GROUP_IDENTITIES


@dataclass
class Evaluation:
    enrolment: Enrolment
    scores: PairScores
    settings: Settings
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def genuine(self) -> np.ndarray:
        return self.scores.genuine

    @property
    def impostor(self) -> np.ndarray:
        return self.scores.impostor

    def as_json(self) -> dict[str, Any]:
        return self.report


def evaluate(
    enrolment: Enrolment,
    settings: Settings,
    groups: dict[str, list[Group]] | None = None,
    progress: Callable[[str, int], Any] | None = None,
) -> Evaluation:
    start = time.perf_counter()
    live = enrolment.live_encodings
    scores = collect(enrolment.encodings, enrolment.owners, live=live)
    sorted_scores = SortedScores(scores.genuine, scores.impostor)
    timings = {"scores_s": time.perf_counter() - start}
    report = _global_figures(enrolment, sorted_scores, settings)
    start = time.perf_counter()
    flat = tuple(g for found in (groups or {}).values() for g in found)
    tail = impostor_tail(
        enrolment.encodings,
        enrolment.owners,
        _tail_limit(sorted_scores, report, settings),
        live=live,
    )
    data = WeightedSet(
        scores,
        tail,
        enrolment.images_per_identity(),
        settings.threshold,
        settings.targets,
        flat,
        orders=enrolment.orders,
    )
    columns = {column: found for column, found in (groups or {}).items()}
    point = figures(data, data.prepare(), np.ones(enrolment.identities))
    point |= _differentials(point, columns, settings)
    bar = progress("bootstrap", settings.replicates) if progress and settings.replicates else None
    ci = (
        intervals(
            data,
            settings.replicates,
            settings.seed,
            extra=lambda stats: _differentials(stats, columns, settings),
            progress=bar.advance if bar else None,
        )
        if settings.replicates and enrolment.identities > 1
        else {}
    )
    if bar:
        bar.finish()
    timings["bootstrap_s"] = time.perf_counter() - start
    report["ci95"] = _intervals_report(ci, settings)
    report["groups"] = {
        column: {g.value: _group_report(g, enrolment, point, ci, settings) for g in found}
        for column, found in columns.items()
    }
    report["differential"] = {column: _differential_report(column, point, ci) for column in columns}
    report["timings_s"] = {key: round(value, 2) for key, value in timings.items()}
    return Evaluation(enrolment, scores, settings, report)


def _global_figures(
    enrolment: Enrolment, scores: SortedScores, settings: Settings
) -> dict[str, Any]:
    impostors = len(scores.impostor)
    # what the set can resolve is judged on distinct pairs of images, not on comparisons: the
    # two orders of one pair (sides encoded differently) are not two independent impostors
    distinct = impostors // enrolment.orders
    eer, eer_threshold = scores.eer()
    thresholds: dict[str, float] = {}
    fnmr: dict[str, float] = {}
    resolved: dict[str, bool] = {}
    for target in settings.targets:
        key = str(target)
        reachable = impostors * target >= 1.0
        resolved[key] = resolves(distinct, target)
        at = scores.threshold_at_fmr(target if reachable else 0.0)
        thresholds[key] = at
        fnmr[key] = scores.fnmr(at) if len(scores.genuine) else math.nan
    operating = scores.threshold_at_fmr(settings.operating_fmr)
    total_images = len(enrolment.paths) + len(enrolment.failures)
    return {
        "identities": enrolment.identities,
        "images": total_images,
        "pairs": {"genuine": len(scores.genuine), "impostor": impostors},
        "comparisons_per_pair": enrolment.orders,
        "failure_to_enrol": len(enrolment.failures) / total_images if total_images else 0.0,
        "failed_to_enrol": {
            "images": len(enrolment.failures),
            "reasons": dict(Counter(enrolment.failures.values())),
        },
        "eer": eer,
        "eer_threshold": eer_threshold,
        "fnmr_at_fmr": fnmr,
        "fmr_resolved": resolved,
        "thresholds_at_fmr": thresholds,
        "operating_fmr": settings.operating_fmr,
        "threshold": operating,
        "threshold_resolved": resolves(distinct, settings.operating_fmr),
        "at_threshold": {
            "threshold": settings.threshold,
            "fmr": scores.fmr(settings.threshold),
            "fnmr": scores.fnmr(settings.threshold),
        },
    }


def _tail_limit(scores: SortedScores, report: dict[str, Any], settings: Settings) -> float:
    """The impostor distance under which the tail keeps every pair: several times the
    largest FMR any figure needs (the EER, the targets, the operating threshold's FMR)."""
    if not len(scores.impostor):
        return settings.threshold
    eer = report["eer"] if report["eer"] == report["eer"] else 0.0
    needed = max(eer, *settings.targets, report["at_threshold"]["fmr"])
    share = min(1.0, TAIL_MARGIN * needed)
    index = min(len(scores.impostor) - 1, int(math.ceil(share * len(scores.impostor))))
    return float(max(scores.impostor[index], settings.threshold))


def _included(found: list[Group], settings: Settings) -> list[Group]:
    return [g for g in found if g.identities >= settings.min_group_identities]


def _differentials(
    stats: dict[str, float], columns: dict[str, list[Group]], settings: Settings
) -> dict[str, float]:
    out: dict[str, float] = {}
    for column, found in columns.items():
        for rate in ("fnmr", "fmr"):
            values = [stats[f"{rate}:{column}={g.value}"] for g in _included(found, settings)]
            values = [v for v in values if v == v]
            if len(values) < 2:
                out[f"{rate}_ratio:{column}"] = math.nan
            elif min(values) == 0:
                out[f"{rate}_ratio:{column}"] = math.inf if max(values) > 0 else 1.0
            else:
                out[f"{rate}_ratio:{column}"] = max(values) / min(values)
    return out


def _pair(interval: tuple[float, float] | None) -> list[float | None] | None:
    if interval is None:
        return None
    return [_number(interval[0]), _number(interval[1])]


def _number(value: float) -> float | None:
    return None if value != value or math.isinf(value) else float(value)


def _intervals_report(ci: dict[str, tuple[float, float]], settings: Settings) -> dict[str, Any]:
    return {
        "method": "bootstrap over identities, 2.5 and 97.5 percentiles",
        "replicates": settings.replicates,
        "seed": settings.seed,
        "eer": _pair(ci.get("eer")),
        "fnmr_at_fmr": {str(t): _pair(ci.get(f"fnmr@{t}")) for t in settings.targets},
        "thresholds_at_fmr": {str(t): _pair(ci.get(f"threshold@{t}")) for t in settings.targets},
        "at_threshold": {"fmr": _pair(ci.get("fmr")), "fnmr": _pair(ci.get("fnmr"))},
    }


def _group_report(
    group: Group,
    enrolment: Enrolment,
    point: dict[str, float],
    ci: dict[str, tuple[float, float]],
    settings: Settings,
) -> dict[str, Any]:
    key = f"{group.column}={group.value}"
    images = enrolment.images_per_identity()[group.members]
    failures = int(enrolment.failures_per_identity()[group.members].sum())
    genuine = int((images * (images - 1) // 2).sum()) * enrolment.orders
    impostors = int((images.sum() ** 2 - (images**2).sum()) // 2) * enrolment.orders
    return {
        "identities": group.identities,
        "images": int(images.sum()) + failures,
        "failure_to_enrol": failures / (int(images.sum()) + failures) if images.size else 0.0,
        "pairs": {"genuine": genuine, "impostor": impostors},
        "threshold": settings.threshold,
        "fmr": _number(point[f"fmr:{key}"]),
        "fnmr": _number(point[f"fnmr:{key}"]),
        "fmr_ci95": _pair(ci.get(f"fmr:{key}")),
        "fnmr_ci95": _pair(ci.get(f"fnmr:{key}")),
        "in_differential": group.identities >= settings.min_group_identities,
    }


def _differential_report(
    column: str, point: dict[str, float], ci: dict[str, tuple[float, float]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rate in ("fnmr", "fmr"):
        value = point[f"{rate}_ratio:{column}"]
        out[f"{rate}_ratio"] = _number(value)
        out[f"{rate}_ratio_ci95"] = _pair(ci.get(f"{rate}_ratio:{column}"))
        if math.isinf(value):
            out[f"{rate}_ratio_note"] = "the best group has no error at all: ratio unbounded"
    return out
