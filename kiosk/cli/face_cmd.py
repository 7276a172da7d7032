"""``kiosk face``: 1:1 verification of two image files; evaluation and threshold calibration
on a folder of faces (one sub-folder per identity).

``kiosk face eval DIR [--labels labels.csv] [--json]`` prints the ISO/IEC 19795-1 figures
with bootstrap intervals (keys ``fnmr_at_fmr``, ``fmr_resolved``, ``eer``,
``failure_to_enrol``, ``pairs``, ``threshold``, ``at_threshold``, ``groups``, ``differential``);
``kiosk face calibrate DIR --fmr 0.001 [--write FILE]`` the threshold meeting a target FMR.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.config import load_config
from kiosk.face.matcher import DlibFaceMatcher
from kiosk.face.sided import EncoderSettings


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    match = actions.add_parser("match", help="compare the faces of two image files")
    match.add_argument("first", type=Path, help="the chip photo (the reference side's encoder)")
    match.add_argument("second", type=Path, help="the live image (the live side's encoder)")
    match.add_argument("--json", action="store_true", help="print one JSON object")
    match.set_defaults(handler=_match)
    evaluate = actions.add_parser(
        "eval", help="ISO/IEC 19795-1 error rates on a folder of identity folders"
    )
    _evaluation_arguments(evaluate)
    evaluate.add_argument("--plot", type=Path, metavar="FILE.png", help="save the DET curve")
    evaluate.add_argument(
        "--csv", type=Path, metavar="FILE", help="stream every pair's distance to a CSV file"
    )
    evaluate.add_argument(
        "--labels", type=Path, metavar="labels.csv", help="person,<group columns>: per group"
    )
    evaluate.add_argument(
        "--threshold", type=float, help="the operating threshold (default: the configured one)"
    )
    evaluate.set_defaults(handler=_eval)
    calibrate = actions.add_parser(
        "calibrate", help="the threshold that meets a target FMR, with its interval"
    )
    _evaluation_arguments(calibrate)
    calibrate.add_argument("--fmr", type=float, default=0.001, help="target FMR (0.001)")
    calibrate.add_argument(
        "--write", type=Path, metavar="FILE.toml", help="set face.threshold in this file"
    )
    calibrate.set_defaults(handler=_calibrate)


def _evaluation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="one sub-folder of images per identity")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="FILE.npz",
        help="keep the templates here (biometric data, mode 0600); a re-run skips enrolment",
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="enrolment processes"
    )
    parser.add_argument(
        "--bootstrap", type=int, default=500, metavar="N", help="bootstrap draws (0: none)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    sides = parser.add_argument_group(
        "encoders",
        "each side of a comparison has its encoder (face.reference, face.live); when they "
        "differ, every pair of images is compared both ways, reference(a) against live(b) and "
        "reference(b) against live(a), and the rates are over those comparisons",
    )
    sides.add_argument("--jitters", type=int, help="num_jitters of both sides")
    sides.add_argument(
        "--landmarks", type=int, choices=(5, 68), help="alignment landmarks of both sides"
    )
    for side, what in (("reference", "the chip photo's"), ("live", "the live frame's")):
        sides.add_argument(
            f"--{side}-jitters", type=int, help=f"{what} num_jitters (default: configured)"
        )
        sides.add_argument(
            f"--{side}-landmarks",
            type=int,
            choices=(5, 68),
            help=f"{what} alignment landmarks (default: configured)",
        )


@dataclass(frozen=True)
class _Encoders:
    threshold: float  # the configured one
    reference: EncoderSettings
    live: EncoderSettings
    detect_max_side: int
    max_pixels: int

    def matcher(self, side: EncoderSettings) -> DlibFaceMatcher:
        """A matcher encoding every image with one side's settings."""
        return DlibFaceMatcher(
            self.threshold,
            self.detect_max_side,
            num_jitters=side.num_jitters,
            landmarks=side.landmarks,
        )


def _first(*values: int | None) -> int:
    return next(int(v) for v in values if v is not None)


def _encoders(args: argparse.Namespace) -> _Encoders:
    """The configured threshold and encoders (resolved as the kiosk resolves them), overridden
    by the options; exits 2 on a bad value."""
    from kiosk.app import face_settings

    config = load_config(args.config)
    resolved = face_settings(config)
    sides = []
    for side, configured in (("reference", resolved.reference), ("live", resolved.live)):
        jitters = _first(
            getattr(args, f"{side}_jitters", None),
            getattr(args, "jitters", None),
            configured.num_jitters,
        )
        landmarks = _first(
            getattr(args, f"{side}_landmarks", None),
            getattr(args, "landmarks", None),
            configured.landmarks,
        )
        try:
            sides.append(EncoderSettings(jitters, 68 if landmarks == 68 else 5))
        except ValueError as exc:
            raise _Unusable(f"--{side}-jitters: {exc}") from exc
    return _Encoders(
        resolved.threshold,
        sides[0],
        sides[1],
        config.face.detect_max_side,
        config.face.max_image_pixels,
    )


