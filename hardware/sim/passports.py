"""Simulated passports by profile name: the one place to get a personalised chip.

    factory = PassportFactory(cache_dir)            # e.g. <data_dir>/sim
    image = factory.chip_image("lca-genuine")       # ChipImage for the emulator
    factory.pki.trust_anchor_paths(), factory.pki.crl_paths(), factory.pki.master_list_path

The test PKI is built under ``<cache_dir>/pki`` on first use (keys cached in
``<cache_dir>/pki/keys``), and each chip image under ``<cache_dir>/images/<pki build id>/``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any

from hardware.sim.chip_image import ChipImage
from hardware.sim.chip_image_store import load_image, save_image
from hardware.sim.defects import apply_defect
from hardware.sim.personalise import FACES_DIR, Plan, build_image, plan_for, printed_mrz
from hardware.sim.pki.suites import DEFAULT_COUNTRIES
from hardware.sim.pki.test_pki import TestPki
from hardware.sim.profile_model import Profile
from hardware.sim.profiles import get_profile, shipped_profiles
from models.errors import ConfigError

log = logging.getLogger(__name__)


def defect_plan(profile: Profile) -> Plan:
    """The personalisation plan of ``profile`` with its defect applied."""
    plan = plan_for(profile)
    apply_defect(plan)
    return plan


def profile_summary(profile: Profile) -> dict[str, Any]:
    """What ``kiosk sim profiles --json`` prints for one profile."""
    plan = defect_plan(profile)
    return {
        "name": profile.name,
        "genuine": profile.genuine,
        "defect": profile.defect,
        "description": profile.description,
        "mrz": printed_mrz(plan),
        "can": profile.chip.can,
        "access": {"bac": profile.chip.bac, "pace": bool(profile.chip.pace)},
        "expected": profile.expected.model_dump(),
    }


def profile_listing() -> list[dict[str, Any]]:
    return [profile_summary(p) for p in shipped_profiles().values()]


class PassportFactory:
    """Builds (once) and caches the test PKI and the chip image of every shipped profile."""

    def __init__(
        self,
        cache_dir: Path,
        countries: tuple[str, ...] = DEFAULT_COUNTRIES,
        key_dir: Path | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self._countries = countries
        self._key_dir = key_dir
        self._pki: TestPki | None = None
        self._images: dict[str, ChipImage] = {}
        self._lock = threading.Lock()

    @property
    def pki(self) -> TestPki:
        with self._lock:
            if self._pki is None:
                needed = set(self._countries) | {
                    defect_plan(p).signer_country for p in shipped_profiles().values()
                }
                ordered = tuple(self._countries) + tuple(sorted(needed - set(self._countries)))
                self._pki = TestPki.ensure(self.cache_dir / "pki", ordered, self._key_dir)
            return self._pki

    def _image_path(self, profile: Profile) -> Path:
        # The face file's content is part of the key: a new portrait personalises again.
        hasher = hashlib.sha256(profile.model_dump_json().encode())
        face = FACES_DIR / profile.face.image
        if face.is_file():
            hasher.update(face.read_bytes())
        digest = hasher.hexdigest()[:16]
        return self.cache_dir / "images" / self.pki.build_id / f"{profile.name}-{digest}.json"

    def chip_image(self, name: str) -> ChipImage:
        """The personalised chip of profile ``name`` (built on first use, then cached)."""
        profile = get_profile(name)
        if name in self._images:
            return self._images[name]
        path = self._image_path(profile)
        image: ChipImage | None = None
        if path.exists():
            try:
                image = load_image(path)
            except ConfigError:
                log.warning("cached chip image unreadable; personalising again")
        if image is None:
            image = build_image(defect_plan(profile), self.pki)
            save_image(path, image)
        self._images[name] = image
        return image

    def printed_mrz(self, name: str) -> str:
        """The MRZ printed on the data page (what an MRZ reader gives the chip reader)."""
        return printed_mrz(defect_plan(get_profile(name)))
