"""EF.SOD: the CMS SignedData holding the LDS security object (ICAO 9303 Part 10, 4.6.2).

Parsing keeps what passive authentication needs byte for byte: the encapsulated content as
signed, the signed attributes re-tagged as the SET that was signed, and the certificates.
Verifying is not done here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import algos

from kiosk.icao.lds import oids
from kiosk.icao.lds._tlv import encode_tlv, read_single
from kiosk.icao.lds.asn1_types import (
    DataGroupHash,
    DataGroupHashValues,
    LdsSecurityObject,
    LdsVersionInfo,
    parse_der,
)
from kiosk.icao.lds.errors import LdsEncodeError, LdsParseError
from kiosk.icao.lds.signed_data import SignerInfo, hash_name, parse_signed_data

SOD_TAG = 0x77
MAX_DATA_GROUP = 16


@dataclass(frozen=True)
class SecurityObject:
    """Parsed EF.SOD."""

    raw: bytes
    content_type: str  # eContentType (the ICAO OID or a legacy one)
    encapsulated_content: bytes  # the DER LDSSecurityObject the message digest covers
    version: int
    hash_algorithm: str  # name from oids.HASH_ALGORITHMS, or the dotted OID
    data_group_hashes: dict[int, bytes]
    lds_version: str | None
    unicode_version: str | None
    certificates: tuple[bytes, ...]  # DER certificates in the SignedData
    signer_infos: tuple[SignerInfo, ...]
    digest_algorithms: tuple[str, ...]

    @property
    def legacy_content_type(self) -> bool:
        return self.content_type in oids.LDS_SECURITY_OBJECT_LEGACY


def parse_lds_security_object(
    data: bytes,
) -> tuple[int, str, dict[int, bytes], str | None, str | None]:
    def check(lso: Any) -> tuple[int, str, dict[int, bytes], str | None, str | None]:
        version = int(lso["version"].native)
        if version not in (0, 1):
            raise LdsParseError(f"LDSSecurityObject version {version}")
        hash_oid = lso["hash_algorithm"]["algorithm"].dotted
        hashes: dict[int, bytes] = {}
        for item in lso["data_group_hash_values"]:
            number = int(item["data_group_number"].native)
            if not 1 <= number <= MAX_DATA_GROUP:
                raise LdsParseError(f"LDSSecurityObject lists data group {number}")
            if number in hashes:
                raise LdsParseError(f"LDSSecurityObject lists DG{number} twice")
            hashes[number] = bytes(item["data_group_hash_value"].native)
        info = lso["lds_version_info"]
        lds = unicode = None
        if info.native is not None:
            lds, unicode = str(info["lds_version"].native), str(info["unicode_version"].native)
        return version, hash_name(hash_oid), hashes, lds, unicode

    return parse_der(LdsSecurityObject, data, "LDSSecurityObject", check)


def parse_sod(data: bytes) -> SecurityObject:
    """Parse EF.SOD (tag 77 around a CMS ContentInfo)."""
    signed = parse_signed_data(read_single(data, SOD_TAG).value, "EF.SOD")
    version, hash_alg, hashes, lds, unicode = parse_lds_security_object(signed.content)
    return SecurityObject(
        raw=bytes(data),
        content_type=signed.content_type,
        encapsulated_content=signed.content,
        version=version,
        hash_algorithm=hash_alg,
        data_group_hashes=hashes,
        lds_version=lds,
        unicode_version=unicode,
        certificates=signed.certificates,
        signer_infos=signed.signer_infos,
        digest_algorithms=signed.digest_algorithms,
    )


def encode_lds_security_object(
    hash_algorithm: str,
    data_group_hashes: dict[int, bytes],
    lds_version: tuple[str, str] | None = None,
) -> bytes:
    """DER LDSSecurityObject; version 1 when the LDS version info is given (LDS 1.8)."""
    oid = oids.HASH_OIDS.get(hash_algorithm, hash_algorithm)
    if not all(part.isdigit() for part in oid.split(".")):
        raise LdsEncodeError(f"unknown hash algorithm {hash_algorithm}")
    values = DataGroupHashValues(
        [
            DataGroupHash({"data_group_number": n, "data_group_hash_value": h})
            for n, h in sorted(data_group_hashes.items())
        ]
    )
    fields: dict[str, Any] = {
        "version": 1 if lds_version else 0,
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": oid}),
        "data_group_hash_values": values,
    }
    if lds_version:
        fields["lds_version_info"] = LdsVersionInfo(
            {"lds_version": lds_version[0], "unicode_version": lds_version[1]}
        )
    return bytes(LdsSecurityObject(fields).dump())


def encode_sod(content_info_der: bytes) -> bytes:
    """Wrap a DER ContentInfo (SignedData) in the EF.SOD tag."""
    return encode_tlv(SOD_TAG, content_info_der)