def _match(args: argparse.Namespace) -> int:
    from kiosk.face.images import ImageRejected, read_image_file
    from kiosk.face.matcher import FacePurpose

    try:
        encoders = _encoders(args)
    except _Unusable as exc:
        print(f"kiosk face match: {exc}", file=sys.stderr)
        return 2
    max_pixels = encoders.max_pixels
    templates = []
    timings: dict[str, float] = {}
    quality: dict[str, Any] = {}
    sides = (("first", args.first, encoders.reference), ("second", args.second, encoders.live))
    for label, path, side in sides:
        matcher = encoders.matcher(side)
        start = time.perf_counter()
        image = read_image_file(path, max_pixels)
        timings[f"{label}_decode"] = round((time.perf_counter() - start) * 1e3, 1)
        result = (
            image
            if isinstance(image, ImageRejected)
            else matcher.template(image, FacePurpose.REFERENCE)
        )
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


def _evaluation(args: argparse.Namespace, threshold: float | None, targets: tuple[float, ...]):  # type: ignore[no-untyped-def]
    """Enrol (or read the cache) and evaluate; exits 2 on a bad folder or labels file."""
    from kiosk.face.enrolment import Progress, list_identities
    from kiosk.face.evaluation import FMR_TARGETS, Settings, evaluate
    from kiosk.face.groups import LabelsError, read_labels

    if not args.folder.is_dir():
        raise _Unusable(f"{args.folder} is not a folder")
    if args.bootstrap < 0 or args.workers < 1:
        raise _Unusable("--bootstrap must be >= 0 and --workers >= 1")
    groups = None
    if getattr(args, "labels", None):  # read before the enrolment: a bad file costs nothing
        try:
            groups = read_labels(args.labels, list(list_identities(args.folder)))
        except LabelsError as exc:
            raise _Unusable(str(exc)) from exc
    encoders = _encoders(args)
    start = time.perf_counter()
    enrolment = _enrol(args, encoders)
    enrol_s = time.perf_counter() - start
    if not enrolment.paths:
        raise _Unusable(f"no image under {args.folder} gave a face template")
    settings = Settings(
        threshold=encoders.threshold if threshold is None else threshold,
        targets=tuple(sorted(set(FMR_TARGETS) | set(targets), reverse=True)),
        operating_fmr=targets[0] if targets else 0.001,
        replicates=args.bootstrap,
        seed=args.seed,
    )
    evaluation = evaluate(enrolment, settings, groups, progress=Progress)
    evaluation.report["timings_s"]["enrol_s"] = round(enrol_s, 2)
    evaluation.report["templates_from_cache"] = enrolment.reused
    evaluation.report["encoder"] = {
        "reference": encoders.matcher(encoders.reference).settings(),
        "live": encoders.matcher(encoders.live).settings(),
        "comparisons": "one per pair"
        if enrolment.orders == 1
        else "both orders of every pair: reference(a) vs live(b) and reference(b) vs live(a)",
    }
    evaluation.report["configured_threshold"] = encoders.threshold
    return evaluation


def _enrol(args: argparse.Namespace, encoders: _Encoders):  # type: ignore[no-untyped-def]
    """Templates of every image with each side's encoder (once when the sides are alike),
    each setting in its own cache file: ``--cache T.npz`` is used as given when the sides are
    alike, else as ``T-j3-l68.npz`` and ``T-j1-l68.npz`` (one per setting, so a setting's
    templates serve any evaluation that uses it)."""
    from kiosk.face.enrolment import Progress, enrol, paired

    def side(settings: EncoderSettings, cache: Path | None):  # type: ignore[no-untyped-def]
        return enrol(
            args.folder,
            encoders.matcher(settings),
            encoders.max_pixels,
            workers=args.workers,
            cache=cache,
            progress=Progress,
        )

    if encoders.reference == encoders.live:
        return side(encoders.reference, args.cache)
    caches = [
        args.cache.with_name(f"{args.cache.stem}-{s.label}{args.cache.suffix or '.npz'}")
        if args.cache
        else None
        for s in (encoders.reference, encoders.live)
    ]
    reference = side(encoders.reference, caches[0])
    return paired(reference, side(encoders.live, caches[1]))


class _Unusable(Exception):
    """A folder, labels file or option the evaluation cannot use."""


