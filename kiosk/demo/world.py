"""The simulated world of the demo: passports, trust anchors, lists and devices per scenario.

The demo is a configuration of the real kiosk: each scenario's kiosk is built by the one
composition root (``kiosk.app.build_kiosk``) from a configuration naming simulated devices,
and the test PKI's CSCA, link certificates and CRLs are imported into the demo kiosk's trust
store with the importer ``kiosk trust import`` uses, the way an operator imports a master
list. The MRZ reader presents the printed MRZ, the chip reader holds the personalised chip,
the camera plays the scenario's scene and the gate lets the traveller through. The decision is
whatever the real pipeline, policy and engine reach; nothing here knows the expected answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hardware.config import (
    DevicesConfig,
    SimulatedCameraConfig,
    SimulatedChipReaderConfig,
    SimulatedGateConfig,
    SimulatedMrzReaderConfig,
)
from hardware.sim.chip import PassportChip
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from hardware.sim.passports import PassportFactory
from hardware.sim.personalise import FACES_DIR
from hardware.sim.profiles import get_profile
from kiosk.app import Kiosk, KioskRuntime, build_kiosk
from kiosk.config import KioskConfig
from kiosk.demo.disturbances import (
    NOBODY_ENTERS_WAIT_S,
    Disturbance,
    arm,
    mantrap_violations,
)
from kiosk.demo.scenarios import LIVE_FACE, Scenario
from kiosk.logs import transaction_context
from kiosk.screening.importers import ListKind
from kiosk.screening.lost_stolen import DocumentKey
from kiosk.screening.manifest import ManifestEntry
from kiosk.screening.matching import PartialDate
from kiosk.screening.store import ScreeningStore
from kiosk.screening.watchlist import WatchlistEntry
from kiosk.session.events import Decided, Finished, SessionEvent
from kiosk.session.steps import Outcome
from kiosk.storage.database import open_database
from kiosk.storage.key_setup import init_keys
from kiosk.trust.importer import ImportSummary, import_files
from kiosk.trust.store import TrustStore

log = logging.getLogger(__name__)

# The vetted manifest entry as the central server publishes it (server/vetting/publish.py):
# its status and the reasons the officer reads. The name is only on the server's regional
# watchlist, so the kiosk's own screening finds nothing: the referral is the vetting's.
VETTING_OF_SCENARIO: dict[str | None, tuple[str, tuple[str, ...]]] = {
    "vetted-cleared": ("cleared", ()),
    "vetted-referred": (
        "refer",
        ("watchlist: regional watchlist, score 0.97 (birth date exact, nationality exact)",),
    ),
}

LIVE_DIR = FACES_DIR / "live"

# People on the demo's baseline lists: nobody the scenarios present, unless a scenario adds them.
_BASELINE_WATCHLIST = [
    WatchlistEntry("WL-0001", "demo", "KOWALSKI", "PIOTR", PartialDate(1975, 4, 2), "POL"),
    WatchlistEntry("WL-0002", "demo", "DUVAL", "JEAN MARC", PartialDate(1969), "FRA"),
    WatchlistEntry("WL-0003", "demo", "OKAFOR", "CHIDI", PartialDate(1990, 11, 30), "NGA"),
]
_BASELINE_LOST = [DocumentKey.of("JAM", "P", "JX0000001"), DocumentKey.of("LCA", "P", "LC0000042")]


@dataclass
class ScenarioResult:
    scenario: str
    expected: str
    expected_reasons: tuple[str, ...]
    decision: str | None
    reasons: tuple[str, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    outcome: str | None = None
    expected_outcome: str | None = None
    door_problems: tuple[str, ...] = ()  # the gate's commands against the two-door order

    @property
    def as_expected(self) -> bool:
        return (
            (self.decision or "none") == self.expected
            and set(self.expected_reasons) <= set(self.reasons)
            and (self.expected_outcome is None or self.outcome == self.expected_outcome)
            and not self.door_problems
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "expected": self.expected,
            "expected_reasons": list(self.expected_reasons),
            "decision": self.decision,
            "reasons": list(self.reasons),
            "outcome": self.outcome,
            "expected_outcome": self.expected_outcome,
            "door_problems": list(self.door_problems),
            "as_expected": self.as_expected,
            "timings_ms": self.timings_ms,
        }


def live_face(scenario: Scenario) -> Path:
    if scenario.live_face is not None:
        return LIVE_DIR / scenario.live_face
    chip_face = get_profile(scenario.profile).face.image
    return LIVE_DIR / LIVE_FACE.get(chip_face, chip_face)


def scene_config(scenario: Scenario, fps: float = 30.0) -> SimulatedCameraConfig:
    """The simulated camera playing ``scenario``'s scene with its traveller's live face."""
    return SimulatedCameraConfig.model_validate(
        {"scene": scenario.scene, "face_image": live_face(scenario), "fps": fps}
    )


def demo_devices(scenario: Scenario, camera_fps: float = 30.0) -> DevicesConfig:
    """The demo's devices: every one simulated, the camera playing ``scenario``."""
    return DevicesConfig(
        chip_reader=SimulatedChipReaderConfig(),
        mrz_reader=SimulatedMrzReaderConfig(),
        camera=scene_config(scenario, camera_fps),
        gate=SimulatedGateConfig(auto_passage=True),
    )


