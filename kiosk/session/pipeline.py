"""The real pipeline: each step of a transaction done with the kiosk's devices and services.

Wired by the composition root (``kiosk.app``). Device work happens here, on the engine's step
threads, never on a UI thread. Nothing personal is logged; the parsed MRZ and the chip's data
stay in memory for the length of the transaction and go to storage only as the records say.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import numpy as np

from hardware.camera import Camera, CameraError
from hardware.chip_reader import ChipReader
from hardware.gate import Gate, GateState, Sensor, SensorChanged
from kiosk.face.images import ImageRejected
from kiosk.face.liveness import PresentationAttackDetector
from kiosk.face.matcher import VerificationTransaction
from kiosk.face.quality import BestFrame, Guidance
from kiosk.face.tracker import Detect, FaceTracker, Observation
from kiosk.icao.errors import AccessDeniedError
from kiosk.icao.lds.dg2 import parse_dg2
from kiosk.icao.mrz import parse_mrz
from kiosk.icao.reader import PassportRead, read_passport
from kiosk.policy.engine import DocumentFacts, PolicyDecision, TransactionFacts
from kiosk.screening.listed import listed_persons
from kiosk.screening.manifest import ManifestStatus
from kiosk.screening.screening import Screener, ScreeningResult, Traveller
from kiosk.session.steps import CaptureStep, ChipStep, DocumentStep, GuidanceSink, ScreeningStep
from models.errors import KioskError, ParseError
from models.records import (
    BiometricSample,
    BlobKind,
    CheckResult,
    CheckStatus,
    DecidedTransaction,
    DocumentSummary,
    ReasonCode,
    ReferralSubject,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChipVerdict:
    """What document authentication concluded (``kiosk.icao.auth`` provides the real one)."""

    checks: dict[str, CheckStatus]
    authentic: bool
    details: Any = None


class ChipVerifier(Protocol):
    def __call__(self, read: PassportRead, optical_mrz: Any) -> ChipVerdict: ...


class Recorder(Protocol):
    def __call__(self, record: DecidedTransaction) -> None: ...


@dataclass(frozen=True)
class CaptureSettings:
    frames: int = 30  # frames looked at per attempt (liveness needs a track)
    window_s: float = 6.0
    detect_every: int = 8
    detect_max_side: int = 320
    # Stop early once this many frames are in, a good frame is kept and liveness already has
    # enough evidence (checked every ``liveness_every`` frames, so only a few looks per attempt).
    early_stop_frames: int = 15
    liveness_every: int = 3
    frame_timeout_s: float = 2.0  # no new frame for this long: the camera failed


class KioskPipeline:
    """Implements :class:`kiosk.session.steps.Pipeline` over devices and services."""

    def __init__(
        self,
        *,
        chip_reader: ChipReader,
        camera: Camera,
        gate: Gate,
        verifier: ChipVerifier,
        matcher: Callable[[], VerificationTransaction],
        liveness: PresentationAttackDetector,
        screener: Screener,
        recorder: Recorder,
        kiosk_id: str,
        face_threshold: float,
        capture: CaptureSettings = CaptureSettings(),
        card_wait_s: float = 5.0,
        passage_wait_s: float = 20.0,
        keep_samples: bool = True,
        face_detector: Detect | None = None,
    ) -> None:
        self.chip_reader = chip_reader
        self.camera = camera
        self.gate = gate
        self.verifier = verifier
        self.new_verification = matcher
        self.liveness = liveness
        self.screener = screener
        self.recorder = recorder
        self.kiosk_id = kiosk_id
        self._threshold = face_threshold
        self.capture = capture
        self.card_wait_s = card_wait_s
        self.passage_wait_s = passage_wait_s
        self.keep_samples = keep_samples
        self.face_detector = face_detector  # the tracker's detector (a worker process's)
        self._verification: VerificationTransaction | None = None
        self._started_at = datetime.now(UTC)
        self._portrait: bytes | None = None
        self._live_jpeg: bytes | None = None
        self._liveness_reason: str | None = None
        self._screening: ScreeningResult | None = None
        self._reference_ready: threading.Event | None = None

    def face_threshold(self) -> float:
        return self._threshold

    # --- document ------------------------------------------------------------------------

    def read_document(self, lines: list[str]) -> DocumentStep:
        self._started_at = datetime.now(UTC)
        self._verification = self.new_verification()
        self._portrait = self._live_jpeg = None
        self._liveness_reason = None
        self._screening = None
        self._reference_ready = None
        result = parse_mrz("\n".join(lines))
        if not result.valid:
            log.info("MRZ not valid: %d error(s)", len(result.errors))
            return DocumentStep(readable=False, parsed=result)
        f = result.fields
        facts = DocumentFacts(
            document_type=f.document_type,
            issuing_state=f.issuing_state,
            nationality=f.nationality,
            date_of_birth=latest_birth_date(f.date_of_birth),
            date_of_expiry=f.date_of_expiry,
        )
        try:
            info = result.mrz_information()
        except KioskError:
            return DocumentStep(readable=False, facts=facts, parsed=result)
        return DocumentStep(readable=True, facts=facts, mrz_information=info, parsed=result)

    # --- chip ----------------------------------------------------------------------------

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep:
        reader = self.chip_reader
        deadline = time.monotonic() + self.card_wait_s
        while not reader.card_present():
            if cancel.is_set() or time.monotonic() > deadline:
                return ChipStep(read=False, error="no_chip")
            time.sleep(0.02)
        reader.connect()
        try:
            limits = reader.limits
            try:
                read = read_passport(
                    reader.transmit,
                    mrz_info=document.mrz_information,
                    extended_length=limits.extended_length,
                    max_response_bytes=limits.max_response_bytes,
                )
            except AccessDeniedError:
                log.info("chip access denied")
                return ChipStep(read=False, error="access_denied")
            except (ParseError, KioskError) as exc:
                if getattr(exc, "code", "").startswith("chip_reader") or "removed" in exc.code:
                    raise
                log.info("chip read failed: %s", exc.code)
                return ChipStep(read=False, error=exc.code)
            verdict = self.verifier(read, document.parsed)
            portrait = _portrait(read)
            self._portrait = portrait
            if portrait is not None:
                self._encode_reference_in_background(portrait)
            return ChipStep(
                read=True,
                checks=verdict.checks,
                authentic=verdict.authentic,
                portrait=portrait,
                access=read.access,
                details=verdict.details,
            )
        finally:
            reader.disconnect()

    # --- face ----------------------------------------------------------------------------

    def capture_face(self, cancel: threading.Event, guidance: GuidanceSink) -> CaptureStep:
        settings = self.capture
        tracker = FaceTracker(
            detect_every=settings.detect_every,
            detect_max_side=settings.detect_max_side,
            detect=self.face_detector,
        )
        best = BestFrame()
        observations: list[Observation] = []
        last_code: str | None = None
        last_index = -1
        deadline = time.monotonic() + settings.window_s
        last_frame_at = time.monotonic()
        while len(observations) < settings.frames and time.monotonic() < deadline:
            if cancel.is_set():
                break
            frame = self.camera.wait_frame(last_index, timeout_s=min(1.0, settings.frame_timeout_s))
            if frame is None:
                if time.monotonic() - last_frame_at > settings.frame_timeout_s:
                    raise CameraError("the camera stopped delivering frames")
                cancel.wait(0.02)  # a stopped camera answers at once: do not spin
                continue
            last_frame_at = time.monotonic()
            last_index = frame.index
            observation = tracker.process(frame.image, frame.timestamp)
            observations.append(observation)
            best.offer(frame.image, observation.quality, observation.landmarks)
            code = observation.quality.guidance.code
            if code != last_code:
                last_code = code
                guidance(code, observation.quality.guidance.text)
            if best.image is not None and self._enough_evidence(observations):
                break
        if best.image is None:
            worst = observations[-1].quality.guidance if observations else Guidance.NO_FACE
            return CaptureStep(ok=False, frames=list(observations), guidance=worst.code)
        return CaptureStep(ok=True, best_frame=best.image, frames=list(observations))

    def _enough_evidence(self, observations: list[Observation]) -> bool:
        """True when the frames so far already convince the liveness check."""
        settings, count = self.capture, len(observations)
        if count < settings.early_stop_frames or count >= settings.frames:
            return False
        if (count - settings.early_stop_frames) % max(1, settings.liveness_every):
            return False
        return bool(self.liveness.assess(observations).live)

    def _encode_reference_in_background(self, portrait: bytes) -> None:
        """Start the chip photo's template now, while the traveller faces the camera; the
        transaction's cache hands it to :meth:`match_face`."""
        verification = self._verification
        if verification is None:
            return
        ready = threading.Event()

        def encode() -> None:
            try:
                verification.reference(portrait)
            except Exception as exc:  # match_face encodes again and reports the problem
                log.info("chip photo pre-encoding failed: %s", type(exc).__name__)
            finally:
                ready.set()

        self._reference_ready = ready
        threading.Thread(target=encode, name="kiosk-portrait-template", daemon=True).start()

    def _await_reference(self, timeout_s: float = 10.0) -> None:
        ready = self._reference_ready
        if ready is not None:
            ready.wait(timeout_s)

    def check_liveness(self, capture: CaptureStep) -> bool:
        result = self.liveness.assess(capture.frames)
        log.info("liveness %s", "live" if result.live else f"refused ({result.reason})")
        self._liveness_reason = None if result.live else str(result.reason)
        return bool(result.live)

    def match_face(self, capture: CaptureStep, portrait: bytes) -> float | None:
        self._await_reference()
        verification = self._verification or self.new_verification()
        rgb = np.ascontiguousarray(capture.best_frame[:, :, ::-1])
        outcome = verification.verify(rgb, portrait)
        if isinstance(outcome, ImageRejected):
            log.info("face not verified: %s", outcome.code)
            return None
        self._live_jpeg = _jpeg(capture.best_frame)
        log.info("face distance %.3f", outcome.distance)
        return float(outcome.distance)

    # --- screening -----------------------------------------------------------------------

    def screen(self, document: DocumentStep) -> ScreeningStep:
        f = document.parsed.fields
        traveller = Traveller(
            surname=f.surname,
            given_names=f.given_names,
            birth_date=f.date_of_birth if isinstance(f.date_of_birth, date) else None,
            nationality=f.nationality,
            document_number=f.document_number,
            issuer=f.issuing_state,
            doc_type=(f.document_type or "P")[:1],
            expiry_date=f.date_of_expiry,
        )
        result = self.screener.screen(traveller)
        self._screening = result
        manifest = result.manifest
        on_manifest: bool | None = None
        if manifest.status is not ManifestStatus.NO_MANIFEST:
            on_manifest = manifest.status is ManifestStatus.EXPECTED
        return ScreeningStep(
            lost_or_stolen=result.lost_stolen.hit,
            watchlist_hits=len(result.watchlist.hits),
            watchlist_age_hours=result.watchlist.list.age_hours,
            on_manifest=on_manifest,
            details=result,
        )

    # --- records and gate ----------------------------------------------------------------

    def record(
        self,
        transaction_id: str,
        document: DocumentStep,
        chip: ChipStep | None,
        facts: TransactionFacts,
        decision: PolicyDecision,
        timings_ms: dict[str, float],
    ) -> None:
        detailed = getattr(chip.details, "checks", None) if chip else None
        if isinstance(detailed, dict):
            checks = tuple(detailed[name] for name in sorted(detailed))
        else:
            checks = tuple(
                CheckResult(name=name, status=status)
                for name, status in sorted((chip.checks if chip else {}).items())
            )
        if chip is not None and not chip.read:
            checks += (
                CheckResult("access_control", CheckStatus.FAILED, chip.error or "chip_unreadable"),
            )
        checks += self._face_checks(chip, facts) + self._screening_checks()
        summary = None
        subject = None
        parsed = document.parsed
        if parsed is not None and facts.document is not None:
            summary = DocumentSummary(
                doc_type=facts.document.document_type[:2] or "P",
                issuer=facts.document.issuing_state[:3] or "XXX",
                nationality=facts.document.nationality[:3] or None,
                expiry_date=facts.document.date_of_expiry,
                chip_read=bool(chip and chip.read),
            )
            subject = ReferralSubject(
                surname=parsed.fields.surname[:120],
                given_names=parsed.fields.given_names[:120],
                birth_date=facts.document.date_of_birth,
                document_number=(parsed.fields.document_number or "")[:20] or None,
                listed=listed_persons(self._screening, summary.issuer),
            )
        samples: list[BiometricSample] = []
        if self.keep_samples and decision.decision.value != "accept":
            if self._portrait:
                samples.append(BiometricSample(BlobKind.CHIP_PORTRAIT, self._portrait))
            if self._live_jpeg:
                samples.append(BiometricSample(BlobKind.FACE_IMAGE, self._live_jpeg))
        reasons = tuple(dict.fromkeys(ReasonCode(code) for code in decision.reason_codes))
        record = DecidedTransaction(
            transaction_id=transaction_id,
            kiosk_id=self.kiosk_id,
            started_at=self._started_at,
            decided_at=datetime.now(UTC),
            decision=decision.decision,
            reasons=reasons,
            checks=checks,
            document=summary,
            referral_subject=subject if decision.decision.value != "accept" else None,
            samples=tuple(samples),
            timings_ms={k: float(v) for k, v in timings_ms.items()},
        )
        self.recorder(record)

    def _face_checks(
        self, chip: ChipStep | None, facts: TransactionFacts
    ) -> tuple[CheckResult, ...]:
        """What the officer reads about the face: the score against the threshold."""
        if chip is None or not chip.read:
            return ()
        distance, threshold = facts.face_distance, self._threshold
        if distance is None:
            face = CheckResult("face_match", CheckStatus.NOT_PERFORMED, "no_face", "no usable face")
        else:
            ok = distance <= threshold
            face = CheckResult(
                "face_match",
                CheckStatus.PASSED if ok else CheckStatus.FAILED,
                None if ok else "biometric_mismatch",
                f"distance {distance:.2f} {'<=' if ok else '>'} {threshold:.2f}",
            )
        if facts.liveness_passed is None:
            live = CheckResult("liveness", CheckStatus.NOT_PERFORMED, "no_capture", "no capture")
        elif facts.liveness_passed:
            live = CheckResult("liveness", CheckStatus.PASSED, None, "live")
        else:
            reason = (self._liveness_reason or "liveness_failed")[:64]
            live = CheckResult("liveness", CheckStatus.FAILED, reason, f"refused: {reason}")
        return face, live

    def _screening_checks(self) -> tuple[CheckResult, ...]:
        """Screening outcomes with the list versions, without any name."""
        result = self._screening
        if result is None:
            return ()
        out = []
        lost = result.lost_stolen
        version = lost.list.info.version if lost.list.info else None
        out.append(
            CheckResult(
                "lost_stolen",
                CheckStatus.FAILED if lost.hit else CheckStatus.PASSED,
                "lost_or_stolen" if lost.hit else None,
                f"lost/stolen list v{version}" if version else "no lost/stolen list loaded",
            )
        )
        watch = result.watchlist
        sources = sorted({hit.entry.list_name for hit in watch.hits}) if watch.hits else []
        best = max((hit.score for hit in watch.hits), default=0.0)
        out.append(
            CheckResult(
                "watchlist",
                CheckStatus.FAILED if watch.hit else CheckStatus.PASSED,
                "watchlist_hit" if watch.hit else None,
                (
                    f"{len(watch.hits)} candidate(s), best score {best:.2f}, "
                    f"source {', '.join(sources)}"
                )[:500]
                if watch.hit
                else "no candidate",
            )
        )
        manifest = result.manifest
        status = {
            ManifestStatus.EXPECTED: CheckStatus.PASSED,
            ManifestStatus.NOT_EXPECTED: CheckStatus.FAILED,
            ManifestStatus.NO_MANIFEST: CheckStatus.NOT_PERFORMED,
        }[manifest.status]
        out.append(
            CheckResult(
                "manifest",
                status,
                "not_on_manifest" if status is CheckStatus.FAILED else None,
                manifest.status.value,
            )
        )
        return tuple(out)

    def pass_gate(self, transaction_id: str, cancel: threading.Event) -> str:
        """Open the exit door and wait until one traveller has walked through."""
        gate = self.gate
        entered = threading.Event()
        left = threading.Event()

        def on_event(event: object) -> None:
            if isinstance(event, SensorChanged) and event.sensor is Sensor.PRESENCE:
                if event.active:
                    entered.set()
                elif entered.is_set():
                    left.set()

        gate.add_listener(on_event)
        try:
            gate.open_exit()
            if not entered.wait(self.passage_wait_s):
                return "timeout"
            return "passed" if left.wait(self.passage_wait_s) else "timeout"
        finally:
            gate.remove_listener(on_event)
            if gate.state is not GateState.EMERGENCY:
                gate.close_all()


def latest_birth_date(value: object) -> date | None:
    """A birth date for the age rules; a partial one counts as the latest it could be."""
    if isinstance(value, date):
        return value
    year = getattr(value, "year", None)
    if not isinstance(year, int):
        return None
    month = getattr(value, "month", None) or 12
    return date(year, month, 28 if month == 2 else 30)


def _portrait(read: PassportRead) -> bytes | None:
    raw = read.files.get("DG2")
    if raw is None:
        return None
    try:
        dg2 = parse_dg2(raw)
    except ParseError as exc:
        log.info("DG2 unreadable: %s", exc.code)
        return None
    return next((face.image for face in dg2.faces if face.image), None)


def _jpeg(image_bgr: Any) -> bytes | None:
    import cv2

    ok, buffer = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return bytes(buffer) if ok else None
