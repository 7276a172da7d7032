"""The real pipeline: each step of a transaction done with the kiosk's devices and services.

Wired by the composition root (``kiosk.app``). The pipeline is shared by every transaction and
keeps nothing of a traveller: each step returns a typed record (``kiosk.session.steps``) that
the engine hands to the next one. Driver calls run on each device's executor thread
(``hardware.executor``): the chip read is one job on the chip reader's thread, cancelled between
APDUs; the gate's commands run on the gate's. Nothing personal is logged; the parsed MRZ and
the chip's data stay in memory for the length of the transaction and go to storage only as the
records say.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from hardware.camera import Camera, CameraError, CameraStatus, Frame
from hardware.camera_mount import CameraMount
from hardware.chip_reader import CardUnresponsiveError, ChipReader, ChipReaderError, NoCardError
from hardware.executor import CancelToken, ExecutorError
from hardware.gate import Gate
from kiosk.face.images import ImageRejected
from kiosk.face.liveness import PresentationAttackDetector
from kiosk.face.matcher import VerificationTransaction
from kiosk.face.quality import BestFrame, Guidance
from kiosk.face.tracker import Detect, FaceTracker, Observation
from kiosk.icao.errors import AccessDeniedError
from kiosk.icao.lds.dg1 import parse_dg1
from kiosk.icao.lds.dg2 import parse_dg2
from kiosk.icao.mrz import parse_mrz
from kiosk.icao.reader import PassportRead, read_passport
from kiosk.policy.engine import DocumentFacts
from kiosk.screening.manifest import ManifestMatch, ManifestStatus, VettingStatus
from kiosk.screening.screening import Screener, ScreeningResult, Traveller
from kiosk.session.mount_aim import MountAim
from kiosk.session.passage import PassageSettings, pass_gate
from kiosk.session.steps import (
    CHIP_PHOTO_UNUSABLE,
    CaptureStep,
    ChallengeCue,
    ChipFailure,
    ChipStep,
    DocumentStep,
    GuidanceSink,
    LivenessStep,
    MatchStep,
    PassageResult,
    ScreeningStep,
)
from models.errors import KioskError, ParseError
from models.records import CheckResult, CheckStatus, DecidedTransaction

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


class GroupRecorder(Protocol):
    def __call__(self, records: Sequence[DecidedTransaction]) -> None: ...


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
    # No new frame for this long (while waiting for one; not counting the time the capture
    # spent on the last one): the camera failed. A busy kiosk, or dlib holding the GIL in a
    # kiosk without the face worker processes, can starve the camera for a few seconds.
    frame_timeout_s: float = 5.0
    # After the challenge was presented: the frames judged, at most (2.5 s at 30 fps) and
    # within challenge_s (the time to hear "blink once" and do it); the capture stops as soon
    # as liveness is proven.
    challenge_frames: int = 75
    challenge_s: float = 8.0


@dataclass(frozen=True)
class FaceReference:
    """The chip photo's template of one transaction, being made on the pipeline's reference
    worker while the traveller faces the camera. It travels in the transaction's
    :class:`~kiosk.session.steps.ChipStep`: :meth:`KioskPipeline.match_face` waits for it and
    :meth:`KioskPipeline.release_reference` cancels or joins it when the face steps end."""

    verification: VerificationTransaction
    job: Future[None]


class _Frames:
    """The camera's new frames until ``deadline`` (taken at or after ``since``, the camera's
    clock); a camera that stops delivering raises :class:`CameraError`."""

    def __init__(
        self, camera: Camera, settings: CaptureSettings, deadline: float, since: float = 0.0
    ) -> None:
        self.camera, self.settings = camera, settings
        self.deadline, self.since = deadline, since

    def frames(self, cancel: threading.Event, limit: int) -> Iterator[Frame]:
        camera, settings = self.camera, self.settings
        latest = camera.latest_frame()
        last_index = latest.index if latest is not None and self.since else -1
        last_frame_at = time.monotonic()
        count = 0
        while count < limit and time.monotonic() < self.deadline and not cancel.is_set():
            # frames come from the camera's buffer: no driver call, any thread may read them
            frame = camera.wait_frame(last_index, timeout_s=min(1.0, settings.frame_timeout_s))
            if frame is None:
                if camera.status is CameraStatus.STARTING:  # first frame not there yet:
                    last_frame_at = time.monotonic()  # the step's own time-out bounds this
                elif time.monotonic() - last_frame_at > settings.frame_timeout_s:
                    raise CameraError("the camera stopped delivering frames")
                cancel.wait(0.02)  # a stopped camera answers at once: do not spin
                continue
            last_frame_at = time.monotonic()
            last_index = frame.index
            if frame.timestamp < self.since:
                continue  # taken before the prompt was presented
            count += 1
            yield frame
            last_frame_at = time.monotonic()  # the gap counts from here, not the frame


@dataclass(frozen=True)
class _ChipRead:
    """What the chip reader's job hands back: the files read, or why none were."""

    read: PassportRead | None
    failure: ChipFailure | None = None
    code: str | None = None
    verdict: ChipVerdict | None = None


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
        passage: PassageSettings = PassageSettings(),
        keep_samples: bool = True,
        face_detector: Detect | None = None,
        group_recorder: GroupRecorder | None = None,
        camera_mount: CameraMount | None = None,
        reference_wait_s: float = 10.0,
    ) -> None:
        self.chip_reader = chip_reader
        self.camera = camera
        self.gate = gate
        self.verifier = verifier
        self.new_verification = matcher
        self.liveness = liveness
        self.screener = screener
        self.recorder = recorder
        self.group_recorder = group_recorder
        self.camera_mount = camera_mount  # aimed at each traveller's face (kiosk.session.mount_aim)
        self.kiosk_id = kiosk_id
        self._threshold = face_threshold
        self.capture = capture
        self.card_wait_s = card_wait_s
        self.passage = passage
        self.keep_samples = keep_samples
        self.face_detector = face_detector  # the tracker's detector (a worker process's)
        # one worker makes the chip photos' templates (a thread handing them to the reference
        # side, its own process in the product); it keeps no traveller's data between jobs
        self._reference_worker = ThreadPoolExecutor(1, thread_name_prefix="kiosk-reference")
        # its thread now, with the kiosk's other threads, idle before the first job comes
        self._reference_worker.submit(lambda: None).result()
        self.reference_wait_s = reference_wait_s

    def face_threshold(self) -> float:
        return self._threshold

    # --- document ------------------------------------------------------------------------

    def read_document(self, lines: list[str]) -> DocumentStep:
        return document_step(lines)

    # --- chip ----------------------------------------------------------------------------

    def read_chip(self, document: DocumentStep, cancel: threading.Event) -> ChipStep:
        token = cancel if isinstance(cancel, CancelToken) else CancelToken()
        executor = self.chip_reader.executor
        if executor is None:
            outcome = self._read_on_device(document, token)
        else:  # one job on the reader's thread; cancelled, it stops before its next APDU
            outcome = executor.call(self._read_on_device, document, token, token=token)
        if outcome.read is None or outcome.verdict is None:
            return ChipStep(read=False, failure=outcome.failure, error=outcome.code)
        read, verdict = outcome.read, outcome.verdict
        # the chip photo is handed on (and decoded) only once Passive Authentication proved DG2
        portrait = _portrait(read) if _dg2_proven(verdict.details) else None
        reference = self._encode_reference_in_background(portrait) if portrait else None
        detailed = getattr(verdict.details, "checks", None)
        results = tuple(detailed.values()) if isinstance(detailed, dict) else ()
        return ChipStep(
            read=True,
            checks=dict(verdict.checks),
            authentic=verdict.authentic,
            portrait=portrait,
            access=read.access,
            check_results=tuple(r for r in results if isinstance(r, CheckResult)),
            details=verdict.details,
            reference=reference,
            document=_chip_document(read, verdict.details),
        )

    def _read_on_device(self, document: DocumentStep, cancel: CancelToken) -> _ChipRead:
        """Runs on the chip reader's executor: wait for the card, open it, read it, let go."""
        reader = self.chip_reader
        deadline = time.monotonic() + self.card_wait_s
        while not reader.card_present():
            if cancel.is_set() or time.monotonic() > deadline:
                return _ChipRead(None, ChipFailure.NO_CHIP, ChipFailure.NO_CHIP.value)
            cancel.wait(0.02)
        atr = reader.connect()
        try:
            limits = reader.limits
            read = read_passport(
                reader.transmit,
                mrz_info=document.mrz_information,
                extended_length=limits.extended_length,
                max_response_bytes=limits.max_response_bytes,
                atr=atr,
            )
            # Active and Chip Authentication talk to the chip: verified while it is connected
            return _ChipRead(read, verdict=self.verifier(read, document.parsed))
        except AccessDeniedError:
            log.info("chip access denied")
            return _ChipRead(None, ChipFailure.ACCESS_DENIED, ChipFailure.ACCESS_DENIED.value)
        except (CardUnresponsiveError, NoCardError) as exc:  # the chip's fault, not the reader's
            log.info("chip read failed: %s", exc.code)
            return _ChipRead(None, ChipFailure.UNREADABLE, exc.code)
        except (ChipReaderError, ExecutorError):
            raise  # the reader failed, the card was pulled or the read was cancelled
        except KioskError as exc:  # the chip fell silent, its answers did not parse or broke
            # the protocol
            log.info("chip read failed: %s", exc.code)
            return _ChipRead(None, ChipFailure.UNREADABLE, exc.code)
        finally:
            reader.disconnect()

    # --- face ----------------------------------------------------------------------------

    def capture_face(
        self,
        cancel: threading.Event,
        guidance: GuidanceSink,
        challenge: ChallengeCue | None = None,
    ) -> CaptureStep:
        """Frame the face (guidance until a good frame is kept), then, with ``challenge``,
        announce the liveness challenge and judge only the frames taken after it was
        presented: a blink or a head turn the traveller was asked for, not one that happened
        before the prompt. Without ``challenge`` the framing frames are judged."""
        settings = self.capture
        tracker = FaceTracker(
            detect_every=settings.detect_every,
            detect_max_side=settings.detect_max_side,
            detect=self.face_detector,
        )
        best = BestFrame()
        framing = _Frames(self.camera, settings, time.monotonic() + settings.window_s)
        token = cancel if isinstance(cancel, CancelToken) else CancelToken()
        aim = MountAim(self.camera_mount, guidance, token)
        observations: list[Observation] = []
        last_code: str | None = None
        for frame in framing.frames(cancel, settings.frames):
            observation = tracker.process(frame.image, frame.timestamp)
            aim.observe(observation.quality)
            observations.append(observation)
            best.offer(frame.image, observation.quality, observation.landmarks)
            code = observation.quality.guidance.code
            if code != last_code:
                last_code = code
                guidance(code, observation.quality.guidance.text)
            if challenge is not None and best.image is not None and aim.aimed:
                break  # framed (and the camera pointed at the face): now the challenge
            if best.image is not None and self._enough_evidence(observations, settings.frames):
                break
        if best.image is None:
            worst = observations[-1].quality.guidance if observations else Guidance.NO_FACE
            return CaptureStep(ok=False, frames=tuple(observations), guidance=worst.code)
        if challenge is None or cancel.is_set():
            return CaptureStep(ok=True, best_frame=best.image, frames=tuple(observations))
        challenge()  # returns once the screen and the voice presented it
        prompted_at = time.monotonic()
        judged: list[Observation] = []
        after = _Frames(self.camera, settings, prompted_at + settings.challenge_s, prompted_at)
        for frame in after.frames(cancel, settings.challenge_frames):
            observation = tracker.process(frame.image, frame.timestamp)
            judged.append(observation)
            best.offer(frame.image, observation.quality, observation.landmarks)
            if self._enough_evidence(judged, settings.challenge_frames):
                break
        return CaptureStep(
            ok=True, best_frame=best.image, frames=tuple(judged), prompted_at=prompted_at
        )

    def _enough_evidence(self, observations: list[Observation], limit: int) -> bool:
        """True when the frames so far already convince the liveness check."""
        settings, count = self.capture, len(observations)
        if count < settings.early_stop_frames or count >= limit:
            return False
        if (count - settings.early_stop_frames) % max(1, settings.liveness_every):
            return False
        return bool(self.liveness.assess(observations).live)

    def _encode_reference_in_background(self, portrait: bytes) -> FaceReference:
        """Start the chip photo's template now, on the reference worker, while the traveller
        faces the camera; the transaction's own verification object keeps the template."""
        verification = self.new_verification()
        context = contextvars.copy_context()  # logs under the transaction id

        def encode() -> None:
            try:
                verification.reference(portrait)
            except Exception as exc:  # match_face encodes again and reports the problem
                log.info("chip photo pre-encoding failed: %s", type(exc).__name__)

        return FaceReference(verification, self._reference_worker.submit(context.run, encode))

    def release_reference(self, chip: ChipStep | None) -> None:
        """End of the transaction's face steps: a chip photo template not started yet is
        cancelled, one being made is waited for (bounded), and the template is let go with
        the step record, so no job of this traveller runs into the next transaction."""
        reference = chip.reference if chip is not None else None
        if not isinstance(reference, FaceReference) or reference.job.cancel():
            return
        done, _ = wait([reference.job], timeout=self.reference_wait_s)
        if not done:
            log.warning("the chip photo template did not finish at the end of the transaction")

    def close(self) -> None:
        """Stop the reference worker (a job being made is finished first)."""
        self._reference_worker.shutdown(wait=True, cancel_futures=True)

    def check_liveness(self, capture: CaptureStep) -> LivenessStep:
        result = self.liveness.assess(list(capture.frames))
        log.info("liveness %s", "live" if result.live else f"refused ({result.reason})")
        return LivenessStep(bool(result.live), None if result.live else str(result.reason))

    def match_face(self, capture: CaptureStep, chip: ChipStep) -> MatchStep:
        portrait = chip.portrait
        if portrait is None:
            return MatchStep(None, rejected="no_portrait")
        reference = chip.reference
        if isinstance(reference, FaceReference):
            # usually done already: it ran during the capture; if not, it is finishing
            start = time.perf_counter()
            wait([reference.job], timeout=self.reference_wait_s)
            waited_ms = (time.perf_counter() - start) * 1e3
            if waited_ms >= 1.0:
                log.info("waited %.0f ms for the chip photo template", waited_ms)
            verification = reference.verification
        else:
            verification = self.new_verification()
        if verification.reference_unusable(portrait):
            rejected = verification.reference(portrait)
            log.info("chip photo unusable: %s", getattr(rejected, "detail", "-"))
            return MatchStep(None, rejected=CHIP_PHOTO_UNUSABLE, reference_unusable=True)
        rgb = np.ascontiguousarray(capture.best_frame[:, :, ::-1])
        outcome = verification.verify(rgb, portrait)
        if isinstance(outcome, ImageRejected):
            log.info("face not verified: %s", outcome.code)
            return MatchStep(None, rejected=outcome.code)
        log.info("face distance %.3f", outcome.distance)
        return MatchStep(
            float(outcome.distance), _jpeg(capture.best_frame) if self.keep_samples else None
        )

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
        manifest = result.manifest
        on_manifest: bool | None = None
        if manifest.status is not ManifestStatus.NO_MANIFEST:
            on_manifest = manifest.status is ManifestStatus.EXPECTED
        vetting = manifest.match.vetting if manifest.match else VettingStatus.NOT_VETTED
        return ScreeningStep(
            lost_or_stolen=result.lost_stolen.hit,
            watchlist_hits=len(result.watchlist.hits),
            watchlist_age_hours=result.watchlist.list.age_hours,
            on_manifest=on_manifest,
            details=result,
            checks=screening_checks(result),
            vetting=vetting.value,
            vetting_reasons=manifest.match.vetting_reasons if manifest.match else (),
        )

    # --- records and gate ----------------------------------------------------------------

    def record(self, record: DecidedTransaction) -> None:
        self.recorder(record)

    def record_all(self, records: Sequence[DecidedTransaction]) -> None:
        """A family's records, kept together or not at all."""
        if self.group_recorder is None:
            raise KioskError("this kiosk records no group of records")
        self.group_recorder(records)

    def pass_gate(
        self, transaction_id: str, cancel: threading.Event, persons: int = 1
    ) -> PassageResult:
        """Walk the accepted traveller (or family of ``persons``) through the two doors
        (``kiosk.session.passage``)."""
        token = cancel if isinstance(cancel, CancelToken) else CancelToken(transaction_id)
        return pass_gate(self.gate, self.passage, token, persons)

    def counts_persons(self) -> bool:
        """Whether the gate can let a group through (its board counts persons inside)."""
        return self.gate.counts_persons


