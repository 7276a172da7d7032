"""What the kiosk tells the server in its heartbeat: one status word and a line per device.

``fault``: the lane is out of service for a device, storage, trust, list or clock cause, or
the gate is faulted (doors latched closed) or in emergency release;
``maintenance``: taken out by the technician or the booth; ``degraded``: in service, but a
device is not as it should be (camera reconnecting, the gate's watchdog not armed);
``ok`` otherwise. The device lines are short codes, never personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardware.camera import CameraStatus
from hardware.gate import GateState
from kiosk.lane import LaneCause

if TYPE_CHECKING:
    from kiosk.app import Kiosk
    from kiosk.clock_watch import ClockWatch

MAINTENANCE = {LaneCause.TECHNICIAN, LaneCause.REMOTE_HOLD, LaneCause.REMOTE_OUT_OF_SERVICE}
MAX_TEXT = 64


def kiosk_status(kiosk: Kiosk, clock: ClockWatch | None = None) -> tuple[str, dict[str, str]]:
    devices = kiosk.devices
    gate = devices.gate.status
    lane = kiosk.lane.status()
    lines = {
        "gate": gate.state.value + (f" ({gate.last_error})" if gate.last_error else ""),
        "camera": devices.camera.status.value,
        "chip_reader": "card" if devices.chip_reader.connected else "idle",
        "lane": "in_service"
        if lane.in_service
        else ",".join(f"{f.cause.value}:{f.key}" if f.key else f.cause.value for f in lane.faults),
    }
    watchdog = getattr(devices.gate, "watchdog_armed", None)
    if watchdog is not None:
        lines["gate_watchdog"] = "armed" if watchdog else "not_armed"
    if clock is not None and clock.alarm:
        lines["clock"] = clock.alarm
    if not lane.in_service:
        status = "maintenance" if set(lane.causes) <= MAINTENANCE else "fault"
    elif gate.state in (GateState.FAULT, GateState.EMERGENCY):
        status = "fault"  # the doors are latched closed, or released
    elif devices.camera.status is not CameraStatus.RUNNING or watchdog is False:
        status = "degraded"
    else:
        status = "ok"
    return status, {key: value[:MAX_TEXT] for key, value in lines.items()}
