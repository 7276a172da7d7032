"""Bodies of the referral workflow: claims, four-eyes approvals, photos."""

from __future__ import annotations

from pydantic import BaseModel

from server.api.schemas import Note2000, ReferralOut, Strict


class ApprovalIn(Strict):
    """The second officer's answer to an admission awaiting approval."""

    approve: bool
    note: Note2000


class ResolutionResult(ReferralOut):
    """The referral after a resolution: ``resolved``, or ``pending_approval`` when a second
    officer must approve the admission (four eyes)."""

    needs_approval: bool = False


class PhotosOut(BaseModel):
    """The referral's photos, base64 (JPEG, PNG or JPEG 2000 as the kiosk had them)."""

    transaction_id: str
    chip_portrait: str | None
    live_frame: str | None
    purged: bool
