"""The composition root: one place that builds a kiosk from its configuration.

Everything is wired here and handed down explicitly (no singletons, no registries): devices
from ``kiosk.devices``, the database, audit log and storage key, the screening lists, document
verification, face services, the pipeline, the policy and the session engine.
:class:`KioskRuntime` then connects device events to the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hardware.chip_reader import CardEvent
from hardware.mrz_reader import DocumentPresented, DocumentRemoved
from kiosk.assistance import Assistance, AssistanceState
from kiosk.audit import open_audit_log
from kiosk.audit.log import AuditLog
from kiosk.clock_watch import ClockWatch
from kiosk.config import KioskConfig
from kiosk.device_events import DeviceEventLog
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
from kiosk.status_report import kiosk_status
from kiosk.storage.crypto_store import BlobCipher, load_storage_key
from kiosk.storage.database import Database, open_database
from kiosk.storage.errors import DatabaseUnavailableError
from kiosk.storage.file_checks import database_was_created
from kiosk.storage.health import StorageHealth
from kiosk.storage.key_setup import require_keys
from kiosk.storage.purge_schedule import PurgeSchedule
from kiosk.storage.recorder import record_transaction
from kiosk.sync.background import BackgroundSync, start_background_sync
from models.base import utc_now
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
    storage: StorageHealth | None = None

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
    lane = lane or Lane()
    database_existed = database_was_created(config)
    database = open_database(config)
    require_keys(config, database, database_existed=database_existed)
    storage = StorageHealth(database, lane, min_free_mb=config.storage.min_free_mb)
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
            max_pixels=config.face.max_image_pixels,
        ).start()
        detector = ProcessFaceDetector().start()
    else:
        matcher = DlibFaceMatcher(threshold, detect_max_side=config.face.detect_max_side)

    def recorder(record: DecidedTransaction) -> None:
        try:
            record_transaction(database, record, cipher=cipher, audit=audit)
        except DatabaseUnavailableError as exc:
            storage.failed(exc)  # out of service, cause named: the next traveller is not taken
            raise

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
    kiosk = Kiosk(
        config,
        devices,
        database,
        audit,
        cipher,
        screener,
        pipeline,
        engine,
        engine.bus,
        lane=lane,
        storage=storage,
    )
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
    (outbox relay and list pulls) when a server is configured, and the retention purge on its
    schedule. A document presented while the storage cannot keep a transaction, or the lane
    is out of service, starts nothing."""

    def __init__(self, kiosk: Kiosk, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.kiosk = kiosk
        self._started = False
        self.sync: BackgroundSync | None = None
        storage = kiosk.config.storage
        self.purge = PurgeSchedule(
            kiosk.database,
            retention_hours=storage.retention_hours,
            interval_s=storage.purge_interval_s,
            audit=kiosk.audit,
            clock=clock,
        )
        self.clock = ClockWatch(
            kiosk.lane,
            threshold_s=kiosk.config.clock.step_threshold_s,
            settle_s=kiosk.config.clock.settle_s,
            interval_s=kiosk.config.clock.check_interval_s,
        )
        self.device_events = DeviceEventLog(kiosk.database, kiosk.config.kiosk_id)
        self._unsubscribe: Callable[[], None] = lambda: None
        self.documents_refused = 0  # presented while out of service: no transaction started
        self._refused = threading.Condition()

    def start(self) -> None:
        devices = self.kiosk.devices
        devices.open()
        devices.mrz_reader.add_listener(self._on_mrz_event)
        devices.chip_reader.add_listener(self._on_card_event)
        devices.gate.add_listener(self.device_events.on_gate_event)
        self._unsubscribe = self.kiosk.bus.subscribe(self.device_events.on_session_event)
        self._started = True
        try:
            if self.kiosk.storage is not None:
                self.kiosk.storage.check()
            self.purge.start()
            self.clock.start()
            self.sync = start_background_sync(
                self.kiosk.config, self.kiosk.database, self.heartbeat_status
            )
        except BaseException:
            self.stop()
            raise
        log.info("kiosk %s started", self.kiosk.config.kiosk_id)

    def _on_mrz_event(self, event: Any) -> None:
        if isinstance(event, DocumentPresented):
            if not self._can_keep_a_transaction():
                log.warning("document presented while out of service: not taken")
                with self._refused:
                    self.documents_refused += 1
                    self._refused.notify_all()
            elif not self.kiosk.engine.document_presented(list(event.scan.lines)):
                log.info("document presented while a transaction runs: ignored")
        elif isinstance(event, DocumentRemoved):
            self.kiosk.engine.document_removed()

    def heartbeat_status(self) -> tuple[str, dict[str, str]]:
        """The status word and device lines the heartbeat sends (kiosk/status_report.py)."""
        return kiosk_status(self.kiosk, self.clock)

    def wait_refused(self, count: int, timeout_s: float) -> bool:
        """Wait until ``count`` documents in all were refused because of the service state."""
        with self._refused:
            return self._refused.wait_for(lambda: self.documents_refused >= count, timeout_s)

    def _can_keep_a_transaction(self) -> bool:
        storage = self.kiosk.storage
        if storage is not None and not storage.check():
            return False
        return self.kiosk.lane.in_service

    def _on_card_event(self, event: CardEvent) -> None:
        if event is CardEvent.REMOVED:
            self.kiosk.engine.passport_removed()

    def stop(self) -> None:
        if self._started:
            self._started = False
            try:
                self.purge.close()
                self.clock.close()
                self._unsubscribe()
                self.kiosk.devices.gate.remove_listener(self.device_events.on_gate_event)
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
