"""``kiosk face``: 1:1 verification of two image files, and evaluation on a folder of faces."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from kiosk.config import load_config


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    match = actions.add_parser("match", help="compare the faces of two image files")
    match.add_argument("first", type=Path)
    match.add_argument("second", type=Path)
    match.add_argument("--json", action="store_true", help="print one JSON object")
    match.set_defaults(handler=_match)
    evaluate = actions.add_parser("eval", help="error rates on a folder of identity folders")
    evaluate.add_argument("folder", type=Path, help="one sub-folder of images per identity")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--plot", type=Path, metavar="FILE.png", help="save the DET curve")
    evaluate.add_argument("--csv", type=Path, metavar="FILE", help="save every pair's distance")
    evaluate.set_defaults(handler=_eval)


def _matcher(args: argparse.Namespace) -> Any:
    from kiosk.face.matcher import DlibFaceMatcher

    config = load_config(args.config).face
    return DlibFaceMatcher(config.threshold, config.detect_max_side), config.max_image_pixels


def _match(args: argparse.Namespace) -> int:
    from kiosk.face.images import ImageRejected, read_image_file

    matcher, max_pixels = _matcher(args)
    templates = []
    timings: dict[str, float] = {}
    quality: dict[str, Any] = {}
    for label, path in (("first", args.first), ("second", args.second)):
        start = time.perf_counter()
        image = read_image_file(path, max_pixels)
        timings[f"{label}_decode"] = round((time.perf_counter() - start) * 1e3, 1)
        result = image if isinstance(image, ImageRejected) else matcher.template(image)
        if isinstance(result, ImageRejected):
            _print({"error": result.code, "detail": result.detail, "image": label}, args.json)
            return 1
        for step, ms in result.timings_ms.items():
            timings[f"{label}_{step}"] = round(ms, 1)
        quality[label] = result.quality.as_dict()
        templates.append(result)
    verification = matcher.verify(templates[0], templates[1])
    _print(
        {
            "score": round(verification.score, 4),
            "distance": round(verification.distance, 4),
            "match": verification.match,
            "threshold": verification.threshold,
            "quality": quality,
            "timings_ms": timings,
        },
        args.json,
    )
    return 0


def _eval(args: argparse.Namespace) -> int:
    from kiosk.face.evaluation import enrol, evaluate
    from kiosk.face.evaluation_output import plot_det, write_pairs_csv

    if not args.folder.is_dir():
        print(f"kiosk face eval: {args.folder} is not a folder")
        return 2
    matcher, max_pixels = _matcher(args)
    evaluation = evaluate(enrol(args.folder, matcher, max_pixels))
    report = evaluation.as_json()
    report["configured_threshold"] = matcher.threshold
    if args.csv:
        write_pairs_csv(evaluation, args.csv, matcher.threshold, args.folder)
    if args.plot:
        plot_det(evaluation, args.plot, matcher.threshold)
    if args.json:
        print(json.dumps(report))
        return 0
    pairs = report["pairs"]
    print(f"identities        {report['identities']}")
    print(f"pairs             {pairs['genuine']} genuine, {pairs['impostor']} impostor")
    print(f"failure to enrol  {report['failure_to_enrol']}")
    print(f"EER               {report['eer']:.4f} at distance {report['eer_threshold']:.4f}")
    for target, value in report["fnmr_at_fmr"].items():
        note = "" if report["fmr_resolved"][target] else "  (set too small: at FMR = 0)"
        print(f"FNMR at FMR {target:<6}{value:.4f}{note}")
    print(f"threshold         {report['threshold']:.4f} (configured {matcher.threshold})")
    return 0


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data))
        return
    for key, value in data.items():
        print(f"{key:<12}{json.dumps(value) if isinstance(value, dict) else value}")
