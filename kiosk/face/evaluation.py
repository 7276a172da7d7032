"""Offline evaluation of the matcher on a folder of face images, one sub-folder per identity.

Every image is enrolled once (a failure to make a template counts as failure to enrol);
every unordered pair of enrolled images is compared: same folder = genuine, different
folder = impostor. Error rates follow ISO/IEC 19795-1 vocabulary: FMR (impostor pairs
accepted), FNMR (genuine pairs refused), EER, and FNMR at a fixed FMR. With N impostor pairs
the smallest FMR a set can show is 1/N; when a target is below that, the figure is reported
at FMR = 0 and flagged as "the best the set allows".
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.face.images import ImageRejected, read_image_file
from kiosk.face.matcher import FaceMatcher, FaceTemplate

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".jp2", ".j2k", ".bmp", ".webp", ".tif", ".tiff"}
FMR_TARGETS = (0.01, 0.001)


@dataclass
class Enrolment:
    identities: dict[str, list[Path]] = field(default_factory=dict)
    templates: dict[Path, FaceTemplate] = field(default_factory=dict)
    failures: dict[Path, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pair:
    first: Path
    second: Path
    genuine: bool
    distance: float


@dataclass(frozen=True)
class Evaluation:
    identities: int
    pairs: list[Pair]
    failure_to_enrol: int
    eer: float
    eer_threshold: float
    fnmr_at_fmr: dict[float, float]
    fmr_resolved: dict[float, bool]  # False: the set is too small, figure is at FMR = 0
    threshold: float  # the largest threshold meeting the strictest FMR target the set resolves

    @property
    def genuine(self) -> npt.NDArray[np.float64]:
        return np.array([p.distance for p in self.pairs if p.genuine], dtype=np.float64)

    @property
    def impostor(self) -> npt.NDArray[np.float64]:
        return np.array([p.distance for p in self.pairs if not p.genuine], dtype=np.float64)

    def as_json(self) -> dict[str, Any]:
        genuine = int(sum(p.genuine for p in self.pairs))
        return {
            "identities": self.identities,
            "pairs": {"genuine": genuine, "impostor": len(self.pairs) - genuine},
            "failure_to_enrol": self.failure_to_enrol,
            "eer": round(self.eer, 4),
            "eer_threshold": round(self.eer_threshold, 4),
            "fnmr_at_fmr": {str(t): round(v, 4) for t, v in self.fnmr_at_fmr.items()},
            "fmr_resolved": {str(t): v for t, v in self.fmr_resolved.items()},
            "threshold": round(self.threshold, 4),
        }


def list_identities(folder: Path) -> dict[str, list[Path]]:
    """Sub-folders (not starting with '_' or '.') and their image files, sorted."""
    identities: dict[str, list[Path]] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name.startswith(("_", ".")):
            continue
        images = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if images:
            identities[sub.name] = images
    return identities


def enrol(folder: Path, matcher: FaceMatcher, max_pixels: int = 50_000_000) -> Enrolment:
    enrolment = Enrolment(identities=list_identities(folder))
    for images in enrolment.identities.values():
        for path in images:
            decoded = read_image_file(path, max_pixels)
            result = decoded if isinstance(decoded, ImageRejected) else matcher.template(decoded)
            if isinstance(result, ImageRejected):
                enrolment.failures[path] = result.code
            else:
                enrolment.templates[path] = result
    log.info("enrolled %d images, %d failures", len(enrolment.templates), len(enrolment.failures))
    return enrolment


def evaluate(enrolment: Enrolment) -> Evaluation:
    owner = {path: name for name, paths in enrolment.identities.items() for path in paths}
    enrolled = [p for p in owner if p in enrolment.templates]
    pairs = [
        Pair(
            a,
            b,
            owner[a] == owner[b],
            float(
                np.linalg.norm(enrolment.templates[a].encoding - enrolment.templates[b].encoding)
            ),
        )
        for a, b in itertools.combinations(enrolled, 2)
    ]
    genuine = np.array([p.distance for p in pairs if p.genuine])
    impostor = np.array([p.distance for p in pairs if not p.genuine])
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    fnmr: dict[float, float] = {}
    resolved: dict[float, bool] = {}
    threshold = eer_threshold
    for target in sorted(FMR_TARGETS, reverse=True):
        resolved[target] = len(impostor) * target >= 1.0
        at = threshold_at_fmr(impostor, target if resolved[target] else 0.0)
        fnmr[target] = float((genuine > at).mean()) if len(genuine) else float("nan")
        if resolved[target] or target == max(FMR_TARGETS):
            threshold = at
    return Evaluation(
        identities=len(enrolment.identities),
        pairs=pairs,
        failure_to_enrol=len(enrolment.failures),
        eer=eer,
        eer_threshold=eer_threshold,
        fnmr_at_fmr=fnmr,
        fmr_resolved=resolved,
        threshold=threshold,
    )


def error_rates(
    genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64], threshold: float
) -> tuple[float, float]:
    """(FMR, FNMR) when pairs at distance <= threshold match."""
    fmr = float((impostor <= threshold).mean()) if len(impostor) else 0.0
    fnmr = float((genuine > threshold).mean()) if len(genuine) else 0.0
    return fmr, fnmr


def candidate_thresholds(
    genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    values = np.unique(np.concatenate([genuine, impostor, [0.0, 2.0]]))
    return np.asarray(values, dtype=np.float64)


def equal_error_rate(
    genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """(EER, threshold): where FMR and FNMR cross (mean of the two at the closest point)."""
    if not len(genuine) or not len(impostor):
        return float("nan"), float("nan")
    best = (2.0, 0.0, 0.0)
    for t in candidate_thresholds(genuine, impostor):
        fmr, fnmr = error_rates(genuine, impostor, float(t))
        gap = abs(fmr - fnmr)
        if gap < best[0]:
            best = (gap, (fmr + fnmr) / 2, float(t))
    return best[1], best[2]


def threshold_at_fmr(impostor: npt.NDArray[np.float64], target: float) -> float:
    """The largest distance threshold whose FMR does not exceed ``target``."""
    if not len(impostor):
        return float("nan")
    ordered = np.sort(impostor)
    allowed = int(np.floor(target * len(ordered) + 1e-9))  # impostor pairs we may accept
    if allowed >= len(ordered):
        return float(ordered[-1])
    below = float(ordered[allowed])
    # just under the first impostor distance we must refuse
    return float(np.nextafter(below, -np.inf))
