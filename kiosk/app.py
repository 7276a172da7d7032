"""The composition root: one place that builds a kiosk from its configuration.

Everything is wired here and handed down explicitly (no singletons, no registries): devices
from the configuration through ``kiosk.devices.DRIVERS``, the database, audit log and storage
key, the screening lists from the store, document verification against the kiosk's trust store
(reloaded when it changes), face services with the one resolved threshold, the pipeline, the
policy, the session engine and the lane's service state. The packaged service (``kiosk run``,
``python -m ui traveller``), the demo (a configuration with simulated devices whose test PKI is
imported into the trust store), the benchmarks and the tests all build their kiosk here.
:class:`KioskRuntime` then opens the devices, supervises the lane and connects device events
to the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hardware.chip_reader import CardEvent
from hardware.gate import GateState, GateStateChanged
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
from kiosk.face.sided import EncoderSettings, SidedFaceMatcher
from kiosk.lane import Lane, LaneCause, LaneStatus
from kiosk.lane_supervisor import LaneSupervisor
from kiosk.policy.engine import PolicyEngine
from kiosk.screening.importers import ListKind
from kiosk.screening.screening import Screener, ScreeningLists, weights_of
from kiosk.screening.store import ScreeningStore
from kiosk.session.engine import SessionEngine, SessionTimeouts
from kiosk.session.events import EventBus
from kiosk.session.passage import PassageSettings
from kiosk.session.pipeline import CaptureSettings, KioskPipeline
from kiosk.session.trust_anchors import StoreAnchors
from kiosk.session.verification import make_verifier
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
from kiosk.sync.lane_link import LaneLink, start_lane_link
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
    lane: Lane
    anchors: StoreAnchors
    supervisor: LaneSupervisor
    # Set while a technician rehearses on a lane taken out of service (TECHNICIAN only).
    rehearsal: threading.Event = field(default_factory=threading.Event)
    voice: VoicePrompter | None = None
    assistance: Assistance = field(default_factory=Assistance)
    closers: list[Callable[[], None]] = field(default_factory=list)
    storage: StorageHealth | None = None

    def reload_lists(self) -> None:
        store = ScreeningStore(self.database)
        self.screener = Screener(self.config.screening, load_screening_lists(store, self.config))
        self.pipeline.screener = self.screener
        self.supervisor.note_lists_loaded()

    def admits_travellers(self) -> bool:
        """May a transaction start now? In service, or rehearsing on a lane the technician
        (and nothing else) took out of service."""
        status = self.lane.status()
        if status.in_service:
            return True
        return self.rehearsal.is_set() and status.causes == (LaneCause.TECHNICIAN,)

    def take_out_of_service(self, detail: str = "technician") -> None:
        self.lane.set(LaneCause.TECHNICIAN, detail)

    def return_to_service(self) -> LaneStatus:
        """Clear the technician's cause (ending any rehearsal) and re-check the others."""
        self.rehearsal.clear()
        self.lane.clear(LaneCause.TECHNICIAN)
        self.supervisor.rearm_gate_reset()  # a gate the automatic resets gave up on: try again
        return self.supervisor.check()

    def close(self) -> None:
        self.engine.close()
        for closer in reversed(self.closers):
            closer()
        # executors a console or a self-test started on a kiosk that never ran (idempotent)
        self.devices.threads.close()
        self.database.close()


@dataclass(frozen=True)
class FaceSettings:
    """What a comparison depends on, resolved once from the configuration: the threshold (the
    policy's when it sets one) and the encoder of each side, which it was calibrated with."""

    threshold: float
    reference: EncoderSettings
    live: EncoderSettings


def face_settings(config: KioskConfig) -> FaceSettings:
    """The one place the face threshold and the encoders of both sides are resolved; the
    kiosk and ``kiosk face eval/calibrate`` (their defaults) read them from here."""
    face = config.face
    return FaceSettings(
        threshold=config.face_threshold,
        reference=EncoderSettings(face.reference.num_jitters, face.reference.landmarks),
        live=EncoderSettings(face.live.num_jitters, face.live.landmarks),
    )


