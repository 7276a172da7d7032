"""What the technician sees of each device: kind, driver, status and last error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hardware.camera import Camera
from hardware.camera_mount import CameraMount
from hardware.chip_reader import ChipReader
from hardware.executor import DeviceBusyError, on_device
from hardware.gate import Gate
from hardware.mrz_reader import MrzReader

DRIVER_NAMES = {
    "SimulatedCamera": "simulated",
    "OpenCvCamera": "opencv",
    "SimulatedChipReader": "simulated",
    "PcscChipReader": "pcsc",
    "SimulatedMrzReader": "simulated",
    "SerialMrzReader": "serial",
    "KeyboardWedgeMrzReader": "keyboard",
    "SimulatedGate": "simulated",
    "SerialGate": "serial",
}


@dataclass(frozen=True)
class DeviceReport:
    kind: str
    driver: str
    status: str
    last_error: str | None
    detail: str = ""

    @property
    def healthy(self) -> bool:
        return self.status in (
            "running",
            "ok",
            "closed",
            "ready",
            "in_use",
            "entry_open",
            "exit_open",
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "driver": self.driver,
            "status": self.status,
            "last_error": self.last_error,
            "detail": self.detail,
        }


def _driver(device: object) -> str:
    name = type(device).__name__
    return DRIVER_NAMES.get(name, name)


def camera_report(camera: Camera) -> DeviceReport:
    resolution = camera.resolution
    detail = f"{resolution[0]}x{resolution[1]}" if resolution else ""
    return DeviceReport("camera", _driver(camera), camera.status.value, camera.last_error, detail)


def chip_reader_report(reader: ChipReader) -> DeviceReport:
    executor = reader.executor
    if executor is not None and executor.hung is not None:  # stuck inside the driver
        detail = f"{reader.name}; a driver call has not returned"
        return DeviceReport("chip_reader", _driver(reader), "hung", "device_hung", detail)
    try:
        present = on_device(reader, reader.card_present, owner="diagnostics", timeout_s=2.0)
        status = "ready"
    except DeviceBusyError:  # a transaction (or a self-test) holds the reader right now
        detail = f"{reader.name}; in use; {reader.stats.apdus} APDUs"
        return DeviceReport("chip_reader", _driver(reader), "in_use", None, detail)
    except Exception as exc:  # a reader that cannot even answer this is offline
        present = False
        status = "offline"
        error = getattr(exc, "code", type(exc).__name__)
        return DeviceReport("chip_reader", _driver(reader), status, error, reader.name)
    detail = f"{reader.name}; card {'present' if present else 'absent'}; {reader.stats.apdus} APDUs"
    return DeviceReport("chip_reader", _driver(reader), status, reader.stats.last_error, detail)


def mrz_reader_report(reader: MrzReader) -> DeviceReport:
    status = reader.status
    detail = f"{reader.scans} scans"
    return DeviceReport(
        "mrz_reader", _driver(reader), status.health.value, status.last_error, detail
    )


def gate_report(gate: Gate) -> DeviceReport:
    status = gate.status
    detail = f"presence {'yes' if status.presence else 'no'}"
    if status.tailgating:
        detail += ", TAILGATING"
    return DeviceReport("gate", _driver(gate), status.state.value, status.last_error, detail)


def camera_mount_report(mount: CameraMount) -> DeviceReport:
    if not mount.motorised:
        return DeviceReport("camera_mount", _driver(mount), "ok", None, "fixed camera")
    position = mount.position
    detail = f"step {position.step} of {position.lowest}..{position.highest}"
    return DeviceReport("camera_mount", _driver(mount), "ready", None, detail)


def device_reports(
    *,
    camera: Camera | None = None,
    chip_reader: ChipReader | None = None,
    mrz_reader: MrzReader | None = None,
    gate: Gate | None = None,
    camera_mount: CameraMount | None = None,
) -> list[DeviceReport]:
    """One report per device given, in a stable order."""
    reports = []
    if camera is not None:
        reports.append(camera_report(camera))
    if chip_reader is not None:
        reports.append(chip_reader_report(chip_reader))
    if mrz_reader is not None:
        reports.append(mrz_reader_report(mrz_reader))
    if gate is not None:
        reports.append(gate_report(gate))
    if camera_mount is not None:
        reports.append(camera_mount_report(camera_mount))
    return reports
