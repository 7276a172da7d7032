"""Sending a referral's photos as the kiosk's relay does, for tests that admit a face
mismatch (the server refuses one admitted before the officer looked at the photos)."""

from __future__ import annotations

import base64

from kiosk.config import KioskConfig
from kiosk.officer.samples import FACES
from kiosk.sync.client import ServerClient


def _b64(name: str) -> str:
    return base64.b64encode((FACES / name).read_bytes()).decode("ascii")


def send_referral_photos(config: KioskConfig, transaction_id: str) -> None:
    """The chip photo and a live frame of one of this kiosk's referrals."""
    item = {
        "transaction_id": transaction_id,
        "kiosk_id": config.kiosk_id,
        "chip_portrait": _b64("rose_1.jpg"),
        "live_frame": _b64("kit_1.jpg"),
    }
    with ServerClient(config.sync) as client:
        client.post_batch("referral-photos", [item])
