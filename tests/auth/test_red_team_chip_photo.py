"""The red team against the chip photo (DG2): bytes a chip chose, decoded by a C library.

Formats other than JPEG and JPEG 2000 and images declaring more than a portrait are refused
before any decoder runs; what is decoded is decoded only once DG2's hash is proven, and in a
worker process of its own (:class:`~kiosk.face.photo_decoder.ChipPhotoDecoder`) with a time and
memory limit. A JPEG 2000 within every header limit that still takes seconds to decode (20,000
tiles of 12 x 12 pixels), a decoder that hangs and a decoder that crashes each give a typed
error, a referral with ``face_match: chip_photo_unusable`` and a replaced worker; the kiosk
takes the next traveller.

GIVEN an attack on the chip photo WHEN the kiosk decodes it THEN the traveller is referred and
the kiosk carries on.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from hardware.sim.passports import PassportFactory
from kiosk.bench import auth as auth_bench
from kiosk.config import load_config
from kiosk.demo.kiosk_loop import GENUINE, DemoKioskLoop
from kiosk.face import chip_photo
from kiosk.face.images import ImageRejected
from kiosk.face.matcher import DlibFaceMatcher, VerificationTransaction
from kiosk.face.photo_decoder import ChipPhotoDecodeError, ChipPhotoDecoder
from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.session.pipeline import _dg2_proven
from models.records import Decision
from models.tables.transactions import CheckResultRow

from .conftest import ChipFactory, inspect_chip

# --- chip photos ---------------------------------------------------------------------------------


def _image(fmt: str, size: tuple[int, int] = (40, 50), **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 80, 60)).save(out, fmt, **options)
    return out.getvalue()


def _jp2_declaring(width: int, height: int) -> bytes:
    """A small real JPEG 2000 whose ihdr box and SIZ marker claim width x height."""
    data = bytearray(_image("JPEG2000"))
    ihdr = data.find(b"ihdr")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", height, width)
    siz = data.find(b"\xff\x4f\xff\x51")
    data[siz + 8 : siz + 16] = struct.pack(">II", width, height)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "format_not_allowed"),
        (_image("TIFF"), "format_not_allowed"),
        (_image("BMP"), "format_not_allowed"),
        (_image("PNG"), "format_not_allowed"),
        (_image("GIF"), "format_not_allowed"),
        (_jp2_declaring(7000, 7000), "too_large"),
        (_image("JPEG", (4100, 8)), "too_large"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "dimensions_unreadable"),
    ],
    ids=["eps", "tiff", "bmp", "png", "gif", "jp2-7000x7000", "jpeg-too-wide", "jpeg-no-sof"],
)
def test_chip_photo_outside_jpeg_and_jpeg2000_limits_is_never_decoded(
    data: bytes, detail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[bytes] = []
    monkeypatch.setattr(chip_photo, "decode_image", lambda *a, **k: decoded.append(a[0]))
    refused = chip_photo.decode_chip_photo(data)
    assert isinstance(refused, ImageRejected) and refused.detail == detail
    assert decoded == []


def test_chip_photo_jpeg_and_jpeg2000_decode() -> None:
    for data in (_image("JPEG"), _image("JPEG2000"), _image("JPEG2000", no_jp2=True)):
        assert getattr(chip_photo.decode_chip_photo(data), "shape", None) == (50, 40, 3)


@pytest.mark.parametrize(
    ("name", "proven"),
    [("lca-genuine", True), ("lca-dg2-swapped", False), ("lca-csca-unknown", False)],
)
def test_chip_photo_is_handed_on_only_when_dg2_is_proven(
    name: str,
    proven: bool,
    passports: PassportFactory,
    anchors: TrustAnchors,
    chip_for: ChipFactory,
) -> None:
    verdict = inspect_chip(chip_for(name), passports.printed_mrz(name), anchors)
    assert verdict.proven("DG2") is proven
    assert _dg2_proven(verdict) is proven


# --- the decoder's own limits: a worker process, a time limit -----------------------------------


@pytest.fixture(scope="module")
def slow_jp2() -> bytes:
    """A 1500 x 2000 JPEG 2000 of 20,834 tiles of 12 x 12 pixels: under 1 MB, 3 MP, every
    header limit met, and still seconds of OpenJPEG's time (a normal portrait: milliseconds)."""
    out = io.BytesIO()
    Image.new("RGB", (1500, 2000), (120, 130, 140)).save(out, "JPEG2000", tile_size=(12, 12))
    data = out.getvalue()
    assert chip_photo.check_chip_photo(data) is None  # nothing in its header gives it away
    return data


