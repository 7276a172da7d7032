"""The composition root: one place that builds a kiosk from its configuration.

Everything is wired here and handed down explicitly (no singletons, no registries): devices
from ``kiosk.devices``, the database, audit log and storage key, the screening lists, document
verification, face services, the pipeline, the policy and the session engine.
:class:`KioskRuntime` then connects device events to the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hardware.chip_reader import CardEvent
from hardware.mrz_reader import DocumentPresented, DocumentRemoved
from kiosk.assistance import Assistance, AssistanceState
from kiosk.audit import open_audit_log
from kiosk.audit.log import AuditLog
from kiosk.config import KioskConfig
from kiosk.devices import Devices
from kiosk.face.liveness import LandmarkLiveness
from kiosk.face.matcher import DlibFaceMatcher, FaceMatcher, VerificationTransaction
from kiosk.face.remote import ProcessFaceDetector, ProcessFaceMatcher
from kiosk.lane import Lane
from kiosk.policy.engine import PolicyEngine
from kiosk.screening.importers import ListKind
from kiosk.screening.screening import Screener, ScreeningLists, weights_of
from kiosk.screening.store import ScreeningStore
from kiosk.session.engine import SessionEngine, SessionTimeouts
from kiosk.session.events import EventBus
from kiosk.session.passage import PassageSettings
from kiosk.session.pipeline import CaptureSettings, ChipVerifier, KioskPipeline
from kiosk.speech import EspeakSynthesizer, VoicePrompter
from kiosk.storage.crypto_store import BlobCipher, load_storage_key
from kiosk.storage.database import Database, open_database
from kiosk.storage.recorder import record_transaction
from kiosk.sync.background import BackgroundSync, start_background_sync
from kiosk.sync.lane_link import LaneLink, start_lane_link
from models.records import DecidedTransaction

log = logging.getLogger(__name__)


def load_screening_lists(store: ScreeningStore, config: KioskConfig) -> ScreeningLists:
    """The indexes of the lists stored locally (empty ones where none was imported)."""
    manifest_info = store.info(ListKind.MANIFEST)
    return ScreeningLists(
        lost_stolen=store.load_lost_stolen(),
        lost_stolen_info=store.info(ListKind.LOST_STOLEN),
        watchlist=store.load_watchlist(weights_of(config.screening)),
        watchlist_info=store.info(ListKind.WATCHLIST),
        manifest=store.load_manifest() if manifest_info else None,
        manifest_info=manifest_info,
    )


@dataclass
class Kiosk:
    """A built kiosk: its parts, ready to start."""

    config: KioskConfig
    devices: Devices
    database: Database
    audit: AuditLog
    cipher: BlobCipher
    screener: Screener
    pipeline: KioskPipeline
    engine: SessionEngine
    bus: EventBus
    voice: VoicePrompter | None = None
    assistance: Assistance = field(default_factory=Assistance)
    closers: list[Callable[[], None]] = field(default_factory=list)
    lane: Lane = field(default_factory=Lane)

    def reload_lists(self) -> None:
        store = ScreeningStore(self.database)
        self.screener = Screener(self.config.screening, load_screening_lists(store, self.config))
        self.pipeline.screener = self.screener

    def close(self) -> None:
        self.engine.close()
        for closer in reversed(self.closers):
            closer()
        self.database.close()


def build_kiosk(
    config: KioskConfig,
    *,
    verifier: ChipVerifier,
    devices: Devices | None = None,
    bus: EventBus | None = None,
    lane: Lane | None = None,
) -> Kiosk:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    database = open_database(config)
    audit = open_audit_log(config)
    cipher = BlobCipher(load_storage_key(config))
    devices = devices or Devices.from_config(config.devices)
    lane = lane or Lane()
    store = ScreeningStore(database)
    screener = Screener(config.screening, load_screening_lists(store, config))
    threshold = config.policy.face_threshold or config.face.threshold
    matcher: FaceMatcher
    detector: ProcessFaceDetector | None = None
    if config.face.matcher_process:  # dlib off this process's GIL; the workers preload models
        matcher = ProcessFaceMatcher(
            threshold,
            detect_max_side=config.face.detect_max_side,
            num_jitters=config.face.num_jitters,
            landmarks=config.face.landmarks,
            max_pixels=config.face.max_image_pixels,
        ).start()
        detector = ProcessFaceDetector().start()
    else:
        matcher = DlibFaceMatcher(
            threshold,
            detect_max_side=config.face.detect_max_side,
            num_jitters=config.face.num_jitters,
            landmarks=config.face.landmarks,
        )

    def recorder(record: DecidedTransaction) -> None:
        record_transaction(database, record, cipher=cipher, audit=audit, site=config.site)

    pipeline = KioskPipeline(
        chip_reader=devices.chip_reader,
        camera=devices.camera,
        gate=devices.gate,
        verifier=verifier,
        matcher=lambda: VerificationTransaction(matcher, config.face.max_image_pixels),
        liveness=LandmarkLiveness(),
        screener=screener,
        recorder=recorder,
        kiosk_id=config.kiosk_id,
        face_threshold=threshold,
        capture=CaptureSettings(
            window_s=config.face.capture_window_s, detect_max_side=config.face.detect_max_side
        ),
        face_detector=detector.detect if detector else None,
        passage=PassageSettings(
            enter_s=config.passage.enter_s,
            leave_s=config.passage.leave_s,
            door_s=config.passage.door_s,
        ),
    )
    engine = SessionEngine(
        pipeline,
        PolicyEngine(config.policy),
        kiosk_id=config.kiosk_id,
        max_face_attempts=config.face.max_attempts,
        bus=bus,
        timeouts=SessionTimeouts(
            gate_s=config.passage.enter_s + config.passage.leave_s + 4 * config.passage.door_s + 5
        ),
        devices=devices.threads,  # each transaction claims every device; hung calls are bounded
        lane=lane,
        read_attempts=config.traveller.read_attempts,
    )
    kiosk = Kiosk(config, devices, database, audit, cipher, screener, pipeline, engine, engine.bus)
    kiosk.lane = lane
    kiosk.closers += [matcher.close] + ([detector.close] if detector else [])
    kiosk.voice = build_voice(config, devices)
    kiosk.closers.append(kiosk.voice.close)
    kiosk.assistance.add_listener(lambda state: audit_assistance(database, audit, state))
    return kiosk


def audit_assistance(database: Database, audit: AuditLog, state: AssistanceState) -> None:
    """Every call for an officer, and who answered it, goes into the audit log."""
    with database.write() as session:
        if state.pending:
            audit.append(
                session,
                actor="traveller",
                action="assistance.requested",
                details={"screen": state.screen or "unknown", "calls": state.calls},
            )
        else:
            audit.append(
                session,
                actor=state.acknowledged_by or "unknown",
                action="assistance.acknowledged",
            )


def build_voice(config: KioskConfig, devices: Devices) -> VoicePrompter:
    """The spoken prompts: espeak-ng voices of the configuration through the speaker."""
    traveller = config.traveller
    synthesizer = EspeakSynthesizer(
        config.speech_cache_dir,
        voices=traveller.voices,
        words_per_minute=traveller.words_per_minute,
        amplitude=round(traveller.volume * 1.5),  # espeak-ng amplitude 0..200, 100 nominal
    )
    return VoicePrompter(synthesizer, devices.speaker, enabled=traveller.speech)


class KioskRuntime:
    """Opens the devices and drives the engine from their events; runs the background sync
    (outbox relay and list pulls) and the lane's link to the officers' wall when a server is
    configured."""

    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self._started = False
        self.sync: BackgroundSync | None = None
        self.lane_link: LaneLink | None = None

    def start(self) -> None:
        devices = self.kiosk.devices
        devices.open()
        devices.mrz_reader.add_listener(self._on_mrz_event)
        devices.chip_reader.add_listener(self._on_card_event)
        self._started = True
        try:
            self.sync = start_background_sync(
                self.kiosk.config, self.kiosk.database, self.kiosk.cipher
            )
            k = self.kiosk
            self.lane_link = start_lane_link(k.config, k.lane, k.bus, devices.gate, k.assistance)
        except BaseException:
            self.stop()
            raise
        log.info("kiosk %s started", self.kiosk.config.kiosk_id)

    def _on_mrz_event(self, event: Any) -> None:
        if isinstance(event, DocumentPresented):
            if not self.kiosk.engine.document_presented(list(event.scan.lines)):
                log.info("document presented while a transaction runs: ignored")
        elif isinstance(event, DocumentRemoved):
            self.kiosk.engine.document_removed()

    def _on_card_event(self, event: CardEvent) -> None:
        if event is CardEvent.REMOVED:
            self.kiosk.engine.passport_removed()

    def stop(self) -> None:
        if self._started:
            self._started = False
            try:
                if self.lane_link is not None:
                    self.lane_link.close()
                    self.lane_link = None
                if self.sync is not None:
                    self.sync.close()
                    self.sync = None
            finally:
                self.kiosk.engine.close()
                self.kiosk.devices.close()

    def __enter__(self) -> KioskRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
