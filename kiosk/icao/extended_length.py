"""Whether the chip takes extended-length APDUs: its word, not the reader's limits.

ISO/IEC 7816-4 gives a chip two places to say so, and ICAO 9303 Part 10 readers look at both:

* the ATR's historical bytes, as compact-TLV (category indicator 80, or 00 with a status at
  the end): the third byte of the card capabilities object (tag 7) has bit b7 (40) set for
  "extended Lc and Le fields";
* EF.ATR/INFO (file 2F01 in the master file, short EF identifier 01), readable before access
  control, whose extended length information '7F66' holds the largest command and response.

Absent both, the reader uses short APDUs. A chip that claims extended length and then answers
6700 / 6Cxx is read with short APDUs after all (:class:`kiosk.icao.files.FileReader`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.icao import tlv
from kiosk.icao.apdu import SW_END_OF_FILE, SW_OK, CommandApdu
from kiosk.icao.errors import TlvError
from kiosk.icao.transport import ApduChannel
from models.errors import KioskError

log = logging.getLogger(__name__)

SFI_EF_ATR_INFO = 0x01
FID_EF_ATR_INFO = 0x2F01
TAG_EXTENDED_LENGTH_INFO = 0x7F66
CAPABILITIES_TAG = 0x7
EXTENDED_LC_LE = 0x40


@dataclass(frozen=True)
class ChipLengthSupport:
    extended: bool
    source: str  # "atr", "ef_atr_info" or "none"
    max_response_bytes: int | None = None


def historical_bytes(atr: bytes) -> bytes:
    """The historical bytes of an ATR (ISO/IEC 7816-3 8.2); empty when malformed."""
    if len(atr) < 2:
        return b""
    count = atr[1] & 0x0F
    indicator = atr[1] >> 4
    index = 2
    while True:
        index += bin(indicator & 0x07).count("1")  # TAi, TBi, TCi
        if not indicator & 0x08:
            break
        if index >= len(atr):
            return b""
        indicator = atr[index] >> 4
        index += 1
    out = atr[index : index + count]
    return out if len(out) == count else b""


def _compact_tlv(data: bytes) -> dict[int, bytes]:
    objects: dict[int, bytes] = {}
    index = 0
    while index < len(data):
        tag, length = data[index] >> 4, data[index] & 0x0F
        value = data[index + 1 : index + 1 + length]
        if len(value) != length:
            break
        objects.setdefault(tag, value)
        index += 1 + length
    return objects


def atr_declares_extended_length(atr: bytes | None) -> bool:
    """Whether the ATR's card capabilities announce extended Lc and Le."""
    history = historical_bytes(atr or b"")
    if not history:
        return False
    if history[0] == 0x80:
        body = history[1:]
    elif history[0] == 0x00 and len(history) >= 4:
        body = history[1:-3]
    else:
        return False  # proprietary historical bytes say nothing we can read
    capabilities = _compact_tlv(body).get(CAPABILITIES_TAG, b"")
    return len(capabilities) >= 3 and bool(capabilities[2] & EXTENDED_LC_LE)


def parse_extended_length_info(data: bytes) -> int | None:
    """The largest response EF.ATR/INFO's '7F66' allows (None: no such object)."""
    try:
        items = tlv.decode_all(data)
    except TlvError:
        try:  # padding after the objects
            items = tlv.decode_all(data.rstrip(b"\x00"))
        except TlvError:
            return None
    for item in items:
        if item.tag != TAG_EXTENDED_LENGTH_INFO:
            continue
        try:
            values = [int.from_bytes(c.value, "big") for c in item.children() if c.tag == 0x02]
        except TlvError:
            return None
        if len(values) >= 2 and values[1] > 256:
            return values[1]
        return None
    return None


def read_ef_atr_info(channel: ApduChannel) -> bytes | None:
    """EF.ATR/INFO, read by short EF identifier in one READ BINARY; None when absent."""
    command = CommandApdu(0x00, 0xB0, 0x80 | SFI_EF_ATR_INFO, 0x00, le=256)
    try:
        response = channel.send(command)
    except KioskError as exc:
        log.info("EF.ATR/INFO not readable (%s)", exc.code)
        return None
    if response.sw in (SW_OK, SW_END_OF_FILE) and response.data:
        return response.data
    return None


def chip_length_support(channel: ApduChannel, atr: bytes | None) -> ChipLengthSupport:
    """What the chip says about extended length, from the ATR, else EF.ATR/INFO."""
    if atr_declares_extended_length(atr):
        return ChipLengthSupport(True, "atr")
    info = read_ef_atr_info(channel)
    largest = parse_extended_length_info(info) if info is not None else None
    if largest is not None:
        return ChipLengthSupport(True, "ef_atr_info", largest)
    return ChipLengthSupport(False, "none")
