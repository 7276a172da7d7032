"""The face matcher and the live detector, each served by a :class:`FaceWorker` process.

:class:`ProcessFaceMatcher` is a :class:`FaceMatcher` whose templates are made by a
:class:`DlibFaceMatcher` in a ``"matcher"`` worker (detection on the down-scaled image,
landmarks and encoding on the full-resolution crop, exactly as in process); comparing two
templates (a norm of 128 numbers) stays here. :class:`ProcessFaceDetector` runs the HOG
detector of the live tracker (:class:`~kiosk.face.tracker.FaceTracker`) in a ``"detector"``
worker, so the detection every few frames does not hold the GUI process's GIL either.

:func:`handlers_for` is what runs inside a worker: it loads the role's models once and
returns the request handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.face.images import DEFAULT_MAX_PIXELS, ImageRejected, Rejection, RgbImage
from kiosk.face.matcher import Box, FaceMatcher, FacePurpose, FaceTemplate
from kiosk.face.worker import FaceWorker, FaceWorkerError, WorkerClient

MAX_DETECT_PIXELS = 4_000_000  # the tracker sends ~320 px copies; anything this big is a bug


class ProcessFaceMatcher(WorkerClient, FaceMatcher):
    """Makes templates in a worker process; verifies here."""

    def __init__(
        self,
        threshold: float,
        *,
        detect_max_side: int = 320,
        max_detect_side: int = 1280,
        num_jitters: int = 1,
        landmarks: int = 5,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        request_timeout_s: float = 8.0,
        start_timeout_s: float = 60.0,
        start_method: str | None = None,
    ) -> None:
        super().__init__(threshold)
        self.max_pixels = max_pixels
        self.request_timeout_s = request_timeout_s
        self.worker = FaceWorker(
            "matcher",
            {
                "detect_max_side": detect_max_side,
                "max_detect_side": max_detect_side,
                "num_jitters": num_jitters,
                "landmarks": landmarks,
            },
            start_timeout_s=start_timeout_s,
            start_method=start_method,
        )

    def _template(self, image: RgbImage, purpose: FacePurpose) -> FaceTemplate | ImageRejected:
        if image.shape[0] * image.shape[1] > self.max_pixels:
            return ImageRejected(Rejection.UNREADABLE_IMAGE, "too_large")
        answer = self.worker.request("template", (image, purpose.value), self.request_timeout_s)
        if not isinstance(answer, FaceTemplate | ImageRejected):
            raise FaceWorkerError("the face worker sent an unexpected answer")
        return answer


class ProcessFaceDetector(WorkerClient):
    """``detect(gray_or_rgb, upsample) -> boxes`` for the tracker, in a worker process."""

    def __init__(
        self,
        *,
        request_timeout_s: float = 3.0,
        start_timeout_s: float = 60.0,
        start_method: str | None = None,
    ) -> None:
        self.request_timeout_s = request_timeout_s
        self.worker = FaceWorker(
            "detector", start_timeout_s=start_timeout_s, start_method=start_method
        )

    def detect(self, image: npt.NDArray[np.uint8], upsample: int) -> list[Box]:
        """Face boxes (left, top, right, bottom) in ``image`` coordinates, as found."""
        if image.dtype != np.uint8 or image.ndim not in (2, 3) or image.size == 0:
            raise ValueError("the detector takes a non-empty 8-bit gray or RGB image")
        if image.shape[0] * image.shape[1] > MAX_DETECT_PIXELS:
            raise ValueError("image too large for the live detector")
        payload = (np.ascontiguousarray(image), int(upsample))
        answer = self.worker.request("detect", payload, self.request_timeout_s)
        if not isinstance(answer, list):
            raise FaceWorkerError("the face worker sent an unexpected answer")
        return [(int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in answer]


def handlers_for(role: str, settings: dict[str, Any]) -> dict[str, Callable[[Any], Any]]:
    """Inside the worker: load the role's models now and return its request handlers."""
    if role == "matcher":
        from kiosk.face.dlib_models import dlib_models
        from kiosk.face.matcher import DlibFaceMatcher

        dlib_models()
        matcher = DlibFaceMatcher(
            0.6,  # the threshold is applied by the caller; templates do not depend on it
            detect_max_side=int(settings["detect_max_side"]),
            max_detect_side=int(settings["max_detect_side"]),
            num_jitters=int(settings.get("num_jitters", 1)),
            landmarks=5 if int(settings.get("landmarks", 5)) == 5 else 68,
        )

        def template(payload: tuple[RgbImage, str]) -> FaceTemplate | ImageRejected:
            image, purpose = payload
            return matcher.template(image, FacePurpose(purpose))

        return {"template": template}
    if role == "detector":
        import dlib

        detector = dlib.get_frontal_face_detector()

        def detect(payload: tuple[npt.NDArray[np.uint8], int]) -> list[Box]:
            image, upsample = payload
            return [(r.left(), r.top(), r.right(), r.bottom()) for r in detector(image, upsample)]

        return {"detect": detect}
    raise ValueError(f"unknown face worker role {role!r}")
