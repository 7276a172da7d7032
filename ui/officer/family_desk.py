"""Sending the booth's one decision on a family: one resolution per member
(:func:`kiosk.officer.families.resolve_family`) on the window's worker, then what the officer
is told. Members that are hits go first: when their admission must wait for a second officer
(four eyes) the others stay open until it is approved, so nobody of the family is admitted
before the whole family may be."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk.officer.families import FamilyKey, FamilyResolution, covers, hits_first, resolve_family
from kiosk.officer.referrals import OfficerSession
from models.records import ReferralOutcome

if TYPE_CHECKING:
    from ui.officer.window import OfficerWindow


def send_family(
    window: OfficerWindow,
    session: OfficerSession,
    key: FamilyKey,
    outcome: ReferralOutcome,
    note: str,
) -> None:
    action = window.tr_(f"outcome.{outcome.value}")
    hits = {r.key for r in window.page.items if covers(key, r.key) and r.hit}
    ordered = hits_first(key, hits)

    def done(result: Any) -> None:
        assert isinstance(result, FamilyResolution)
        if result.error is not None:
            window._failed(result.error)
        elif result.needs_approval:
            window.ask_approval(result.needs_approval[0])
        else:
            count = len(result.resolutions)
            window.status.setText(window.tr_("family.resolved", action=action, count=count))
        window.refresh()

    window.worker.submit(
        lambda: resolve_family(window.source, session, ordered, outcome, note),
        done,
        window._failed,
    )
