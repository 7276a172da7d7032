"""Files written by ``kiosk face eval``: the per-pair CSV and the DET curve."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from kiosk.face.evaluation import Evaluation, candidate_thresholds, error_rates
from kiosk.face.matcher import score_from_distance


def write_pairs_csv(evaluation: Evaluation, path: Path, threshold: float, root: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["first", "second", "genuine", "distance", "score", "match"])
        for pair in evaluation.pairs:
            writer.writerow(
                [
                    _relative(pair.first, root),
                    _relative(pair.second, root),
                    int(pair.genuine),
                    f"{pair.distance:.5f}",
                    f"{score_from_distance(pair.distance):.5f}",
                    int(pair.distance <= threshold),
                ]
            )


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def plot_det(evaluation: Evaluation, path: Path, threshold: float) -> None:
    """The DET curve (FNMR against FMR, log axes) with the operating threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    genuine, impostor = evaluation.genuine, evaluation.impostor
    floor_fmr = 0.5 / max(1, len(impostor))  # zero rates drawn at half the resolution
    floor_fnmr = 0.5 / max(1, len(genuine))
    points = [
        error_rates(genuine, impostor, float(t)) for t in candidate_thresholds(genuine, impostor)
    ]
    fmr = np.array([max(p[0], floor_fmr) for p in points])
    fnmr = np.array([max(p[1], floor_fnmr) for p in points])
    figure, axes = plt.subplots(figsize=(6, 5), dpi=100)
    try:
        axes.step(fmr, fnmr, where="post", label="DET")
        op_fmr, op_fnmr = error_rates(genuine, impostor, threshold)
        axes.plot(
            [max(op_fmr, floor_fmr)],
            [max(op_fnmr, floor_fnmr)],
            "o",
            label=f"threshold {threshold:.3f}",
        )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlim(floor_fmr / 2, 1.0)
        axes.set_ylim(floor_fnmr / 2, 1.0)
        axes.set_xlabel(f"FMR ({len(impostor)} impostor pairs; zero drawn at {floor_fmr:.1e})")
        axes.set_ylabel(f"FNMR ({len(genuine)} genuine pairs; zero drawn at {floor_fnmr:.1e})")
        axes.set_title(f"DET, {evaluation.identities} identities, EER {evaluation.eer:.3f}")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(loc="upper right")
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
