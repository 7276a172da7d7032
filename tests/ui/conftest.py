"""Fixtures of the UI tests: simulated devices, a session engine over a scripted pipeline,
a kiosk database with sample referrals, officer accounts.

The scripted pipeline stands in for ``kiosk.session.pipeline`` (what is under test here is the
screens, not the checks): each step takes a little time, as devices do, and the capture step
sends guidance the way the face tracker does.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hardware.config import SimulatedCameraConfig, SimulatedGateConfig
from hardware.sim.camera import SimulatedCamera
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.audit.log import AuditLog
from kiosk.config import KioskConfig, load_config
from kiosk.officer.accounts import OfficerAccounts
from kiosk.officer.samples import FACES, seed_sample_referrals
from kiosk.policy.config import PolicyConfig
from kiosk.policy.engine import DocumentFacts, PolicyEngine
from kiosk.session.engine import SessionEngine
from kiosk.session.steps import (
    CaptureStep,
    ChipStep,
    DocumentStep,
    GuidanceSink,
    LivenessStep,
    MatchStep,
    PassageResult,
    ScreeningStep,
)
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database, open_database
from models.records import CheckStatus

# The simulated Saint Lucia traveller (hardware/sim/profiles/lca-genuine.toml).
TRAVELLER_MRZ = (
    "P<LCAJOSEPH<<MARIE<ANGELA<<<<<<<<<<<<<<<<<<<\nLC12345671LCA8703145F3305197<<<<<<<<<<<<<<<2"
)
OFFICER_PASSWORD = "correct horse battery"


class ScriptedPipeline:
    """Every step takes ``step_s``; ``distance`` decides accept (<= 0.5) or refer."""

    def __init__(self, gate: SimulatedGate | None = None, step_s: float = 0.05) -> None:
        self.gate = gate
        self.step_s = step_s
        self.distance = 0.3
        self.guidance_codes = ["no_face", "move_closer", "hold_still"]

    def _work(self, cancel: threading.Event | None = None) -> None:
        deadline = time.monotonic() + self.step_s
        while time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                return
            time.sleep(0.005)

    def read_document(self, lines: list[str]) -> DocumentStep:
        self._work()
        facts = DocumentFacts("P", "LCA", "LCA", date(1987, 3, 14), date(2033, 5, 19))
        return DocumentStep(True, facts, "x")

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep:
        self._work(cancel)
        names = (
            "sod_signature",
            "chain",
            "revocation",
            "hashes",
            "active_authentication",
            "mrz_consistency",
            "issuer_consistency",
        )
        checks = dict.fromkeys(names, CheckStatus.PASSED)
        return ChipStep(True, checks, True, b"portrait", "PACE")

    def capture_face(self, cancel: threading.Event, guidance: GuidanceSink) -> CaptureStep:
        for code in self.guidance_codes:
            guidance(code, code)
            self._work(cancel)
        return CaptureStep(True, best_frame=object())

    def check_liveness(self, capture: CaptureStep) -> LivenessStep:
        self._work()
        return LivenessStep(True)

    def match_face(self, capture: CaptureStep, chip: ChipStep) -> MatchStep:
        self._work()
        return MatchStep(self.distance)

    def release_reference(self, chip: ChipStep | None) -> None:
        return None

    def screen(self, document: DocumentStep) -> ScreeningStep:
        self._work()
        return ScreeningStep(False, 0, 0.5, True)

    def record(self, *args: Any) -> None:
        self._work()

    def pass_gate(self, transaction_id: str, cancel: threading.Event) -> PassageResult:
        if self.gate is not None:
            self.gate.open_exit()
            self._work()
            self.gate.close_exit()
        return PassageResult.PASSED

    def face_threshold(self) -> float:
        return 0.5


@pytest.fixture(autouse=True)
def _no_kiosk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KIOSK_") and name != "KIOSK_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def kiosk_config(tmp_path: Path) -> KioskConfig:
    return load_config(data_dir=tmp_path / "home", kiosk_id="kiosk-ui")


@pytest.fixture
def camera() -> Iterator[SimulatedCamera]:
    cam = SimulatedCamera(SimulatedCameraConfig(face_image=FACES / "rose_1.jpg", fps=15))
    cam.start()
    # the simulator builds its scene (face landmarks) on the capture thread at start
    assert cam.wait_frame(timeout_s=20.0) is not None
    try:
        yield cam
    finally:
        cam.stop()


@pytest.fixture
def gate() -> Iterator[SimulatedGate]:
    sim = SimulatedGate(SimulatedGateConfig(heartbeat_s=0.2))
    sim.open()
    try:
        yield sim
    finally:
        sim.close()


@pytest.fixture
def mrz_reader() -> Iterator[SimulatedMrzReader]:
    reader = SimulatedMrzReader()
    reader.open()
    try:
        yield reader
    finally:
        reader.close()


@pytest.fixture
def pipeline(gate: SimulatedGate) -> ScriptedPipeline:
    return ScriptedPipeline(gate)


@pytest.fixture
def engine(pipeline: ScriptedPipeline) -> Iterator[SessionEngine]:
    session_engine = SessionEngine(pipeline, PolicyEngine(PolicyConfig()), kiosk_id="kiosk-ui")
    try:
        yield session_engine
    finally:
        session_engine.close()


@pytest.fixture
def database(kiosk_config: KioskConfig) -> Iterator[Database]:
    db = open_database(kiosk_config)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def cipher() -> BlobCipher:
    return BlobCipher(base64.b64decode(base64.b64encode(bytes(range(32)))))


@pytest.fixture
def audit() -> AuditLog:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return AuditLog(Ed25519PrivateKey.generate(), kiosk_id="kiosk-ui", checkpoint_every=1000)


@pytest.fixture
def referral_ids(database: Database, cipher: BlobCipher, audit: AuditLog) -> list[str]:
    return seed_sample_referrals(database, cipher, audit, "kiosk-ui")


@pytest.fixture
def accounts(tmp_path: Path) -> OfficerAccounts:
    officers = OfficerAccounts.load(tmp_path / "officers.json")
    officers.add("officer1", OFFICER_PASSWORD)
    return officers
