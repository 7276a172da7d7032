"""The chip photo (DG2) decoded in a worker process of its own, within a time limit.

The chip chose those bytes. :mod:`kiosk.face.chip_photo` refuses anything but JPEG and JPEG
2000 and anything that declares more than a portrait's pixels before a pixel is decoded; what
is left still runs a C decoder (libjpeg, OpenJPEG) on hostile input. So the decoding itself
happens in a ``"decoder"`` :class:`~kiosk.face.worker.FaceWorker` (a spawned interpreter that
loads Pillow's two plugins and nothing else, with an address-space limit):

- the header checks run here first, so a refused image never crosses the pipe;
- a decode that takes longer than ``timeout_s`` is a :class:`ChipPhotoDecodeError`
  (``decode_timeout``), a worker that crashes or runs out of memory one with
  ``decoder_crashed`` / ``decoder_failed``; the worker is killed and a new one started at once;
- :class:`~kiosk.face.matcher.VerificationTransaction` turns that error into a typed
  rejection of the chip photo (``chip_photo_unusable``): the traveller is referred, the kiosk
  carries on.

:func:`kiosk.app.build_kiosk` starts one decoder with the kiosk and closes it at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from kiosk.face.chip_photo import MAX_PORTRAIT_PIXELS, check_chip_photo, decode_chip_photo
from kiosk.face.images import ImageRejected, RgbImage
from kiosk.face.worker import (
    FaceWorker,
    FaceWorkerDied,
    FaceWorkerError,
    FaceWorkerTimeout,
    WorkerClient,
)
from models.errors import ParseError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 3.0
# how far the decoder's address space may grow past what it holds once Pillow is loaded: a 3 MP
# portrait is 9 MB of RGB pixels and OpenJPEG needs a few times that while it decodes
DEFAULT_MEMORY_LIMIT_MB = 512


class ChipPhotoDecodeError(ParseError):
    """The chip photo could not be decoded within the decoder's limits."""

    code = "chip_photo_decode_failed"

    def __init__(self, message: str, *, detail: str) -> None:
        super().__init__(message)
        self.detail = detail  # decode_timeout | decoder_crashed | decoder_failed | ...


class ChipPhotoDecoder(WorkerClient):
    """Decodes chip photos in a worker process; thread-safe (one decode at a time)."""

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB,
        start_timeout_s: float = 60.0,
        start_method: str = "spawn",
    ) -> None:
        self.timeout_s = timeout_s
        self.worker = FaceWorker(
            "decoder",
            {"memory_limit_mb": memory_limit_mb},
            start_timeout_s=start_timeout_s,
            start_method=start_method,
        )

    def decode(
        self, data: bytes, max_pixels: int = MAX_PORTRAIT_PIXELS
    ) -> RgbImage | ImageRejected:
        """The chip photo as RGB or why it was refused (a value); a decode the worker could
        not finish within its limits raises :class:`ChipPhotoDecodeError`."""
        limit = min(max_pixels, MAX_PORTRAIT_PIXELS)
        refused = check_chip_photo(data, limit)
        if refused is not None:
            return refused
        try:
            answer = self.worker.request("decode", (bytes(data), limit), self.timeout_s)
        except FaceWorkerTimeout as exc:
            log.warning(
                "chip photo decoder: no answer within %.1f s, worker replaced", self.timeout_s
            )
            raise ChipPhotoDecodeError(
                "chip photo decode timed out", detail="decode_timeout"
            ) from exc
        except FaceWorkerDied as exc:
            log.warning("chip photo decoder: the worker died during a decode, replaced")
            raise ChipPhotoDecodeError(
                "chip photo decoder crashed", detail="decoder_crashed"
            ) from exc
        except FaceWorkerError as exc:
            log.warning("chip photo decoder failed: %s", exc)
            raise ChipPhotoDecodeError(
                "chip photo decoder failed", detail="decoder_failed"
            ) from exc
        return _checked(answer, limit)


def _checked(answer: Any, limit: int) -> RgbImage | ImageRejected:
    """What the worker sent, held to what it may be: a rejection, or an RGB image no larger
    than the limit (a worker that answers anything else is not believed)."""
    if isinstance(answer, ImageRejected):
        return answer
    if (
        isinstance(answer, np.ndarray)
        and answer.dtype == np.uint8
        and answer.ndim == 3
        and answer.shape[2] == 3
        and 0 < answer.shape[0] * answer.shape[1] <= limit
    ):
        return answer
    raise ChipPhotoDecodeError("chip photo decoder sent an unexpected answer", detail="bad_answer")


def decoder_handlers(settings: dict[str, Any]) -> dict[str, Callable[[Any], Any]]:
    """Inside the worker: cap the address space, load the two Pillow plugins, and answer
    ``decode`` requests with :func:`decode_chip_photo` (the same checks again, then Pillow)."""
    from PIL import Jpeg2KImagePlugin, JpegImagePlugin  # noqa: F401  (loaded before any request)

    growth_mb = int(settings.get("memory_limit_mb", DEFAULT_MEMORY_LIMIT_MB))
    if growth_mb > 0:
        _limit_address_space(growth_mb * 1024 * 1024)

    def decode(payload: tuple[bytes, int]) -> RgbImage | ImageRejected:
        data, max_pixels = payload
        return decode_chip_photo(bytes(data), int(max_pixels))

    return {"decode": decode}


def _limit_address_space(growth: int) -> None:
    """RLIMIT_AS = the address space now + ``growth``: an image that needs more fails with a
    MemoryError in the worker (a ``decoder_failed`` answer), never swaps the kiosk out."""
    import resource

    size = 0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    size = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        size = 0
    limit = size + growth
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
