"""What the face workers' fork server imports once (``multiprocessing`` forkserver preload).

A matcher or detector worker is forked from that server with dlib, face_recognition's models,
OpenCV and our face modules already imported, instead of importing them afresh in a new
interpreter (about 2 s of CPU a worker, four workers a kiosk). The fork server is a clean
single-threaded process started for the purpose, never the kiosk process itself, so no
thread of the kiosk is ever forked. The chip photo decoder is not forked from it: that worker
keeps a fresh interpreter with Pillow only (:mod:`kiosk.face.photo_decoder`).
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # face_recognition_models uses pkg_resources
    try:
        import cv2  # noqa: F401
        import dlib  # noqa: F401
        import face_recognition.api  # noqa: F401  (loads the models once)
    except ImportError:  # a worker then reports the missing package itself
        pass

from PIL import ImageFile

# face_recognition turns this on for everyone; we refuse truncated images instead
ImageFile.LOAD_TRUNCATED_IMAGES = False

import kiosk.face.matcher  # noqa: E402
import kiosk.face.remote  # noqa: E402, F401
