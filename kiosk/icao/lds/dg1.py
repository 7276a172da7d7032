"""DG1: the MRZ as stored on the chip. Parsing the MRZ fields is ``kiosk.icao.mrz``'s job."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.icao.lds._tlv import encode_tlv, iter_tlvs, read_single, require
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError

DG1_TAG = 0x61
MRZ_TAG = 0x5F1F
# total length -> line length: TD1 (3 x 30), TD2 / MRV-B (2 x 36), TD3 / MRV-A (2 x 44)
LINE_LENGTHS = {90: 30, 72: 36, 88: 44}
_MRZ_CHARS = re.compile(r"[A-Z0-9<]*")


@dataclass(frozen=True)
class Dg1:
    raw: bytes
    mrz_tlv: bytes  # the 5F1F data object as stored
    mrz: str  # the lines joined with "\n"

    @property
    def lines(self) -> list[str]:
        return self.mrz.split("\n")


def parse_dg1(data: bytes) -> Dg1:
    children = list(iter_tlvs(read_single(data, DG1_TAG).value))
    mrz_obj = require(children, MRZ_TAG)
    try:
        text = mrz_obj.value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise LdsParseError("DG1: MRZ is not ASCII") from exc
    if len(text) not in LINE_LENGTHS:
        raise LdsParseError(f"DG1: MRZ of {len(text)} characters")
    if not _MRZ_CHARS.fullmatch(text):
        raise LdsParseError("DG1: MRZ holds characters outside A-Z 0-9 <")
    size = LINE_LENGTHS[len(text)]
    lines = [text[i : i + size] for i in range(0, len(text), size)]
    return Dg1(bytes(data), mrz_obj.raw, "\n".join(lines))


def encode_dg1(mrz: str) -> bytes:
    """DG1 from the MRZ lines (joined with newlines or not)."""
    text = mrz.replace("\n", "")
    if len(text) not in LINE_LENGTHS or not _MRZ_CHARS.fullmatch(text):
        raise LdsEncodeError("not a TD1, TD2 or TD3 MRZ")
    return encode_tlv(DG1_TAG, encode_tlv(MRZ_TAG, text.encode("ascii")))
