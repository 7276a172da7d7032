"""``kiosk bench face-eval``: ``kiosk face eval``'s work after enrolment, at scale.

Enrolment costs the same per image whatever the set's size (``kiosk face eval`` shows its
rate as it goes); what grows with the square of the set is everything after it. This bench
makes ``--images`` synthetic 128-number templates (``--per-identity`` per identity, spread so
that genuine and impostor distances overlap a little, as real ones do), then runs the
evaluation exactly as ``kiosk face eval --labels`` does: every pair's distance in blocks,
the sorted-score figures, the impostor tail, ``--bootstrap`` draws over identities and two
label groups. 10,000 images are 50 million pairs.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.face.enrolment import Enrolment
from kiosk.face.evaluation import Settings, evaluate
from kiosk.face.groups import Group


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=int, default=10_000, help="templates (10,000)")
    parser.add_argument("--per-identity", type=int, default=5, help="templates per identity")
    parser.add_argument("--bootstrap", type=int, default=500, help="bootstrap draws")
    parser.add_argument("--seed", type=int, default=0)


def synthetic_enrolment(images: int, per_identity: int, seed: int) -> Enrolment:
    rng = np.random.default_rng(seed)
    identities = max(2, images // per_identity)
    owners = np.arange(images, dtype=np.int64) % identities
    centres = rng.normal(0.0, 0.047, (identities, 128))
    # a few poor images per identity: genuine distances get a tail, as with real photos
    noise = 0.022 * np.exp(rng.normal(0.0, 0.35, images))[:, None]
    encodings = centres[owners] + rng.normal(0.0, 1.0, (images, 128)) * noise
    names = [f"id{k:05d}" for k in range(identities)]
    return Enrolment(
        names=names,
        images={},
        paths=[Path(names[o]) / f"{i}.jpg" for i, o in enumerate(owners)],
        owners=owners,
        encodings=encodings,
        quality=np.ones(images),
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    enrolment = synthetic_enrolment(args.images, args.per_identity, args.seed)
    half = np.arange(enrolment.identities) % 2 == 0
    groups = {"sex": [Group("sex", "F", half), Group("sex", "M", ~half)]}
    start = time.perf_counter()
    report = evaluate(
        enrolment, Settings(threshold=0.6, replicates=args.bootstrap, seed=args.seed), groups
    ).as_json()
    total = time.perf_counter() - start
    return {
        "images": args.images,
        "identities": enrolment.identities,
        "pairs": report["pairs"]["genuine"] + report["pairs"]["impostor"],
        "genuine_pairs": report["pairs"]["genuine"],
        "eer": round(report["eer"], 4),
        "bootstrap_draws": args.bootstrap,
        "seconds_scores": report["timings_s"]["scores_s"],
        "seconds_tail_and_bootstrap": report["timings_s"]["bootstrap_s"],
        "seconds_total": round(total, 1),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
