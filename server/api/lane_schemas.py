"""Bodies of the lane wall: what a kiosk reports of its lane, the remote actions of the booth."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from server.api.schemas import Counter, Label32, Label64, Strict, Text500, UtcTime

STEPS = ("waiting", "document", "chip", "face", "decision", "passage", "referral", "offline")
DOORS = ("closed", "entry_open", "exit_open", "emergency", "fault", "unknown")


class LaneEventIn(Strict):
    """The lane's state after an event (a step entered, a cause set, a door moved)."""

    seq: Counter
    event_at: UtcTime
    step: Literal["waiting", "document", "chip", "face", "decision", "passage", "referral"]
    in_service: bool
    causes: list[Label32] = Field(default_factory=list, max_length=16)
    door: Literal["closed", "entry_open", "exit_open", "emergency", "fault", "unknown"]
    assistance: bool = False
    site: Label64 | None = None


class LaneAction(StrEnum):
    HOLD = "hold"
    OUT_OF_SERVICE = "out_of_service"
    RETURN_TO_SERVICE = "return_to_service"
    RELEASE_DOORS = "release_doors"  # reset the gate after an emergency release
    ACKNOWLEDGE_ASSISTANCE = "acknowledge_assistance"


class LaneActionIn(Strict):
    action: LaneAction
    note: Text500 = ""


class LaneCommandOut(BaseModel):
    id: int
    action: LaneAction
    issued_by: str
    issued_at: Any


class LaneCommandList(BaseModel):
    items: list[LaneCommandOut]


class CommandResultIn(Strict):
    id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    result: Label64


class CommandAckIn(Strict):
    items: list[CommandResultIn] = Field(min_length=1, max_length=100)


class LaneTileList(BaseModel):
    items: list[dict[str, Any]]


class ActionOut(BaseModel):
    id: int
    lane: str
    action: LaneAction
    note_chars: int = 0
    detail: Text500 = ""