def screening_checks(result: ScreeningResult) -> tuple[CheckResult, ...]:
    """Screening outcomes with the list versions, without any name."""
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
            (f"{len(watch.hits)} candidate(s), best score {best:.2f}, source {', '.join(sources)}")[
                :500
            ]
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
    out.append(vetting_check(manifest.match))
    return tuple(out)


def latest_birth_date(value: object) -> date | None:
    """A birth date for the age rules; a partial one counts as the latest it could be."""
    if isinstance(value, date):
        return value
    year = getattr(value, "year", None)
    if not isinstance(year, int):
        return None
    month = getattr(value, "month", None) or 12
    return date(year, month, 28 if month == 2 else 30)


def document_step(lines: list[str]) -> DocumentStep:
    """The document facts of MRZ lines (the printed ones, or DG1's)."""
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


def _dg2_proven(details: Any) -> bool:
    return _proven(details, "DG2")


def _proven(details: Any, data_group: str) -> bool:
    proven = getattr(details, "proven", None)
    return bool(proven(data_group)) if callable(proven) else False


def _chip_document(read: PassportRead, details: Any) -> DocumentStep | None:
    """The document facts from DG1 once Passive Authentication proved it: what screening and
    the policy use, rather than the printed page (which a forger controls)."""
    raw = read.files.get("DG1")
    if raw is None or not _proven(details, "DG1"):
        return None
    try:
        mrz = parse_dg1(raw).mrz
    except ParseError:
        return None
    step = document_step(mrz.split("\n"))
    return step if step.readable else None


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


def vetting_check(match: ManifestMatch | None) -> CheckResult:
    """The central server's pre-arrival vetting as the officer sees it (with its reasons)."""
    vetting = match.vetting if match else VettingStatus.NOT_VETTED
    if vetting is VettingStatus.CLEARED:
        return CheckResult("vetting", CheckStatus.PASSED, None, vetting.value)
    if vetting is VettingStatus.REFERRED:
        reasons = "; ".join(match.vetting_reasons) if match else ""
        detail = f"{vetting.value}: {reasons or 'referred by the pre-arrival vetting'}"
        return CheckResult("vetting", CheckStatus.FAILED, "vetting_referral", detail[:500])
    return CheckResult("vetting", CheckStatus.NOT_PERFORMED, None, vetting.value)
