"""Enrolment of a folder of face images for evaluation: one template per image, made once.

A folder holds one sub-folder of images per identity. Every image is decoded and encoded as a
chip photo would be (:attr:`FacePurpose.REFERENCE`: the largest face, refused only when two
are of similar size); an image that gives no template is a failure to enrol, with its reason.

Templates are made in worker processes (``spawn``: fresh interpreters that load the dlib
models once each), a progress bar on stderr. With a cache file (``.npz``) the templates of
images already enrolled with the same encoder settings are read back instead of recomputed;
an image whose size or modification time changed is enrolled again. The cache holds face
templates, which are biometric data: it is written with mode 0600 and nothing of it is
logged.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from kiosk.face.images import DEFAULT_MAX_PIXELS, ImageRejected, read_image_file
from kiosk.face.matcher import DlibFaceMatcher, FacePurpose, FaceTemplate

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".jp2", ".j2k", ".bmp", ".webp", ".tif", ".tiff"}
CACHE_VERSION = 1
ENCODING_SIZE = 128


@dataclass
class Enrolment:
    """The templates of a folder: row ``i`` of ``encodings`` is image ``paths[i]`` of identity
    ``names[owners[i]]``; ``failures`` maps every image that gave no template to the reason."""

    names: list[str]
    images: dict[str, list[Path]]
    paths: list[Path]
    owners: npt.NDArray[np.int64]
    encodings: npt.NDArray[np.float64]
    quality: npt.NDArray[np.float64]  # the capture-quality score of each image, 0..1
    failures: dict[Path, str] = field(default_factory=dict)
    reused: int = 0  # templates read from the cache
    # the live side's templates of the same images (row i of both is image paths[i]) when the
    # two sides of a comparison are encoded with different settings (:func:`paired`)
    live_encodings: npt.NDArray[np.float64] | None = None

    @property
    def identities(self) -> int:
        return len(self.names)

    @property
    def orders(self) -> int:
        """Comparisons per unordered pair of images: 2 when the sides differ (each image once
        as the chip photo, once as the live frame), else 1."""
        return 1 if self.live_encodings is None else 2

    def encoding(self, path: Path) -> npt.NDArray[np.float64]:
        row: npt.NDArray[np.float64] = self.encodings[self.paths.index(path)]
        return row

    def images_per_identity(self) -> npt.NDArray[np.int64]:
        """Enrolled images of each identity (index = identity)."""
        return np.bincount(self.owners, minlength=len(self.names)).astype(np.int64)

    def failures_per_identity(self) -> npt.NDArray[np.int64]:
        index = {name: i for i, name in enumerate(self.names)}
        counts = np.zeros(len(self.names), np.int64)
        for path in self.failures:
            counts[index[path.parent.name]] += 1
        return counts


def paired(reference: Enrolment, live: Enrolment) -> Enrolment:
    """One enrolment of the same folder with the reference side's templates as ``encodings``
    and the live side's as ``live_encodings``: an image is enrolled only when both sides gave
    a template (a failure on either side is a failure to enrol, the reference side's reason
    first)."""
    if reference.names != live.names:
        raise ValueError("the two enrolments are not of the same folder")
    live_row = {path: row for row, path in enumerate(live.paths)}
    keep = [row for row, path in enumerate(reference.paths) if path in live_row]
    failures = dict(reference.failures)
    for path, code in live.failures.items():
        failures.setdefault(path, code)
    return Enrolment(
        names=reference.names,
        images=reference.images,
        paths=[reference.paths[row] for row in keep],
        owners=reference.owners[keep],
        encodings=reference.encodings[keep],
        quality=reference.quality[keep],
        failures=failures,
        reused=reference.reused + live.reused,
        live_encodings=live.encodings[[live_row[reference.paths[row]] for row in keep]],
    )


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


# --- one image -----------------------------------------------------------------------------

_worker_matcher: DlibFaceMatcher | None = None
_worker_max_pixels = DEFAULT_MAX_PIXELS


def _init_worker(settings: dict[str, Any], max_pixels: int) -> None:
    global _worker_matcher, _worker_max_pixels
    import cv2

    cv2.setNumThreads(1)
    _worker_matcher = DlibFaceMatcher(0.6, **settings)
    _worker_max_pixels = max_pixels


Outcome = tuple[int, npt.NDArray[np.float64] | None, float, str]


def _enrol_one(matcher: DlibFaceMatcher, index: int, path: Path, max_pixels: int) -> Outcome:
    decoded = read_image_file(path, max_pixels)
    result = (
        decoded
        if isinstance(decoded, ImageRejected)
        else matcher.template(decoded, FacePurpose.REFERENCE)
    )
    if isinstance(result, FaceTemplate):
        return index, result.encoding, float(result.quality.score), ""
    return index, None, 0.0, result.code


def _worker_task(task: tuple[int, str]) -> Outcome:
    assert _worker_matcher is not None
    return _enrol_one(_worker_matcher, task[0], Path(task[1]), _worker_max_pixels)


# --- progress ------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a stream (stderr), redrawn at most five times a second."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label, self.total = label, total
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._start = self._drawn = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._drawn >= 0.2 or self.done >= self.total:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self._start
        fraction = self.done / self.total if self.total else 1.0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * int(30 * fraction)
        self.stream.write(
            f"\r{self.label} [{bar:<30}] {self.done}/{self.total} {rate:.1f}/s, {left:.0f} s left "
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.total:
            self.stream.write("\n")
            self.stream.flush()


# --- the folder ----------------------------------------------------------------------------


def enrol(
    folder: Path,
    matcher: DlibFaceMatcher,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    *,
    workers: int = 1,
    cache: Path | None = None,
    progress: Callable[[str, int], Progress] | None = None,
) -> Enrolment:
    """Templates of every image under ``folder``; ``workers`` > 1 makes them in processes."""
    images = list_identities(folder)
    names = list(images)
    every = [path for paths in images.values() for path in paths]
    cached = _read_cache(cache, folder, matcher.settings()) if cache else {}
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, Path]] = []
    for index, path in enumerate(every):
        hit = cached.get(_cache_key(path, folder))
        if hit is not None:
            outcomes[index] = (index, *hit)
        else:
            todo.append((index, path))
    bar = progress("enrolling", len(todo)) if progress and todo else None
    for outcome in _run(todo, matcher, max_pixels, workers):
        outcomes[outcome[0]] = outcome
        if bar:
            bar.advance()
    if bar:
        bar.finish()
    enrolment = _assemble(names, images, every, outcomes)
    enrolment.reused = len(every) - len(todo)
    if cache and todo:
        _write_cache(cache, folder, matcher.settings(), every, outcomes)
    log.info(
        "enrolled %d images (%d from the cache), %d failures",
        len(enrolment.paths),
        enrolment.reused,
        len(enrolment.failures),
    )
    return enrolment


def _run(
    todo: list[tuple[int, Path]], matcher: DlibFaceMatcher, max_pixels: int, workers: int
) -> Iterator[Outcome]:
    if workers <= 1 or len(todo) < 2 * workers:
        for index, path in todo:
            yield _enrol_one(matcher, index, path, max_pixels)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        workers, initializer=_init_worker, initargs=(matcher.settings(), max_pixels)
    ) as pool:
        tasks = [(index, str(path)) for index, path in todo]
        yield from pool.imap_unordered(_worker_task, tasks, chunksize=4)


def _assemble(
    names: list[str],
    images: dict[str, list[Path]],
    every: list[Path],
    outcomes: dict[int, Outcome],
) -> Enrolment:
    owner_of = {name: i for i, name in enumerate(names)}
    paths: list[Path] = []
    owners: list[int] = []
    rows: list[npt.NDArray[np.float64]] = []
    quality: list[float] = []
    failures: dict[Path, str] = {}
    for index, path in enumerate(every):
        _, encoding, score, code = outcomes[index]
        if encoding is None:
            failures[path] = code
            continue
        paths.append(path)
        owners.append(owner_of[path.parent.name])
        rows.append(np.asarray(encoding, np.float64))
        quality.append(score)
    return Enrolment(
        names=names,
        images=images,
        paths=paths,
        owners=np.asarray(owners, np.int64),
        encodings=np.vstack(rows) if rows else np.zeros((0, ENCODING_SIZE)),
        quality=np.asarray(quality, np.float64),
        failures=failures,
    )


# --- the cache -----------------------------------------------------------------------------


def _cache_key(path: Path, folder: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.relative_to(folder)), stat.st_size, stat.st_mtime_ns


def _read_cache(
    cache: Path, folder: Path, settings: dict[str, Any]
) -> dict[tuple[str, int, int], tuple[npt.NDArray[np.float64] | None, float, str]]:
    if not cache.exists():
        return {}
    try:
        with np.load(cache, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header != {"version": CACHE_VERSION, "settings": settings}:
                log.info("template cache made with other settings: not used")
                return {}
            keys = zip(
                data["paths"].tolist(),
                data["sizes"].tolist(),
                data["mtimes"].tolist(),
                strict=True,
            )
            encodings, quality, codes = data["encodings"], data["quality"], data["codes"]
            return {
                (str(p), int(s), int(m)): (
                    None if codes[i] else np.array(encodings[i], np.float64),
                    float(quality[i]),
                    str(codes[i]),
                )
                for i, (p, s, m) in enumerate(keys)
            }
    except (OSError, ValueError, KeyError) as exc:
        log.warning("template cache unreadable (%s): enrolling again", exc.__class__.__name__)
        return {}


def _write_cache(
    cache: Path,
    folder: Path,
    settings: dict[str, Any],
    every: list[Path],
    outcomes: dict[int, Outcome],
) -> None:
    keys = [_cache_key(path, folder) for path in every]
    encodings = np.zeros((len(every), ENCODING_SIZE), np.float64)
    for index, (_, encoding, _, _) in outcomes.items():
        if encoding is not None:
            encodings[index] = encoding
    temporary = cache.with_name(cache.name + ".tmp.npz")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        np.savez(
            handle,
            header=np.array(json.dumps({"version": CACHE_VERSION, "settings": settings})),
            paths=np.array([k[0] for k in keys]),
            sizes=np.array([k[1] for k in keys], np.int64),
            mtimes=np.array([k[2] for k in keys], np.int64),
            encodings=encodings,
            quality=np.array([outcomes[i][2] for i in range(len(every))], np.float64),
            codes=np.array([outcomes[i][3] for i in range(len(every))]),
        )
    os.replace(temporary, cache)
