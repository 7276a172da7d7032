"""Files written by ``kiosk face eval``: the per-pair CSV (streamed) and the DET curve."""

from __future__ import annotations

import csv
from pathlib import Path

from kiosk.face.error_rates import SortedScores, det_points
from kiosk.face.evaluation import Evaluation
from kiosk.face.pair_scores import pair_blocks


def write_pairs_csv(evaluation: Evaluation, path: Path, threshold: float, root: Path) -> int:
    """Every pair's distance, one block of pairs at a time (50 million rows never sit in
    memory); the number of rows written."""
    enrolment = evaluation.enrolment
    names = [_relative(p, root) for p in enrolment.paths]
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        sides = ["first", "second"] if enrolment.live_encodings is None else ["reference", "live"]
        writer.writerow([*sides, "genuine", "distance", "score", "match"])
        blocks = pair_blocks(enrolment.encodings, enrolment.owners, live=enrolment.live_encodings)
        for block in blocks:
            writer.writerows(
                (
                    names[a],
                    names[b],
                    int(same),
                    f"{d:.5f}",
                    f"{min(1.0, max(0.0, 1.0 - d)):.5f}",
                    int(d <= threshold),
                )
                for a, b, d, same in zip(
                    block.first.tolist(),
                    block.second.tolist(),
                    block.distance.tolist(),
                    block.genuine.tolist(),
                    strict=True,
                )
            )
            rows += len(block.distance)
    return rows


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

    scores = SortedScores(evaluation.genuine, evaluation.impostor)
    genuine, impostor = scores.genuine, scores.impostor
    floor_fmr = 0.5 / max(1, len(impostor))  # zero rates drawn at half the resolution
    floor_fnmr = 0.5 / max(1, len(genuine))
    fmr, fnmr = det_points(scores)
    figure, axes = plt.subplots(figsize=(6, 5), dpi=100)
    try:
        axes.step(fmr.clip(floor_fmr), fnmr.clip(floor_fnmr), where="post", label="DET")
        axes.plot(
            [max(scores.fmr(threshold), floor_fmr)],
            [max(scores.fnmr(threshold), floor_fnmr)],
            "o",
            label=f"threshold {threshold:.3f}",
        )
        for target in (0.01, 0.001, 0.0001):
            if len(impostor) * target >= 1:
                axes.axvline(target, color="grey", linewidth=0.6, linestyle=":")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlim(floor_fmr / 2, 1.0)
        axes.set_ylim(floor_fnmr / 2, 1.0)
        axes.set_xlabel(f"FMR ({len(impostor)} impostor pairs; zero drawn at {floor_fmr:.1e})")
        axes.set_ylabel(f"FNMR ({len(genuine)} genuine pairs; zero drawn at {floor_fnmr:.1e})")
        eer = evaluation.report.get("eer", float("nan"))
        axes.set_title(f"DET, {evaluation.enrolment.identities} identities, EER {eer:.3f}")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(loc="upper right")
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
