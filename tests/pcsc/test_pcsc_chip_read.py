"""``kiosk chip read --reader "Virtual PCD"`` end to end: pyscard -> pcscd -> vpcd -> the
passport chip emulator, for every shipped profile (genuine and defective).

Genuine passports are put on "Virtual PCD 00 00" one by one (inserted, read, removed). The
many defective ones share one card kept on the second slot, "Virtual PCD 00 01", whose chip
is swapped between tests: pcscd notices a card only a few times a second, and inserting and
removing each of them would make these tests slow without testing anything more.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.pcsc import list_readers
from hardware.pcscd import PcscDaemon
from hardware.sim.chip import LatencyModel, PassportChip
from hardware.sim.chip_image import (
    DG_FIDS,
    FID_EF_CARDACCESS,
    FID_EF_CARDSECURITY,
    FID_EF_COM,
    FID_EF_SOD,
)
from hardware.sim.passports import profile_listing
from hardware.sim.vpcd import VirtualCard, VpcdCardLink
from kiosk.cli.main import main

pytestmark = pytest.mark.pcsc

PROFILES = {p["name"]: p for p in profile_listing()}
GENUINE = sorted(name for name, p in PROFILES.items() if p["genuine"])
DEFECTIVE = sorted(name for name, p in PROFILES.items() if not p["genuine"])
# The checks a reader fails before it has the files; every other defect is found afterwards
# by verification, so those documents must be read whole.
REFUSED_AT_READ = {
    "access_control:access_denied",
    "document_readable:chip_not_responding",
    "document_readable:secure_messaging_dropped",
}
FILE_NAMES = {FID_EF_COM: "EF_COM", FID_EF_SOD: "EF_SOD"} | {
    fid: f"DG{n}" for n, fid in DG_FIDS.items()
}


SECOND_SLOT = "Virtual PCD 00 01"


class CardSlot:
    """A card that stays on the second vpcd slot; ``load(chip)`` puts another chip in it."""

    def __init__(self, port: int) -> None:
        self.chip: VirtualCard | None = None
        self.link = VpcdCardLink(self, "127.0.0.1", port)

    @property
    def atr(self) -> bytes:
        return bytes.fromhex("3B8880014D52544430303031D8")

    def load(self, chip: PassportChip) -> None:
        chip.power_on()
        self.chip = chip

    def power_on(self) -> None:
        if isinstance(self.chip, PassportChip):
            self.chip.power_on()

    def power_off(self) -> None:
        if isinstance(self.chip, PassportChip):
            self.chip.power_off()

    def transmit(self, apdu: bytes) -> bytes:
        assert self.chip is not None
        return self.chip.transmit(apdu)


def _wait_slot(name: str, present: bool, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(r.name == name and r.card_present == present for r in list_readers()):
            return
        time.sleep(0.05)
    raise AssertionError(f"pcscd did not see card_present={present} on {name}")


@pytest.fixture(scope="module")
def card_slot(pcscd: PcscDaemon) -> Iterator[CardSlot]:
    slot = CardSlot(pcscd.vpcd_port + 1)
    slot.link.insert()
    _wait_slot(SECOND_SLOT, True)
    yield slot
    slot.link.remove()
    if pcscd.running:
        _wait_slot(SECOND_SLOT, False)


@pytest.fixture(autouse=True)
def _drop_cli_log_handlers() -> Iterator[None]:
    """main() installs a stderr log handler; capsys closes that stream after the test."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk", False):
            root.removeHandler(handler)


@pytest.fixture
def chip_read(
    kiosk_home: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, dict[str, Any]]]:
    """Run ``kiosk chip read --reader "Virtual PCD" ... --json``: (exit code, JSON)."""

    def run(*options: str, reader: str = "Virtual PCD") -> tuple[int, dict[str, Any]]:
        code = main(["chip", "read", "--reader", reader, "--wait", "3", "--json", *options])
        out = capsys.readouterr().out
        return code, json.loads(out)

    return run


