"""Encoder settings per side of a comparison: the chip photo and the live frame.

A border comparison is asymmetric. The chip photo's template is made once per traveller,
while the traveller walks to the camera and is captured, so a dearer encoder costs the
transaction nothing; the live frame's template lies on the accepted transaction's critical
path, so it must be cheap. :class:`EncoderSettings` is one side's encoder (jitters and
alignment landmarks); :class:`SidedFaceMatcher` is a :class:`~kiosk.face.matcher.FaceMatcher`
that hands a ``REFERENCE`` image to one matcher and a ``LIVE`` image to another (each may run
in its own worker process), and compares their templates against the one threshold. The
threshold must be calibrated on the same pair of settings (``kiosk face calibrate
--reference-jitters N --live-jitters M``): distances between templates made with different
settings are not distances between templates made with one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kiosk.face.images import ImageRejected, RgbImage
from kiosk.face.matcher import FaceMatcher, FacePurpose, FaceTemplate


@dataclass(frozen=True)
class EncoderSettings:
    """One side's encoder: ``num_jitters`` jittered copies averaged, aligned on 5 or 68
    landmarks."""

    num_jitters: int = 1
    landmarks: Literal[5, 68] = 68

    def __post_init__(self) -> None:
        if self.num_jitters < 1 or self.landmarks not in (5, 68):
            raise ValueError("num_jitters >= 1 and landmarks 5 or 68")

    @property
    def label(self) -> str:
        """A short name of the setting, for file names and reports: ``j3-l68``."""
        return f"j{self.num_jitters}-l{self.landmarks}"


class SidedFaceMatcher(FaceMatcher):
    """Chip photos to ``reference``, live frames to ``live``; one threshold for both."""

    def __init__(self, threshold: float, *, reference: FaceMatcher, live: FaceMatcher) -> None:
        super().__init__(threshold)
        self.sides = {FacePurpose.REFERENCE: reference, FacePurpose.LIVE: live}

    def _template(self, image: RgbImage, purpose: FacePurpose) -> FaceTemplate | ImageRejected:
        return self.sides[purpose].template(image, purpose)

    def close(self) -> None:
        closed: list[FaceMatcher] = []
        for side in self.sides.values():
            if not any(side is done for done in closed):
                side.close()
                closed.append(side)
