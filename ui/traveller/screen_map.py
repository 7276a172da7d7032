"""Which screens the traveller window has and which engine state shows which screen."""

from __future__ import annotations

from kiosk.session.events import State

SCREENS = (
    "welcome",
    "passport",
    "chip",
    "camera",
    "liveness",
    "wait",
    "proceed",
    "officer",
    "cancelled",
    "again",
    "family_next",
)
RESULT_SCREENS = ("proceed", "officer", "cancelled")
QWIDGETSIZE_MAX = 16_777_215  # Qt's "no maximum" for a widget's size
SPOKEN_SCREENS = SCREENS[1:]  # all but the welcome screen, which waits for nobody
STEPS = (
    ("step.passport", ("passport", "family_next")),
    ("step.chip", ("chip",)),
    ("step.face", ("camera", "liveness")),
    ("step.result", ("wait", "proceed", "officer")),
)
STATE_SCREENS: dict[str, str] = {
    State.DOCUMENT.value: "chip",
    State.CHIP.value: "chip",
    State.FACE_CAPTURE.value: "camera",
    State.RETRY.value: "camera",
    State.LIVENESS.value: "liveness",
    State.MATCHING.value: "wait",
    State.SCREENING.value: "wait",
    State.DECISION.value: "wait",
    State.GATE.value: "proceed",
    State.DONE.value: "proceed",
    State.REFER.value: "officer",
    State.CANCELLED.value: "cancelled",
    State.PLACE_AGAIN.value: "again",
    State.FAMILY_NEXT.value: "family_next",
}
# Guidance that explains why the passport must be placed again (shown on the "again" screen)
READ_AGAIN_CODES = frozenset({"document_unreadable", "chip_unreadable"})