def _eval(args: argparse.Namespace) -> int:
    from kiosk.face.evaluation_output import plot_det, write_pairs_csv

    if args.threshold is not None and not 0 < args.threshold < 2:
        print("kiosk face eval: --threshold must be between 0 and 2", file=sys.stderr)
        return 2
    try:
        evaluation = _evaluation(args, args.threshold, ())
    except _Unusable as exc:
        print(f"kiosk face eval: {exc}", file=sys.stderr)
        return 2
    at = evaluation.settings.threshold
    if args.csv:
        write_pairs_csv(evaluation, args.csv, at, args.folder)
    if args.plot:
        plot_det(evaluation, args.plot, at)
    report = json_safe(evaluation.as_json())
    if args.json:
        print(json.dumps(report))
        return 0
    for line in summary_lines(report):
        print(line)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    if not 0 < args.fmr < 1:
        print("kiosk face calibrate: --fmr must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        evaluation = _evaluation(args, None, (args.fmr,))
    except _Unusable as exc:
        print(f"kiosk face calibrate: {exc}", file=sys.stderr)
        return 2
    report = json_safe(evaluation.as_json())
    key = str(args.fmr)
    threshold = report["thresholds_at_fmr"][key]
    result = {
        "fmr_target": args.fmr,
        "threshold": threshold,
        "threshold_ci95": report["ci95"]["thresholds_at_fmr"][key],
        "fnmr": report["fnmr_at_fmr"][key],
        "fnmr_ci95": report["ci95"]["fnmr_at_fmr"][key],
        "fmr_resolved": report["fmr_resolved"][key],
        "pairs": report["pairs"],
        "identities": report["identities"],
        "failure_to_enrol": report["failure_to_enrol"],
        "written": None,
    }
    if args.write:
        from kiosk.face.calibration_file import write_threshold

        try:
            write_threshold(args.write, round(threshold, 4), result)
        except (OSError, ValueError) as exc:
            print(f"kiosk face calibrate: {args.write}: {exc}", file=sys.stderr)
            return 2
        result["written"] = str(args.write)
    if args.json:
        print(json.dumps(result))
    else:
        low, high = result["threshold_ci95"] or (None, None)
        print(f"target FMR        {args.fmr}")
        print(f"threshold         {threshold:.4f} (95 % interval {_fmt(low)} to {_fmt(high)})")
        print(
            f"FNMR there        {_fmt(result['fnmr'])} (95 % interval "
            f"{' to '.join(_fmt(v) for v in result['fnmr_ci95'] or (None, None))})"
        )
        print(f"resolved          {result['fmr_resolved']}")
        if result["written"]:
            print(f"written to        {result['written']}")
    return 0


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has neither); floats keep six decimals."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else round(number, 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def summary_lines(report: dict[str, Any]) -> list[str]:
    pairs, at = report["pairs"], report["at_threshold"]
    ci = report["ci95"]
    lines = [
        f"identities        {report['identities']} ({report['images']} images)",
        f"pairs             {pairs['genuine']} genuine, {pairs['impostor']} impostor",
        f"failure to enrol  {_fmt(report['failure_to_enrol'])} "
        f"{report['failed_to_enrol']['reasons']}",
        f"EER               {_fmt(report['eer'])} at distance {_fmt(report['eer_threshold'])} "
        f"{_interval(ci['eer'])}",
    ]
    for target, value in report["fnmr_at_fmr"].items():
        note = "" if report["fmr_resolved"][target] else "  (not resolved by this set)"
        lines.append(
            f"FNMR at FMR {target:<7}{_fmt(value)} {_interval(ci['fnmr_at_fmr'][target])} "
            f"threshold {_fmt(report['thresholds_at_fmr'][target])}{note}"
        )
    lines.append(
        f"at threshold {at['threshold']:.4f}  FMR {_fmt(at['fmr'])} "
        f"{_interval(ci['at_threshold']['fmr'])}, FNMR {_fmt(at['fnmr'])} "
        f"{_interval(ci['at_threshold']['fnmr'])}"
    )
    for column, values in report["groups"].items():
        for value, figures in values.items():
            lines.append(
                f"  {column}={value:<12} {figures['identities']:>4} identities  "
                f"FMR {_fmt(figures['fmr'])} {_interval(figures['fmr_ci95'])}  "
                f"FNMR {_fmt(figures['fnmr'])} {_interval(figures['fnmr_ci95'])}"
                + ("" if figures["in_differential"] else "  (too few identities)")
            )
        diff = report["differential"][column]
        lines.append(
            f"  {column} differential: FNMR x{_fmt(diff['fnmr_ratio'])} "
            f"{_interval(diff['fnmr_ratio_ci95'])}, FMR x{_fmt(diff['fmr_ratio'])} "
            f"{_interval(diff['fmr_ratio_ci95'])}"
        )
    return lines


def _interval(pair: list[float | None] | None) -> str:
    if not pair:
        return ""
    return f"[{_fmt(pair[0])}, {_fmt(pair[1])}]"


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data))
        return
    for key, value in data.items():
        print(f"{key:<12}{json.dumps(value) if isinstance(value, dict) else value}")
