"""1:1 face verification: the traveller at the gate against the photo on the chip.

:class:`FaceMatcher` is the interface: ``template()`` turns an RGB image into a
:class:`FaceTemplate` (or a typed :class:`ImageRejected`), ``verify()`` compares two
templates. :class:`DlibFaceMatcher` is the face_recognition (dlib ResNet) backend, arranged
for speed: the HOG detector runs on a copy scaled down to ``detect_max_side`` (the full
detector on a multi-megapixel photo is what makes the plain recipe slow), and only the face
crop of the full-resolution image is given to the landmark predictor and the encoder.

Which face an image gives depends on its :class:`FacePurpose`. A chip photo or an
evaluation image (``REFERENCE``) gives its largest face when any other face is much smaller (a
bystander in the background of a news photo); it is refused only when two faces are of
similar size (a second face at least :data:`SIMILAR_FACE_WIDTH` of the largest one's width),
since then nothing says which is the holder. A live frame at the gate (``LIVE``) is refused
whenever a second face is found, whatever its size: a second person in front of the gate is
a tailgating risk, not a background.

A :class:`VerificationTransaction` decodes and encodes the chip photo once per transaction,
whatever the number of live attempts; the kiosk decodes it in a worker process with a time
limit (:class:`~kiosk.face.photo_decoder.ChipPhotoDecoder`), and a photo that decoder could
not finish is a rejection (``decode_timeout``, ``decoder_crashed``, ...), never an
exception. Templates are never logged.
"""

from __future__ import annotations

import abc
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from kiosk.face.chip_photo import decode_chip_photo
from kiosk.face.dlib_models import dlib_models
from kiosk.face.geometry import Points
from kiosk.face.images import (
    DEFAULT_MAX_PIXELS,
    ImageRejected,
    Rejection,
    RgbImage,
)
from kiosk.face.photo_decoder import ChipPhotoDecodeError
from kiosk.face.quality import FrameQuality, assess_frame, to_gray

Box = tuple[int, int, int, int]  # left, top, right, bottom

# a second face at least this wide, relative to the largest, makes a reference ambiguous
SIMILAR_FACE_WIDTH = 0.8


class FacePurpose(Enum):
    """What an image is for, which decides how a second face is treated."""

    LIVE = "live"  # a frame of the gate's camera: a second person is refused
    REFERENCE = "reference"  # the chip photo, an evaluation image: the largest face is taken


def select_face(boxes: list[Box], purpose: FacePurpose) -> Box | None:
    """The face to encode among ``boxes`` (largest first), or None when ambiguous."""
    if not boxes or (purpose is FacePurpose.LIVE and len(boxes) > 1):
        return None
    limit = SIMILAR_FACE_WIDTH * (boxes[0][2] - boxes[0][0])
    if any((b[2] - b[0]) >= limit for b in boxes[1:]):
        return None
    return boxes[0]


@dataclass(frozen=True)
class FaceTemplate:
    encoding: npt.NDArray[np.float64]
    box: Box
    landmarks: Points
    quality: FrameQuality
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Verification:
    distance: float
    score: float  # 1 - distance, clipped to 0..1; higher is more alike
    match: bool
    threshold: float


def score_from_distance(distance: float) -> float:
    return float(min(1.0, max(0.0, 1.0 - distance)))


class FaceMatcher(abc.ABC):
    """Makes face templates and compares them against a configured distance threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def template(
        self, image: RgbImage, purpose: FacePurpose = FacePurpose.LIVE
    ) -> FaceTemplate | ImageRejected:
        """The template of the face in ``image`` (8-bit RGB) chosen for ``purpose``, or why
        there is none."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or image.size == 0:
            return ImageRejected(Rejection.UNREADABLE_IMAGE, "not_rgb")
        start = time.perf_counter()
        result = self._template(np.ascontiguousarray(image), purpose)
        if isinstance(result, FaceTemplate):
            result.timings_ms["total"] = (time.perf_counter() - start) * 1e3
        return result

    def verify(self, probe: FaceTemplate, reference: FaceTemplate) -> Verification:
        distance = float(np.linalg.norm(probe.encoding - reference.encoding))
        return Verification(
            distance=distance,
            score=score_from_distance(distance),
            match=distance <= self.threshold,
            threshold=self.threshold,
        )

    def close(self) -> None:
        """Release what the matcher holds (a worker process); in-process, nothing."""
        return None

    @abc.abstractmethod
    def _template(self, image: RgbImage, purpose: FacePurpose) -> FaceTemplate | ImageRejected: ...


