"""What a face record yields, whichever standard encoded it."""

from __future__ import annotations

from dataclasses import dataclass, field

ISO19794_5 = "iso19794-5"
ISO39794_5 = "iso39794-5"


@dataclass(frozen=True)
class FaceImage:
    """One face image of DG2 with the metadata its record carries."""

    image: bytes
    image_format: str  # "jpeg", "jpeg2000" or "unknown", from the image bytes themselves
    record_format: str  # ISO19794_5 or ISO39794_5
    width: int | None = None
    height: int | None = None
    gender: str | None = None
    eye_colour: str | None = None
    hair_colour: str | None = None
    expression: str | None = None
    pose_angles: tuple[int | None, int | None, int | None] | None = None  # yaw, pitch, roll (deg)
    metadata: dict[str, int | str] = field(default_factory=dict)