@pytest.fixture
def decoder() -> Iterator[ChipPhotoDecoder]:
    with ChipPhotoDecoder(timeout_s=60.0) as started:
        started.wait_ready()
        yield started
    assert not [p for p in multiprocessing.active_children() if p.name == "kiosk-face-decoder"]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_slow_jpeg2000_is_stopped_at_the_time_limit_and_the_worker_replaced(
    slow_jp2: bytes, decoder: ChipPhotoDecoder
) -> None:
    # GIVEN the kiosk's decoder with a time limit far below what the slow image takes
    decoder.timeout_s = 0.25
    first = decoder.worker.pid
    assert first is not None
    # WHEN the chip photo is the slow JPEG 2000 THEN a typed error, not a stuck kiosk ...
    with pytest.raises(ChipPhotoDecodeError) as raised:
        decoder.decode(slow_jp2)
    assert raised.value.detail == "decode_timeout"
    assert raised.value.code == "chip_photo_decode_failed"
    # ... the worker that was decoding is killed and reaped, a new one started at once
    assert _gone(first)
    assert decoder.worker.pid not in (None, first) and decoder.worker.restarts == 1
    # AND the verification turns it into a rejection of the chip photo (the traveller referred)
    transaction = VerificationTransaction(DlibFaceMatcher(0.6), decode=decoder.decode)
    rejected = transaction.reference(slow_jp2)
    assert isinstance(rejected, ImageRejected) and rejected.detail == "decode_timeout"
    assert transaction.reference_unusable(slow_jp2) and transaction.encodings == 1
    # AND the next traveller's photo decodes in the replaced worker
    decoder.timeout_s = 60.0
    assert getattr(decoder.decode(_image("JPEG2000")), "shape", None) == (50, 40, 3)


def test_a_decoder_that_crashes_mid_decode_is_a_typed_error_and_is_replaced(
    slow_jp2: bytes, decoder: ChipPhotoDecoder
) -> None:
    # GIVEN a decode under way in the worker (its CPU time rises) that then crashes (SIGSEGV,
    # as a memory-safety bug in the C decoder would)
    pid = decoder.worker.pid
    assert pid is not None
    idle = _cpu_ticks(pid)
    crashed = threading.Event()

    def crash_once_decoding() -> None:
        while not _gone(pid) and _cpu_ticks(pid) < idle + 3:
            time.sleep(0.005)
        if not _gone(pid):
            os.kill(pid, signal.SIGSEGV)
            crashed.set()

    killer = threading.Thread(target=crash_once_decoding, name="test-decoder-crash")
    killer.start()
    try:
        # WHEN the kiosk decodes the photo THEN a typed error names the crash
        with pytest.raises(ChipPhotoDecodeError) as raised:
            decoder.decode(slow_jp2)
    finally:
        killer.join(30)
    assert crashed.is_set()  # the fault fired while the worker was decoding
    assert raised.value.detail == "decoder_crashed"
    # AND a new worker decodes the next photo
    assert decoder.worker.pid not in (None, pid) and decoder.worker.restarts == 1
    assert getattr(decoder.decode(_image("JPEG")), "shape", None) == (50, 40, 3)


def test_a_photo_needing_more_memory_than_the_decoder_may_take_is_refused() -> None:
    # GIVEN a decoder allowed 8 MB more than it holds once Pillow is loaded
    big = io.BytesIO()
    Image.fromarray(np.full((2000, 1500, 3), 90, np.uint8)).save(big, "JPEG2000")
    with ChipPhotoDecoder(timeout_s=60.0, memory_limit_mb=8) as small:
        # WHEN a 3 MP portrait (9 MB of pixels) is decoded THEN a typed outcome, no crash
        try:
            outcome: Any = small.decode(big.getvalue())
        except ChipPhotoDecodeError as exc:
            outcome = exc
        assert isinstance(outcome, ImageRejected | ChipPhotoDecodeError), type(outcome)
        # AND the decoder still decodes a small portrait
        assert getattr(small.decode(_image("JPEG")), "shape", None) == (50, 40, 3)


