"""Points a motorised camera mount at the traveller's face while the capture frames it.

One :class:`MountAim` per capture (it keeps only what that capture saw). A face found too low
in the frame moves the mount a step down, too high a step up, and the next frames wait for
the mechanism to settle. A face still low once the mount is at its lowest step is a child or
a seated traveller: the screen is told to switch to the seated layout (the guidance code
``seated_layout``), once per capture. Every move runs on the mount's own device thread; a
mount that fails is left where it is for the rest of the capture (degraded, logged), and the
capture goes on.
"""

from __future__ import annotations

import logging
import time

from hardware.camera_mount import CameraMount
from hardware.executor import CancelToken
from kiosk.face.quality import FrameQuality
from kiosk.session.steps import GuidanceSink

log = logging.getLogger(__name__)

SEATED_LAYOUT = "seated_layout"
SEATED_MESSAGE = "The screen has moved down for you. Please look at the camera."


class MountAim:
    def __init__(
        self,
        mount: CameraMount | None,
        guidance: GuidanceSink,
        cancel: CancelToken,
        *,
        band: float = 0.12,
        settle_s: float = 0.4,
    ) -> None:
        self.mount = mount if mount is not None and mount.motorised else None
        self.guidance = guidance
        self.cancel = cancel
        self.band = band  # a face within this of the middle (of the height) is aimed at
        self.settle_s = settle_s
        self._settled_at = 0.0
        self.seated = False
        self.moves = 0
        self._aimed = False

    @property
    def aimed(self) -> bool:
        """Nothing left to do: no motorised mount, the face within the band, or the mount at
        the end of its range (the capture may go on to the challenge)."""
        return self.mount is None or self._aimed

    def observe(self, quality: FrameQuality) -> None:
        mount = self.mount
        if mount is None or quality.faces != 1 or time.monotonic() < self._settled_at:
            return
        offset = quality.vertical_offset
        position = mount.position
        self._aimed = False
        if offset > self.band:
            if position.at_lowest:
                self._seated()
                self._aimed = True
            else:
                self._step(mount, -1)
        elif offset < -self.band:
            if position.at_highest:
                self._aimed = True
            else:
                self._step(mount, +1)
        else:
            self._aimed = True

    def _seated(self) -> None:
        if not self.seated:
            self.seated = True
            log.info("face low with the camera at its lowest: seated layout")
            self.guidance(SEATED_LAYOUT, SEATED_MESSAGE)

    def _step(self, mount: CameraMount, steps: int) -> None:
        executor = mount.executor
        try:
            if executor is None or executor.on_thread():
                mount.step(steps)
            else:
                executor.call(mount.step, steps, token=self.cancel, timeout_s=5.0)
        except Exception as exc:
            log.warning("camera mount degraded: %s", getattr(exc, "code", type(exc).__name__))
            self.mount = None
            return
        self.moves += 1
        self._settled_at = time.monotonic() + self.settle_s
