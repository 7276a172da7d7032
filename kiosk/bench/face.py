"""``kiosk bench face``: our verification against the plain face_recognition recipe, and the
live loop's frame rate.

Both verifications run in one process on the same decoded images of a faces folder (one
sub-folder per identity). The recipe is ``face_locations`` then ``face_encodings`` on each
full-resolution image; ours is :class:`DlibFaceMatcher` (detector on a small copy, encoder on
the full-size crop). A verification's time is the time to make both templates and compare
them; each image's template time is measured ``--repeat`` times (ours and the recipe
interleaved, the fastest run kept, which filters out other load on the machine) and summed
per pair. Decisions are taken
at the configured threshold; "same_decisions" compares them on every pair (match, no match,
or no face).

The live loop (detect every N frames on a down-scaled copy, follow landmarks in between,
assess quality) runs on pre-rendered 640x480 frames of the simulated traveller, pinned to
one OpenCV thread (dlib is single-threaded), so the figure is per core.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.config import load_config
from kiosk.face.enrolment import list_identities
from kiosk.face.images import ImageRejected, RgbImage, read_image_file
from kiosk.face.matcher import DlibFaceMatcher, FaceTemplate

DEFAULT_FACES = Path("tests/data/faces")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES, help="identity folders")
    parser.add_argument("--live-frames", type=int, default=150, help="frames for the live loop")
    parser.add_argument("--repeat", type=int, default=2, help="runs per image; the fastest is kept")
    parser.add_argument("--detect-every", type=int, default=8, help="full detection period")


def run(args: argparse.Namespace) -> dict[str, Any]:
    import cv2

    cv2.setNumThreads(1)
    config = load_config(getattr(args, "config", None)).face
    matcher = DlibFaceMatcher(config.threshold, config.detect_max_side)
    images = _load(args.faces, config.max_image_pixels)
    ours: dict[Path, tuple[float, Any]] = {}
    recipe: dict[Path, tuple[float, Any]] = {}
    for _ in range(max(1, args.repeat)):
        for path, image in images.items():  # interleaved, so load changes hit both alike
            _keep_fastest(ours, path, _time(lambda image=image: matcher.template(image)))
            _keep_fastest(recipe, path, _time(lambda image=image: _recipe(image)))
    pairs = list(itertools.combinations(sorted(images), 2))
    ours_ms, recipe_ms, cached_ms, disagreements = [], [], [], 0
    for a, b in pairs:
        ours_ms.append(ours[a][0] + ours[b][0])
        recipe_ms.append(recipe[a][0] + recipe[b][0])
        cached_ms.append(ours[a][0])  # the chip photo's template kept for the transaction
        mine = _decision(ours[a][1], ours[b][1], config.threshold)
        theirs = _decision(recipe[a][1], recipe[b][1], config.threshold)
        disagreements += mine != theirs
    ours_median = statistics.median(ours_ms)
    recipe_median = statistics.median(recipe_ms)
    live = _live_fps(images, args.live_frames, args.detect_every)
    return {
        "images": len(images),
        "pairs": len(pairs),
        "threshold": config.threshold,
        "ours_ms_median": round(ours_median, 1),
        "recipe_ms_median": round(recipe_median, 1),
        "speedup": round(recipe_median / ours_median, 2),
        "ours_cached_reference_ms_median": round(statistics.median(cached_ms), 1),
        "same_decisions": disagreements == 0,
        "disagreements": disagreements,
        "live_fps": round(live, 1),
        "live_frames": args.live_frames,
        "live_detect_every": args.detect_every,
        "repeat": args.repeat,
    }


def _load(folder: Path, max_pixels: int) -> dict[Path, RgbImage]:
    images: dict[Path, RgbImage] = {}
    for paths in list_identities(folder).values():
        for path in paths:
            decoded = read_image_file(path, max_pixels)
            if not isinstance(decoded, ImageRejected):
                images[path] = decoded
    if len(images) < 2:
        raise SystemExit(f"kiosk bench face: fewer than two readable images under {folder}")
    return images


def _time(work: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return (time.perf_counter() - start) * 1e3, result


def _keep_fastest(
    timings: dict[Path, tuple[float, Any]], path: Path, measured: tuple[float, Any]
) -> None:
    if path not in timings or measured[0] < timings[path][0]:
        timings[path] = measured


def _recipe(image: RgbImage) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import face_recognition
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False  # undo face_recognition's global switch
    locations = face_recognition.face_locations(image)
    encodings = face_recognition.face_encodings(image, locations)
    return encodings[0] if len(encodings) == 1 else None


def _encoding(result: Any) -> Any:
    if isinstance(result, FaceTemplate):
        return result.encoding
    return None if isinstance(result, ImageRejected) else result


def _decision(first: Any, second: Any, threshold: float) -> str:
    a, b = _encoding(first), _encoding(second)
    if a is None or b is None:
        return "no_face"
    return "match" if float(np.linalg.norm(a - b)) <= threshold else "no_match"


def _live_fps(images: dict[Path, RgbImage], frames: int, detect_every: int) -> float:

    from hardware.config import SimulatedCameraConfig
    from hardware.sim.scenes import build_scene
    from kiosk.face.tracker import FaceTracker

    portrait = next((p for p in images if p.stem.endswith("480p")), next(iter(images)))
    scene = build_scene(SimulatedCameraConfig(scene="traveller", face_image=portrait))
    try:
        rendered = [scene.render(i) for i in range(frames)]
    finally:
        scene.close()
    assert rendered[0].shape[:2] == (480, 640)
    tracker = FaceTracker(detect_every=detect_every)
    # load the models outside the timing
    tracker.process(np.ascontiguousarray(rendered[0][:, ::-1]), 0.0)
    tracker.reset()
    start = time.perf_counter()
    for index, frame in enumerate(rendered):
        tracker.process(frame, index / 15.0)
    return frames / (time.perf_counter() - start)