def test_an_image_refused_by_its_header_never_reaches_the_worker() -> None:
    # GIVEN a decoder not even started WHEN a JPEG 2000 declaring 7000 x 7000 comes
    unstarted = ChipPhotoDecoder()
    try:
        refused = unstarted.decode(_jp2_declaring(7000, 7000))
        # THEN it is refused here, and no worker ran
        assert isinstance(refused, ImageRejected) and refused.detail == "too_large"
        assert unstarted.worker.pid is None
    finally:
        unstarted.close()


def test_a_hung_decoder_refers_the_traveller_and_the_kiosk_takes_the_next(tmp_path: Path) -> None:
    # GIVEN a running kiosk built by build_kiosk, whose chip photo decoder hangs (stopped)
    with DemoKioskLoop(load_config(None, data_dir=str(tmp_path / "kiosk"))) as loop:
        decoder = loop.kiosk.photo_decoder
        assert decoder is not None
        decoder.wait_ready()
        stuck = decoder.worker.pid
        assert stuck is not None
        os.kill(stuck, signal.SIGSTOP)
        # WHEN a genuine traveller comes
        first = loop.transact(GENUINE).outcome
        # THEN referred, the officer told the chip photo was unusable; the hung worker killed
        assert first.decision is Decision.REFER
        with loop.kiosk.database.read() as session:
            checks = session.scalars(
                select(CheckResultRow).where(
                    CheckResultRow.transaction_id == first.transaction_id,
                    CheckResultRow.name == "face_match",
                )
            ).all()
            assert [(c.status, c.reason) for c in checks] == [
                ("not_performed", "chip_photo_unusable")
            ]
        assert _gone(stuck) and decoder.worker.restarts == 1
        # AND once the new worker is up (readiness awaited as an event: on a loaded machine its
        # interpreter takes seconds to start), the next traveller is accepted
        decoder.wait_ready()
        assert loop.transact(GENUINE).outcome.decision is Decision.ACCEPT
    # AND the kiosk's shutdown stopped its decoder
    assert decoder.worker.pid is None


def test_bench_auth_reports_the_decoders_cost(passports: PassportFactory) -> None:
    # GIVEN the bench's chip photos (the profile's JPEG and the same portrait as JPEG 2000)
    portraits = auth_bench._portraits(passports.chip_image("lca-genuine"))
    assert chip_photo.declared_size(portraits["jpeg2000"])[0] == "jpeg2000"
    # WHEN one decode of each is timed THEN the worker's and the in-process figures are there
    figures = auth_bench._decode_ms(portraits, 1)
    assert set(figures["worker"]) == set(figures["in_process"]) == {"jpeg", "jpeg2000"}
    assert all(ms > 0 for ms in [*figures["worker"].values(), *figures["in_process"].values()])


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (_image("EPS"), False),
        (_image("TIFF"), False),
        (_image("PNG"), False),
        (_jp2_declaring(7000, 7000), False),
        (_image("JPEG"), True),
        (_image("JPEG2000"), True),
    ],
    ids=["eps", "tiff", "png", "jp2-7000x7000", "jpeg", "jpeg2000"],
)
def test_the_officers_booth_holds_the_chip_portrait_to_the_same_rules(
    data: bytes, shown: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the chip portrait of a referral as the kiosk sent it WHEN the booth shows it
    from ui.officer.images import to_png

    opened: list[Any] = []
    monkeypatch.setattr(chip_photo, "decode_image", _recording(opened, chip_photo.decode_image))
    png = to_png(data, chip=True)
    # THEN only a JPEG or JPEG 2000 within the portrait limits is decoded (and shown)
    assert (png is not None) is shown
    assert bool(opened) is shown
    # AND a live frame is decoded as JPEG only
    assert (to_png(data) is not None) is (data[:3] == b"\xff\xd8\xff")


def _recording(calls: list[Any], decode: Any) -> Any:
    def recorded(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return decode(*args, **kwargs)

    return recorded