def _refused_at_read(expected: dict[str, Any]) -> bool:
    check, reason = expected["failed_check"], expected["reason"]
    return check in REFUSED_AT_READ or f"{check}:{reason}" in REFUSED_AT_READ


def _expected_files(image: Any) -> dict[str, bytes]:
    files = {FILE_NAMES[fid]: data for fid, data in image.application_files.items()}
    if FID_EF_CARDACCESS in image.master_files:
        files["EF_CardAccess"] = image.master_files[FID_EF_CARDACCESS]
    if FID_EF_CARDSECURITY in image.master_files:  # read after PACE-CAM
        files["EF_CardSecurity"] = image.master_files[FID_EF_CARDSECURITY]
    return files


def _assert_read_whole(
    code: int, result: dict[str, Any], image: Any, out: Path, printed_mrz: str
) -> None:
    assert code == 0, result
    expected = _expected_files(image)
    # THEN every file of the chip is written, byte for byte, and only its size is printed
    assert result["files"] == {name: len(data) for name, data in expected.items()}
    for name, data in expected.items():
        assert (out / f"{name}.bin").read_bytes() == data
    pace = image.pace and FID_EF_CARDACCESS in image.master_files
    assert result["access"] == ("PACE" if pace else "BAC")
    assert result["timings_ms"]["total"] > 0
    document_number = printed_mrz.splitlines()[1][:9].rstrip("<")
    assert document_number not in json.dumps(result)


@pytest.mark.parametrize("profile", GENUINE)
def test_every_genuine_passport_is_read_through_pcscd(
    profile: str,
    passports: Any,
    plug_card: Callable[..., VpcdCardLink],
    chip_read: Callable[..., tuple[int, dict[str, Any]]],
    tmp_path: Path,
) -> None:
    # GIVEN the genuine passport on the vpcd reader and its printed MRZ
    image = passports.chip_image(profile)
    mrz = passports.printed_mrz(profile)
    plug_card(PassportChip(image))
    # WHEN it is read with the MRZ
    out = tmp_path / "out"
    code, result = chip_read("--mrz", mrz, "--out", str(out))
    # THEN every file arrives whole, with extended length only when the chip announces it
    _assert_read_whole(code, result, image, out, mrz)
    assert result["extended_length"] is image.extended_length


@pytest.mark.parametrize(
    ("profile", "access", "cipher"),
    [
        ("lca-bac-only", "BAC", "3DES"),
        ("lca-pace-only", "PACE", "AES-128"),
        ("lca-genuine", "PACE", "AES-128"),  # PACE and BAC: PACE is preferred
        ("guy-genuine", "PACE", "3DES"),
        ("tto-genuine", "PACE", "AES-256"),
    ],
)
def test_access_protocol_and_cipher(
    profile: str,
    access: str,
    cipher: str,
    passports: Any,
    card_slot: CardSlot,
    chip_read: Callable[..., tuple[int, dict[str, Any]]],
) -> None:
    card_slot.load(PassportChip(passports.chip_image(profile)))
    code, result = chip_read("--mrz", passports.printed_mrz(profile), reader=SECOND_SLOT)
    assert code == 0
    assert (result["access"], result["secure_messaging"]) == (access, cipher)


def test_the_can_opens_a_pace_chip(
    passports: Any,
    card_slot: CardSlot,
    chip_read: Callable[..., tuple[int, dict[str, Any]]],
) -> None:
    image = passports.chip_image("lca-id-card")
    card_slot.load(PassportChip(image))
    code, result = chip_read("--can", image.can, reader=SECOND_SLOT)
    assert code == 0 and result["access"] == "PACE" and "DG1" in result["files"]


