"""Kiosks (mutual TLS) send a referral's chip photo and best live frame; the server keeps them
sealed (:mod:`server.photos`) until the referral is resolved plus the retention."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import Field, StringConstraints

from server.api.schemas import (
    BatchResult,
    Identifier,
    ItemOutcome,
    ItemResult,
    Strict,
    error_responses,
)
from server.photos import PhotoError, decode_image
from server.security.identity import DeviceIdentity, require_device
from server.state import ServerState, server_state

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1/kiosk", tags=["kiosk (mutual TLS)"], responses=error_responses(401, 403, 413, 422)
)
Base64Image = Annotated[str, StringConstraints(min_length=4, max_length=2_100_000)]
MAX_ITEMS = 4


class PhotoIn(Strict):
    transaction_id: Identifier
    kiosk_id: Identifier
    chip_portrait: Base64Image | None = None
    live_frame: Base64Image | None = None


class PhotoBatch(Strict):
    items: list[PhotoIn] = Field(min_length=1, max_length=MAX_ITEMS)


@router.post("/referral-photos", response_model=BatchResult, summary="a referral's photos")
def post_photos(
    batch: PhotoBatch,
    device: DeviceIdentity = Depends(require_device),
    state: ServerState = Depends(server_state),
) -> BatchResult:
    """Idempotent by (kiosk, transaction id) and kind. An image that is not a JPEG, PNG or JPEG 2000
    (or too large) refuses the batch with 422 naming the item."""
    if any(item.kiosk_id != device.name for item in batch.items):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only this device's referrals")
    decoded: list[tuple[PhotoIn, dict[str, bytes]]] = []
    for index, item in enumerate(batch.items):
        images = {}
        for kind, text in (("chip_portrait", item.chip_portrait), ("live_frame", item.live_frame)):
            if text is None:
                continue
            try:
                images[kind] = decode_image(text)
            except PhotoError as exc:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"items[{index}].{kind}: {exc}"
                ) from exc
        decoded.append((item, images))
    vault = state.photos
    if vault is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="no photo key")
    results = []
    with state.database.session() as session:
        for item, images in decoded:
            stored = [
                vault.store(session, item.transaction_id, item.kiosk_id, kind, data)
                for kind, data in images.items()
            ]
            outcome = ItemOutcome.ACCEPTED if any(stored) else ItemOutcome.DUPLICATE
            results.append(ItemResult(transaction_id=item.transaction_id, outcome=outcome))
    accepted = sum(1 for r in results if r.outcome is ItemOutcome.ACCEPTED)
    log.info("device %s: photos of %d referrals, %d new", device.name, len(results), accepted)
    return BatchResult(accepted=accepted, duplicates=len(results) - accepted, items=results)
