"""The dlib models shipped with face_recognition, loaded once, on first use.

``face_recognition.api`` loads the HOG face detector, the 68- and 5-point shape predictors and
the ResNet face encoder when it is imported; importing it here, inside a function, keeps
``import kiosk`` light and lets a missing package give a clear error.
"""

from __future__ import annotations

import functools
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from models.errors import DeviceNotAvailableError


@dataclass(frozen=True)
class DlibModels:
    detector: Any  # dlib.fhog_object_detector
    landmarks68: Any  # dlib.shape_predictor
    landmarks5: Any  # dlib.shape_predictor (what face_recognition encodes with)
    encoder: Any  # dlib.face_recognition_model_v1
    dlib: Any
    lock: threading.Lock  # dlib objects are not documented as thread-safe


_LOADING = threading.Lock()


def dlib_models() -> DlibModels:
    """The one set of models of this process. Guarded by a lock: two threads asking first at
    once (the live capture and the chip photo's template) must get the same objects and the
    same lock, or they would run one dlib detector concurrently (a segmentation fault)."""
    with _LOADING:
        return _load()


@functools.cache
def _load() -> DlibModels:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # face_recognition_models uses pkg_resources
            import dlib
            import face_recognition.api as api
        from PIL import ImageFile

        # face_recognition turns this on for everyone; we refuse truncated images instead
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    except ImportError as exc:
        raise DeviceNotAvailableError(
            "face verification needs the packages face-recognition and dlib-bin"
        ) from exc
    return DlibModels(
        detector=api.face_detector,
        landmarks68=api.pose_predictor_68_point,
        landmarks5=api.pose_predictor_5_point,
        encoder=api.face_encoder,
        dlib=dlib,
        lock=threading.Lock(),
    )