class DlibFaceMatcher(FaceMatcher):
    """face_recognition's models, detector on a small copy, encoder on the full-size crop.

    ``num_jitters`` (encodings of randomly shifted copies, averaged) and ``landmarks`` (the
    5- or 68-point predictor that aligns the encoder's 150x150 chip) are the encoder settings
    ``kiosk face eval`` compares; :meth:`settings` names every setting a template depends on.
    """

    def __init__(
        self,
        threshold: float,
        detect_max_side: int = 320,
        max_detect_side: int = 1280,
        *,
        num_jitters: int = 1,
        landmarks: Literal[5, 68] = 5,
    ) -> None:
        super().__init__(threshold)
        if num_jitters < 1 or landmarks not in (5, 68):
            raise ValueError("num_jitters >= 1 and landmarks 5 or 68")
        self.detect_max_side = detect_max_side
        self.max_detect_side = max(detect_max_side, max_detect_side)
        self.num_jitters = num_jitters
        self.landmarks = landmarks

    def settings(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this matcher (less its threshold)."""
        return {
            "detect_max_side": self.detect_max_side,
            "max_detect_side": self.max_detect_side,
            "num_jitters": self.num_jitters,
            "landmarks": self.landmarks,
        }

    def detect(self, image: RgbImage) -> list[Box]:
        """Face boxes in full-resolution coordinates, largest first.

        The detector runs on a copy at most ``detect_max_side`` pixels on its long side; if
        it finds nothing there (a small face in a large picture) it tries twice that, up to
        ``max_detect_side``.
        """
        import cv2

        models = dlib_models()
        longest = max(image.shape[:2])
        # (long side, upsampling) from cheapest to dearest; stop at the first that finds one
        for side, upsample in ((self.detect_max_side, 0), *self._fallbacks()):
            scale = min(1.0, side / longest)
            small = (
                image
                if scale >= 1.0
                else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            )
            with models.lock:
                found = list(models.detector(small, upsample))
            if found:
                break
        boxes = [
            (
                int(r.left() / scale),
                int(r.top() / scale),
                int(r.right() / scale),
                int(r.bottom() / scale),
            )
            for r in found
        ]
        return sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)

    def _fallbacks(self) -> list[tuple[int, int]]:
        steps, side = [(self.detect_max_side, 1)], self.detect_max_side * 2
        while side <= self.max_detect_side:
            steps.append((side, 1))
            side *= 2
        return steps

    def _template(self, image: RgbImage, purpose: FacePurpose) -> FaceTemplate | ImageRejected:
        models = dlib_models()
        timings: dict[str, float] = {}
        start = time.perf_counter()
        boxes = self.detect(image)
        timings["detect"] = (time.perf_counter() - start) * 1e3
        if not boxes:
            return ImageRejected(Rejection.NO_FACE, "no_face")
        chosen = select_face(boxes, purpose)
        if chosen is None:
            return ImageRejected(Rejection.SEVERAL_FACES, f"{len(boxes)}_faces")
        crop, box, origin = _crop(image, chosen)
        rect = models.dlib.rectangle(*box)
        start = time.perf_counter()
        with models.lock:
            shape5 = models.landmarks5(crop, rect)
            shape68 = models.landmarks68(crop, rect)
            timings["landmarks"] = (time.perf_counter() - start) * 1e3
            start = time.perf_counter()
            aligned = shape68 if self.landmarks == 68 else shape5
            encoding = np.array(
                models.encoder.compute_face_descriptor(crop, aligned, self.num_jitters)
            )
        timings["encode"] = (time.perf_counter() - start) * 1e3
        landmarks = np.array([(p.x, p.y) for p in shape68.parts()], dtype=np.float64) + origin
        quality = assess_frame(to_gray(image, bgr=False), 1, landmarks)
        return FaceTemplate(
            encoding=encoding,
            box=chosen,
            landmarks=landmarks,
            quality=quality,
            timings_ms=timings,
        )


def _crop(image: RgbImage, box: Box) -> tuple[RgbImage, Box, npt.NDArray[np.float64]]:
    """The face with a margin (the encoder's chip reaches 25% past the box), and the box in
    crop coordinates."""
    left, top, right, bottom = box
    margin = int(0.6 * max(right - left, bottom - top))
    height, width = image.shape[:2]
    x0, y0 = max(0, left - margin), max(0, top - margin)
    x1, y1 = min(width, right + margin), min(height, bottom + margin)
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    return crop, (left - x0, top - y0, right - x0, bottom - y0), np.array([x0, y0], float)


PhotoDecode = Callable[[bytes, int], RgbImage | ImageRejected]


class VerificationTransaction:
    """One traveller's verification: the chip photo is decoded and encoded only once.

    ``decode`` is how the chip photo becomes pixels: the kiosk's
    :meth:`ChipPhotoDecoder.decode <kiosk.face.photo_decoder.ChipPhotoDecoder.decode>` (a
    worker process, a time limit); by default :func:`decode_chip_photo` in this process."""

    def __init__(
        self,
        matcher: FaceMatcher,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        decode: PhotoDecode | None = None,
    ) -> None:
        self.matcher = matcher
        self.max_pixels = max_pixels
        self.decode: PhotoDecode = decode or decode_chip_photo
        self._references: dict[str, FaceTemplate | ImageRejected] = {}
        self.encodings = 0

    def reference_unusable(self, photo: bytes) -> bool:
        """True when the chip photo itself gave no template (refused, not decoded, no face)."""
        return isinstance(self.reference(photo), ImageRejected)

    def reference(self, photo: bytes) -> FaceTemplate | ImageRejected:
        """The template of the chip photo (JPEG or JPEG 2000 bytes), cached by its hash."""
        key = hashlib.sha256(photo).hexdigest()
        cached = self._references.get(key)
        if cached is None:
            decoded = self._decoded(photo)
            cached = (
                decoded
                if isinstance(decoded, ImageRejected)
                else self.matcher.template(decoded, FacePurpose.REFERENCE)
            )
            self.encodings += 1
            self._references[key] = cached
        return cached

    def _decoded(self, photo: bytes) -> RgbImage | ImageRejected:
        """JPEG / JPEG 2000 only; a decoder that failed its limits is a typed rejection."""
        try:
            return self.decode(photo, self.max_pixels)
        except ChipPhotoDecodeError as exc:
            return ImageRejected(Rejection.UNREADABLE_IMAGE, exc.detail)

    def verify(self, live: RgbImage | FaceTemplate, photo: bytes) -> Verification | ImageRejected:
        reference = self.reference(photo)
        if isinstance(reference, ImageRejected):
            return reference
        probe = live if isinstance(live, FaceTemplate) else self.matcher.template(live)
        if isinstance(probe, ImageRejected):
            return probe
        return self.matcher.verify(probe, reference)
