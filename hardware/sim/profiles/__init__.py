"""Shipped passport profiles: genuine documents of several states and defective documents.

Each ``*.toml`` here holds one profile, or several as ``[[profile]]`` tables. A profile with
``base = "<name>"`` starts from that profile's settings (tables are merged key by key).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hardware.sim.profile_model import CHECKS, Profile
from models.errors import ConfigError

PROFILES_DIR = Path(__file__).resolve().parent


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _raw_profiles(directory: Path) -> dict[str, dict[str, Any]]:
    raw: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path.name}: {exc}") from exc
        entries = data.get("profile", [data]) if "profile" in data else [data]
        for entry in entries:
            name = entry.get("name")
            if not isinstance(name, str) or name in raw:
                raise ConfigError(f"{path.name}: profile without a unique name")
            raw[name] = entry
    return raw


def _resolve(
    name: str, raw: dict[str, dict[str, Any]], seen: tuple[str, ...] = ()
) -> dict[str, Any]:
    entry = raw[name]
    base = entry.get("base")
    if base is None:
        return entry
    if base not in raw or base in seen:
        raise ConfigError(f"profile {name}: bad base {base!r}")
    parent = {
        k: v
        for k, v in _resolve(base, raw, (*seen, name)).items()
        if k not in ("expected", "description")
    }
    return _merge(parent, entry)


def load_profiles(directory: Path = PROFILES_DIR) -> dict[str, Profile]:
    raw = _raw_profiles(directory)
    profiles: dict[str, Profile] = {}
    for name in raw:
        try:
            profile = Profile.model_validate(_resolve(name, raw))
        except ValidationError as exc:
            raise ConfigError(f"profile {name}: {exc}") from exc
        check = profile.expected.failed_check
        if check is not None and check not in CHECKS:
            raise ConfigError(f"profile {name}: unknown check {check!r}")
        profiles[name] = profile
    return profiles


@lru_cache(maxsize=1)
def shipped_profiles() -> dict[str, Profile]:
    """The profiles shipped in this package (loaded once)."""
    return load_profiles(PROFILES_DIR)


def get_profile(name: str) -> Profile:
    profiles = shipped_profiles()
    if name not in profiles:
        raise ConfigError(f"no passport profile {name!r} (see `kiosk sim profiles`)")
    return profiles[name]