class DemoWorld:
    """Builds the shared parts once (test PKI, passports, the trust store's import) and runs
    scenarios."""

    def __init__(
        self, config: KioskConfig, *, camera_fps: float = 30.0, import_trust: bool = True
    ) -> None:
        self.config = config
        self.camera_fps = camera_fps
        self.factory = PassportFactory(config.data_dir / "sim")
        # as an operator sets a kiosk up: keys first (`kiosk db init-keys`), then the trust
        config.data_dir.mkdir(parents=True, exist_ok=True)
        init_keys(config)
        self.trust_import = self.import_trust() if import_trust else None

    def trust_files(self) -> list[Path]:
        """The test PKI's trust files: CSCA and link certificates first, then the CRLs."""
        pki = self.factory.pki
        return [*pki.trust_anchor_paths(), *pki.crl_paths()]

    def import_trust(self) -> ImportSummary:
        """Import the test PKI into the demo kiosk's trust store (idempotent)."""
        with open_database(self.config) as database:
            summary = import_files(self.trust_files(), TrustStore(database))
        if summary.rejected:
            log.warning("demo trust import: %d rejected", len(summary.rejected))
        return summary

    def kiosk_config(self, scenario: Scenario, **face: object) -> KioskConfig:
        """The demo kiosk's configuration for ``scenario``: simulated devices."""
        return self.config.model_copy(
            update={
                "devices": demo_devices(scenario, self.camera_fps),
                "face": self.config.face.model_copy(update=face),
            }
        )

    def _lists(self, kiosk: Kiosk, scenario: Scenario) -> None:
        profile = get_profile(scenario.profile)
        doc = profile.document
        store = ScreeningStore(kiosk.database)
        lost = list(_BASELINE_LOST)
        if scenario.lost_stolen:
            lost.append(DocumentKey.of(doc.issuing_state, "P", doc.document_number))
        store.replace(ListKind.LOST_STOLEN, [lost])
        watch = list(_BASELINE_WATCHLIST)
        if scenario.watchlist:
            birth = doc.birth_date
            watch.append(
                WatchlistEntry(
                    "WL-0100",
                    "demo",
                    doc.surname,
                    doc.given_names,
                    PartialDate(birth.year, birth.month, birth.day),
                    doc.nationality,
                )
            )
        store.replace(ListKind.WATCHLIST, [watch])
        if scenario.manifest is not None:
            today = dt.date.today()
            other = ManifestEntry(
                "BAPTISTE",
                "LOUIS",
                "LC5550001",
                "LCA",
                "LCA",
                dt.date(1970, 1, 5),
                "M",
                dt.date(2031, 1, 1),
                "LI321",
                today,
            )
            entries = [other]
            vetting = VETTING_OF_SCENARIO.get(scenario.manifest)
            if scenario.manifest == "with" or vetting is not None:
                entries.append(
                    ManifestEntry(
                        doc.surname,
                        doc.given_names,
                        doc.document_number,
                        doc.issuing_state,
                        doc.nationality,
                        doc.birth_date,
                        doc.sex,
                        doc.expiry_date,
                        "LI321",
                        today,
                        *(vetting or ()),
                    )
                )
            store.replace(ListKind.MANIFEST, [entries])
        else:
            store.replace(ListKind.MANIFEST, [])
        kiosk.reload_lists()

    def run(self, scenario: Scenario, timeout_s: float = 120.0) -> ScenarioResult:
        image = self.factory.chip_image(scenario.profile)
        printed = self.factory.printed_mrz(scenario.profile)
        # One kiosk per scenario, with no window to keep responsive: the face models run in
        # this process instead of starting worker processes for every scenario (the chip
        # photo's template on the pipeline's reference thread).
        config = self.kiosk_config(scenario, matcher_process=False, reference_process=False)
        if scenario.disturbance == Disturbance.NOBODY_ENTERS:
            passage = config.passage.model_copy(update={"enter_s": NOBODY_ENTERS_WAIT_S})
            config = config.model_copy(update={"passage": passage})
        kiosk = build_kiosk(config)
        devices = kiosk.devices
        finished = threading.Event()
        decided: list[Decided] = []
        outcome: list[str] = []

        def on_event(event: SessionEvent) -> None:
            if isinstance(event, Decided):
                decided.append(event)
            elif isinstance(event, Finished):
                outcome.append(event.outcome)
                finished.set()

        kiosk.bus.subscribe(on_event)
        runtime = KioskRuntime(kiosk)
        disarm = arm(
            Disturbance(scenario.disturbance) if scenario.disturbance else None, devices, kiosk.bus
        )
        try:
            self._lists(kiosk, scenario)
            runtime.start()
            # Readiness is an event: the lane is in service once every device is ready (the
            # camera's first frame), however long that takes on a busy machine.
            if not runtime.wait_in_service(timeout_s):
                status = kiosk.lane.status()
                log.error("scenario %s: lane out of service", scenario.name)
                return ScenarioResult(
                    scenario.name,
                    scenario.expected_decision,
                    scenario.expected_reasons,
                    None,
                    tuple(f"out_of_service:{c.value}" for c in status.causes),
                )
            assert isinstance(devices.chip_reader, SimulatedChipReader)
            assert isinstance(devices.mrz_reader, SimulatedMrzReader)
            devices.chip_reader.insert(PassportChip(image))
            with transaction_context(f"demo-{scenario.name}"):
                devices.mrz_reader.present(printed)
            started = time.monotonic()
            while True:
                if not finished.wait(timeout_s):
                    log.error("scenario %s did not finish in %.0fs", scenario.name, timeout_s)
                    break
                kiosk.engine.wait_idle(10.0)
                if outcome[-1] != Outcome.PLACE_AGAIN:
                    break
                # asked to place the passport again: the traveller lifts it and puts it back
                finished.clear()
                devices.mrz_reader.remove()
                with transaction_context(f"demo-{scenario.name}"):
                    devices.mrz_reader.present(printed)
            kiosk.engine.wait_idle(10.0)
            log.debug("scenario %s took %.2fs", scenario.name, time.monotonic() - started)
        finally:
            disarm()
            runtime.stop()
            kiosk.close()
        last = decided[-1] if decided else None
        assert isinstance(devices.gate, SimulatedGate)
        return ScenarioResult(
            scenario.name,
            scenario.expected_decision,
            scenario.expected_reasons,
            last.decision if last else None,
            last.reasons if last else (),
            dict(last.timings_ms) if last else {},
            outcome[-1] if outcome else None,
            scenario.expected_outcome,
            tuple(mantrap_violations(devices.gate.commands)),
        )
