"""One call that reads a passport chip (ICAO 9303 Parts 10 and 11).

Given a way to transmit APDUs and a password (MRZ information or CAN): learn from the ATR or
EF.ATR/INFO whether the chip takes extended-length APDUs, establish access (PACE, else BAC),
read EF.COM and EF.SOD, then every data group that either of them lists (DG3 and DG4 need
Extended Access Control and are skipped, recorded as such), and return the raw files with
the time each step took. A file the chip does not give is recorded in ``skipped`` with the
reason: verification counts a withheld file against the chip, never for it. Parsing and
verification are separate steps (``kiosk.icao.lds`` and ``kiosk.icao.auth``); the raw bytes
are what they verify.

Pure: the transmit function is handed in, so this runs over PC/SC, vpcd or in-process alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.icao.access import AccessResult, establish_access
from kiosk.icao.apdu import SW_SECURITY_STATUS
from kiosk.icao.errors import ApduError, TruncatedFileError
from kiosk.icao.extended_length import ChipLengthSupport, chip_length_support
from kiosk.icao.files import FileReader
from kiosk.icao.lds.com import parse_com
from kiosk.icao.lds.errors import LdsParseError
from kiosk.icao.lds.sod import parse_sod
from kiosk.icao.rng import RandomBytes, system_random
from kiosk.icao.transport import ApduChannel
from models.errors import ParseError

log = logging.getLogger(__name__)

FID_EF_COM = 0x011E
FID_EF_SOD = 0x011D
EAC_PROTECTED = frozenset({3, 4})  # fingerprints and irises: Terminal Authentication needed

Transmit = Callable[[bytes], bytes]


def file_name(fid_or_dg: int | str) -> str:
    """Names used on disk and in JSON: EF_COM, EF_SOD, EF_CardAccess, DG1 ... DG16."""
    if isinstance(fid_or_dg, str):
        return fid_or_dg
    return f"DG{fid_or_dg}"


@dataclass
class PassportRead:
    """The raw files of one chip, by name, and what reading cost."""

    access: str  # PACE | BAC
    files: dict[str, bytes]
    listed: tuple[int, ...]  # data groups EF.COM or the SOD lists
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why it was not read
    timings_ms: dict[str, float] = field(default_factory=dict)
    access_result: AccessResult | None = None
    channel: ApduChannel | None = None  # still open: AA and CA use it
    # files the chip holds fewer bytes of than their header claims (kept as read, in files)
    truncated: tuple[str, ...] = ()
    length_support: ChipLengthSupport | None = None

    @property
    def data_groups(self) -> dict[int, bytes]:
        return {int(k[2:]): v for k, v in self.files.items() if k.startswith("DG")}


def read_passport(
    transmit: Transmit,
    *,
    mrz_info: str | None = None,
    can: str | None = None,
    extended_length: bool = False,
    max_response_bytes: int = 258,
    rng: RandomBytes = system_random,
    data_groups: tuple[int, ...] | None = None,
    atr: bytes | None = None,
) -> PassportRead:
    """Open and read the chip; raises AccessDeniedError, ProtocolError or ParseError.

    ``extended_length`` says what the reader can carry; extended APDUs are used only when the
    chip says it takes them too (``atr``, or EF.ATR/INFO)."""
    timings: dict[str, float] = {}

    def lap(name: str, started: float) -> None:
        timings[name] = round((time.perf_counter() - started) * 1000, 3)

    channel = ApduChannel(
        transmit, extended_length=extended_length, max_response_bytes=max_response_bytes
    )
    support: ChipLengthSupport | None = None
    if extended_length:
        support = chip_length_support(channel, atr)
        channel.extended_length = support.extended
        log.info("extended length: %s (%s)", support.extended, support.source)
    t0 = time.perf_counter()
    access = establish_access(channel, mrz_info=mrz_info, can=can, rng=rng)
    lap("access", t0)
    log.info("chip access by %s", access.protocol)
    files: dict[str, bytes] = {}
    if access.card_access is not None:
        files["EF_CardAccess"] = access.card_access
    if access.card_security is not None:
        files["EF_CardSecurity"] = access.card_security
    reader = FileReader(channel)
    truncated: list[str] = []

    def read(name: str, fid: int) -> None:
        t0 = time.perf_counter()
        try:
            files[name] = reader.read_file(fid)
        except TruncatedFileError as exc:  # kept: verification reports it
            log.warning("%s shorter than its header says", name)
            files[name] = exc.partial
            truncated.append(name)
        lap(name, t0)

    skipped: dict[str, str] = {}

    def read_or_skip(name: str, fid: int) -> None:
        try:
            read(name, fid)
        except ApduError as exc:  # a protected status word: the chip withholds the file
            if exc.sw == SW_SECURITY_STATUS:
                skipped[name] = "access_denied"
            elif exc.sw in (0x6A82, 0x6A88):
                skipped[name] = "not_found"
            else:
                raise

    read_or_skip("EF_COM", FID_EF_COM)
    read_or_skip("EF_SOD", FID_EF_SOD)
    listed: set[int] = set()
    if "EF_COM" in files:
        try:
            listed.update(parse_com(files["EF_COM"]).data_groups)
        except LdsParseError as exc:
            log.warning("EF.COM unparsable (%s); using the SOD's list", exc.code)
    if "EF_SOD" in files:
        try:
            listed.update(parse_sod(files["EF_SOD"]).data_group_hashes)
        except (LdsParseError, ParseError) as exc:
            log.warning("EF.SOD unparsable (%s); using EF.COM's list", exc.code)
    listed.update((1, 2))  # mandatory whatever the lists say
    wanted = sorted(listed if data_groups is None else listed & set(data_groups))
    for number in wanted:
        name = file_name(number)
        if number in EAC_PROTECTED:
            skipped[name] = "needs_extended_access_control"
            continue
        read_or_skip(name, 0x0100 + number)
    timings["total"] = round(sum(v for k, v in timings.items()), 3)
    return PassportRead(
        access.protocol,
        files,
        tuple(wanted),
        skipped,
        timings,
        access,
        channel,
        tuple(truncated),
        support,
    )
