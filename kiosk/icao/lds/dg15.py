"""DG15: the Active Authentication public key (ICAO 9303 Part 10, 4.7.15)."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.icao.lds._tlv import encode_tlv, read_single
from kiosk.icao.lds.public_key import PublicKey, parse_public_key_info

DG15_TAG = 0x6F


@dataclass(frozen=True)
class Dg15:
    raw: bytes
    public_key: PublicKey


def parse_dg15(data: bytes) -> Dg15:
    return Dg15(bytes(data), parse_public_key_info(read_single(data, DG15_TAG).value))


def encode_dg15(spki_der: bytes) -> bytes:
    return encode_tlv(DG15_TAG, spki_der)
