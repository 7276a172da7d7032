"""Chip images as JSON files, so personalised chips are built once and reused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hardware.sim.chip_image import ChipBehaviour, ChipImage, PaceParameters
from models.errors import ConfigError


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def image_to_json(image: ChipImage) -> dict[str, Any]:
    return {
        "application_files": {f"{fid:04X}": _b64(d) for fid, d in image.application_files.items()},
        "master_files": {f"{fid:04X}": _b64(d) for fid, d in image.master_files.items()},
        "mrz_information": image.mrz_information,
        "can": image.can,
        "bac": image.bac,
        "pace": [
            {"protocol_oid": p.protocol_oid, "parameter_id": p.parameter_id} for p in image.pace
        ],
        "aa_private_key": _b64(image.aa_private_key) if image.aa_private_key else None,
        "ca_private_keys": [
            {"key_id": key_id, "key": _b64(key)} for key_id, key in image.ca_private_keys.items()
        ],
        "behaviour": {
            "stop_after_bytes_read": image.behaviour.stop_after_bytes_read,
            "mute": image.behaviour.mute,
            "unprotected_not_found_fid": image.behaviour.unprotected_not_found_fid,
        },
        "atr": image.atr.hex(),
        "extended_length": image.extended_length,
    }


def image_from_json(data: dict[str, Any]) -> ChipImage:
    try:
        return ChipImage(
            application_files={int(k, 16): _unb64(v) for k, v in data["application_files"].items()},
            master_files={int(k, 16): _unb64(v) for k, v in data["master_files"].items()},
            mrz_information=str(data["mrz_information"]),
            can=data["can"],
            bac=bool(data["bac"]),
            pace=[PaceParameters(p["protocol_oid"], int(p["parameter_id"])) for p in data["pace"]],
            aa_private_key=_unb64(data["aa_private_key"]) if data["aa_private_key"] else None,
            ca_private_keys={k["key_id"]: _unb64(k["key"]) for k in data["ca_private_keys"]},
            behaviour=ChipBehaviour(**data["behaviour"]),
            atr=bytes.fromhex(data["atr"]),
            extended_length=bool(data.get("extended_length", True)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"stored chip image is invalid ({exc.__class__.__name__})") from exc


def save_image(path: Path, image: ChipImage) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(image_to_json(image)))
    tmp.replace(path)


def load_image(path: Path) -> ChipImage:
    try:
        return image_from_json(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot load chip image ({exc.__class__.__name__})") from exc