def build_face_matcher(
    config: KioskConfig, face: FaceSettings
) -> tuple[FaceMatcher, ProcessFaceDetector | None]:
    """The matcher of the kiosk: chip photos to the reference side's encoder, in its own worker
    process unless ``face.reference_process`` is off (so it runs while the live capture does),
    live frames to the live side's; with ``face.matcher_process`` the live side and the
    tracker's detector have worker processes too (dlib off this process's GIL)."""
    options = config.face

    def side(settings: EncoderSettings, process: bool) -> FaceMatcher:
        if process:  # the workers preload their models
            return ProcessFaceMatcher(
                face.threshold,
                detect_max_side=options.detect_max_side,
                num_jitters=settings.num_jitters,
                landmarks=settings.landmarks,
                max_pixels=options.max_image_pixels,
            ).start()
        return DlibFaceMatcher(
            face.threshold,
            detect_max_side=options.detect_max_side,
            num_jitters=settings.num_jitters,
            landmarks=settings.landmarks,
        )

    reference = side(face.reference, options.reference_process or options.matcher_process)
    live = side(face.live, options.matcher_process)
    detector = ProcessFaceDetector().start() if options.matcher_process else None
    return SidedFaceMatcher(face.threshold, reference=reference, live=live), detector


def build_kiosk(
    config: KioskConfig,
    *,
    devices: Devices | None = None,
    bus: EventBus | None = None,
    lane: Lane | None = None,
) -> Kiosk:
    """Build the kiosk ``config`` describes. ``devices`` replaces the configured drivers for
    tests that wrap a device to inject a fault; every product path leaves it None."""
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
    anchors = StoreAnchors(database)
    verifier = make_verifier(anchors.current)
    face = face_settings(config)
    threshold = face.threshold
    matcher, detector = build_face_matcher(config, face)

    def recorder(record: DecidedTransaction) -> None:
        try:
            record_transaction(database, record, cipher=cipher, audit=audit, site=config.site)
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
    supervisor = LaneSupervisor(lane, config, devices, database, anchors)
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
        lane,
        anchors,
        supervisor,
        storage=storage,
    )
    supervisor.reload_lists = kiosk.reload_lists  # what sync or an import wrote, reloaded
    if storage is not None:
        supervisor.extra_checks.append(storage.check)  # a full disk cleared reopens the lane
    engine.admits = kiosk.admits_travellers
    supervisor.note_lists_loaded()
    kiosk.closers += [matcher.close] + ([detector.close] if detector else [])
    kiosk.closers.append(pipeline.close)  # closed first: its reference job ends before the matcher
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
    """Opens the devices (one that fails puts the lane out of service, naming it; the kiosk
    still starts), supervises the lane, drives the engine from device events, runs the
    background sync (outbox relay, list pulls, heartbeat with the lane and device status) and
    the lane's link to the officers' wall when a server is configured, and the retention
    purge on its schedule. A document presented while the storage cannot keep a transaction,
    or the lane is out of service, starts nothing."""

    def __init__(self, kiosk: Kiosk, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.kiosk = kiosk
        self._started = False
        self.sync: BackgroundSync | None = None
        self._in_service = threading.Event()
        self._remove_lane_listener: Callable[[], None] | None = None
        self._camera_ready: threading.Thread | None = None
        # Told why a presented document started no transaction ("out_of_service" | "busy").
        self.on_refused: Callable[[str], None] | None = None
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
        self.lane_link: LaneLink | None = None

    def start(self) -> None:
        kiosk = self.kiosk
        devices = kiosk.devices
        self._remove_lane_listener = kiosk.lane.add_listener(self._on_lane)
        devices.mrz_reader.add_listener(self._on_mrz_event)
        devices.chip_reader.add_listener(self._on_card_event)
        # a reader unplugged (or pcscd gone) closes the lane at once, and reopens it on return
        devices.chip_reader.add_health_listener(lambda _problem: kiosk.supervisor.poke())
        devices.gate.add_listener(self.device_events.on_gate_event)
        devices.gate.add_listener(self._on_gate_event)  # a fault closes the lane at once
        self._unsubscribe = kiosk.bus.subscribe(self.device_events.on_session_event)
        kiosk.supervisor.open_devices()
        self._started = True
        try:
            if kiosk.storage is not None:
                kiosk.storage.check()
            self._on_lane(kiosk.supervisor.check())
            kiosk.supervisor.start()
            self._camera_ready = threading.Thread(
                target=self._await_first_frame, name="kiosk-camera-ready", daemon=True
            )
            self._camera_ready.start()
            self.purge.start()
            self.clock.start()
            self.sync = start_background_sync(
                kiosk.config, kiosk.database, self.heartbeat_status, kiosk.cipher
            )
            self.lane_link = start_lane_link(
                kiosk.config, kiosk.lane, kiosk.bus, devices.gate, kiosk.assistance
            )
        except BaseException:
            self.stop()
            raise
        status = kiosk.lane.status()
        log.info(
            "kiosk %s started, %s",
            kiosk.config.kiosk_id,
            "in service" if status.in_service else "OUT OF SERVICE: " + _causes(status),
        )

    def _await_first_frame(self) -> None:
        # Readiness is an event: the camera's first frame re-checks the lane at once, however
        # long the camera takes to start (a busy machine, a slow USB camera).
        camera = self.kiosk.devices.camera
        while self._started and camera.latest_frame() is None:
            camera.wait_frame(-1, timeout_s=1.0)
        if self._started:
            self.kiosk.supervisor.check()

    def _on_lane(self, status: LaneStatus) -> None:
        if status.in_service:
            self._in_service.set()
        else:
            self._in_service.clear()
            devices = self.kiosk.devices
            if self._started and "gate" in self.kiosk.supervisor.opened:
                try:
                    if devices.gate.state is GateState.ENTRY_OPEN:  # out of service: nobody in
                        devices.threads.gate.call(devices.gate.close_entry, timeout_s=5.0)
                except Exception:  # busy with a transaction, or failed: the gate's own rules
                    log.warning("could not close the entry door")

    def wait_in_service(self, timeout_s: float) -> bool:
        """Wait until the lane is in service (devices ready, trust and lists loaded)."""
        return self._in_service.wait(timeout_s)

    def _on_mrz_event(self, event: Any) -> None:
        if isinstance(event, DocumentPresented):
            self.kiosk.supervisor.refresh_data()
            if not self._can_keep_a_transaction():
                log.warning("document presented while out of service: not taken")
                with self._refused:
                    self.documents_refused += 1
                    self._refused.notify_all()
                if self.on_refused is not None:
                    self.on_refused("out_of_service")
            elif not self.kiosk.engine.document_presented(list(event.scan.lines)):
                log.info("document presented, no transaction started: busy")
                if self.on_refused is not None:
                    self.on_refused("busy")
        elif isinstance(event, DocumentRemoved):
            self.kiosk.engine.document_removed()

    def heartbeat_status(self) -> tuple[str, dict[str, str]]:
        """The status word and device lines the heartbeat sends (kiosk/status_report.py)."""
        status, lines = kiosk_status(self.kiosk, self.clock)
        # the lane's causes one by one and the configured drivers (lane_report), then the
        # device lines; the status word says in service or not, and why
        report = {k: v for k, v in lane_report(self.kiosk).items() if k != "lane"}
        return status, {**report, **lines}

    def wait_refused(self, count: int, timeout_s: float) -> bool:
        """Wait until ``count`` documents in all were refused because of the service state."""
        with self._refused:
            return self._refused.wait_for(lambda: self.documents_refused >= count, timeout_s)

    def _can_keep_a_transaction(self) -> bool:
        storage = self.kiosk.storage
        if storage is not None and not storage.check():
            return False
        return self.kiosk.admits_travellers()  # in service, or the technician's rehearsal

    def _on_gate_event(self, event: object) -> None:
        if isinstance(event, GateStateChanged) and GateState.FAULT in (event.previous, event.state):
            self.kiosk.supervisor.poke()  # out of service now; the reset is tried from there

    def _on_card_event(self, event: CardEvent) -> None:
        if event is CardEvent.REMOVED:
            self.kiosk.engine.passport_removed()

    def stop(self) -> None:
        if self._remove_lane_listener is not None:
            self._remove_lane_listener()
            self._remove_lane_listener = None
        if self._started:
            self._started = False
            try:
                if self._camera_ready is not None:
                    self._camera_ready.join(5.0)
                    self._camera_ready = None
                self.kiosk.supervisor.close()
                self.purge.close()
                self.clock.close()
                self._unsubscribe()
                self.kiosk.devices.gate.remove_listener(self.device_events.on_gate_event)
                self.kiosk.devices.gate.remove_listener(self._on_gate_event)
                if self.lane_link is not None:
                    self.lane_link.close()
                    self.lane_link = None
                if self.sync is not None:
                    self.sync.close()
                    self.sync = None
            finally:
                self.kiosk.engine.close()
                self.kiosk.supervisor.close_devices()

    def __enter__(self) -> KioskRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _causes(status: LaneStatus) -> str:
    return "; ".join(f.detail or f.cause.value for f in status.faults)


def lane_report(kiosk: Kiosk) -> dict[str, str]:
    """The lane's state for the server's heartbeat: ``lane`` and one entry per cause
    (``cause.N`` = ``cause:key``), plus each device's driver type."""
    status = kiosk.lane.status()
    report = {"lane": "in_service" if status.in_service else "out_of_service"}
    for index, fault in enumerate(status.faults[:16]):
        report[f"cause.{index + 1}"] = f"{fault.cause.value}:{fault.key}"[:64]
    devices = kiosk.config.devices
    for kind in ("chip_reader", "mrz_reader", "camera", "gate", "speaker"):
        report[f"driver.{kind}"] = getattr(devices, kind).type
    return report