@pytest.mark.parametrize("profile", DEFECTIVE)
def test_defective_passport_is_read_or_refused_as_its_profile_says(
    profile: str,
    passports: Any,
    card_slot: CardSlot,
    plug_card: Callable[..., VpcdCardLink],
    chip_read: Callable[..., tuple[int, dict[str, Any]]],
    tmp_path: Path,
) -> None:
    # GIVEN a defective document on the reader and the MRZ printed on its data page
    expected = PROFILES[profile]["expected"]
    image = passports.chip_image(profile)
    mrz = passports.printed_mrz(profile)
    reader = SECOND_SLOT
    if image.behaviour.stop_after_bytes_read is not None or image.behaviour.mute:
        plug_card(PassportChip(image))  # a silent chip drops its link: not the shared one
        reader = "Virtual PCD"
    else:
        card_slot.load(PassportChip(image))
    # WHEN it is read
    out = tmp_path / "out"
    code, result = chip_read("--mrz", mrz, "--out", str(out), reader=reader)
    # THEN a document that fails at access control or goes silent is refused with a typed
    # error, and any other is read whole (verification finds its defect)
    if not _refused_at_read(expected):
        _assert_read_whole(code, result, image, out, mrz)
        if expected["reason"] == "malformed_sod":
            assert result["truncated"] == ["EF_SOD"]
        return
    assert code == 1
    if expected["failed_check"] == "access_control":
        assert result["error"] == "access_denied"
        assert "refused access" in result["message"] and "MRZ" in result["message"]
    elif expected["reason"] == "secure_messaging_dropped":
        assert result["error"] == "icao_sm_unprotected_response"
    else:
        assert result["error"] == "chip_card_removed"
    assert not out.exists()


def test_wrong_mrz_is_access_denied_with_a_clear_message(
    passports: Any,
    card_slot: CardSlot,
    chip_read: Callable[..., tuple[int, dict[str, Any]]],
) -> None:
    # GIVEN the Saint Lucia passport on the reader WHEN the Jamaican passport's MRZ is given
    card_slot.load(PassportChip(passports.chip_image("lca-genuine")))
    code, result = chip_read("--mrz", passports.printed_mrz("jam-genuine"), reader=SECOND_SLOT)
    # THEN access is denied, exit 1, with a message saying what to check
    assert code == 1
    assert result["error"] == "access_denied"
    assert "does not open this chip" in result["message"]


class _PulledAfter:
    """The chip, slowed to contactless speed, that signals once it has answered ``count``
    APDUs (the moment the test pulls it off the reader)."""

    def __init__(self, chip: PassportChip, count: int) -> None:
        self.chip = chip
        self.count = count
        self.answered = 0
        self.reached = threading.Event()

    @property
    def atr(self) -> bytes:
        return self.chip.atr

    def power_on(self) -> bytes:
        return self.chip.power_on()

    def power_off(self) -> None:
        self.chip.power_off()

    def reset(self) -> None:
        self.chip.reset()

    def transmit(self, apdu: bytes) -> bytes:
        self.answered += 1
        if self.answered == self.count:
            self.reached.set()
        return self.chip.transmit(apdu)


def test_card_pulled_out_mid_read_is_a_typed_error(
    passports: Any,
    plug_card: Callable[..., VpcdCardLink],
    chip_read: Callable[..., tuple[int, dict[str, Any]]],
) -> None:
    # GIVEN a chip answering at 106 kbit/s with 30 ms per APDU, pulled after 12 APDUs
    # (access is established; the files are being read)
    chip = PassportChip(
        passports.chip_image("lca-genuine"), latency=LatencyModel(0.03, bit_rate=106_000)
    )
    card = _PulledAfter(chip, 12)
    link = plug_card(card)

    def pull() -> None:
        if card.reached.wait(10):
            link.remove()

    puller = threading.Thread(target=pull, name="kiosk-test-pull-card")
    puller.start()
    try:
        # WHEN the kiosk reads it
        code, result = chip_read("--mrz", passports.printed_mrz("lca-genuine"))
    finally:
        card.reached.set()
        puller.join(10)
    # THEN the read ends with the typed "card removed" error, exit 1, no traceback
    assert card.answered >= 12
    assert code == 1
    assert result["error"] == "chip_card_removed"
