"""Small chip images for the ICAO protocol tests (raw files; LDS content is not needed)."""

from __future__ import annotations

from hardware.sim.chip_image import ChipImage, PaceParameters
from kiosk.icao import tlv
from kiosk.icao.crypto import CipherKind
from kiosk.icao.pace import PaceInfo, encode_card_access, pace_oid

MRZ_INFO = "L898902C<369080619406236"
CAN = "123456"
EF_COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")
DG1 = tlv.encode(0x61, tlv.encode(0x5F1F, b"P<UTOERIKSSON<<ANNA<MARIA".ljust(88, b"<")))
DG2 = tlv.encode(0x75, bytes(range(256)) * 140)  # 35 KB: needs READ BINARY B1 past 32767


def build_image(pace: list[tuple[str, int]] | None = None, *, bac: bool = True) -> ChipImage:
    master: dict[int, bytes] = {}
    if pace:
        master[0x011C] = encode_card_access([PaceInfo(oid, 2, pid) for oid, pid in pace])
    return ChipImage(
        application_files={0x011E: EF_COM, 0x0101: DG1, 0x0102: DG2},
        master_files=master,
        mrz_information=MRZ_INFO,
        can=CAN,
        bac=bac,
        pace=[PaceParameters(oid, pid) for oid, pid in (pace or [])],
    )


def pace_variant(parameter_id: int, cipher: CipherKind, key_length: int) -> tuple[str, int]:
    agreement = "DH" if parameter_id < 8 else "ECDH"
    return pace_oid(agreement, "GM", cipher, key_length), parameter_id
