"""What a passport profile says (TOML in ``hardware/sim/profiles``), as pydantic models."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CHECKS = (
    "access_control",
    "sod_signature",
    "chain",
    "revocation",
    "hashes",
    "active_authentication",
    "chip_authentication",
    "mrz_consistency",
    "issuer_consistency",
    "expiry",
    "document_readable",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DocumentSpec(_Model):
    layout: Literal["TD3", "TD1"] = "TD3"
    document_type: str = "P"
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: dt.date
    sex: Literal["M", "F", "<"]
    expiry_date: dt.date
    issue_date: dt.date
    optional_data: str = ""


class FaceSpec(_Model):
    image: str  # file name under hardware/sim/profiles/faces
    format: Literal["jpeg", "jpeg2000"] = "jpeg"
    record: Literal["iso19794-5", "iso39794-5"] = "iso19794-5"
    gender: str | None = None
    eye_colour: str | None = None
    hair_colour: str | None = None


class PaceSpec(_Model):
    mapping: Literal["ecdh-gm", "dh-gm", "ecdh-im", "ecdh-cam"] = "ecdh-gm"
    cipher: Literal["3des", "aes128", "aes192", "aes256"] = "aes128"
    parameter_id: int = 13  # brainpoolP256r1


class ChipSpec(_Model):
    bac: bool = True
    pace: list[PaceSpec] = Field(default_factory=list)
    can: str | None = None
    aa_key: str | None = None  # "rsa:1024", "ec:brainpoolP256r1" ...
    aa_explicit_parameters: bool = False  # write EC domain parameters out in DG15
    ca_key: str | None = None  # "ec:brainpoolP256r1", "dh:modp1024-160"
    ca_key_id: int | None = None
    ca_cipher: Literal["3des", "aes128", "aes192", "aes256"] = "aes128"
    # false: a chip without extended length (ATR and EF.ATR/INFO say nothing of it, and an
    # extended APDU gets a plain 6700)
    extended_length: bool = True
    lds_version: str = "0108"
    unicode_version: str = "040000"


class SecuritySpec(_Model):
    hash: str = "sha256"  # hash of the data groups in the LDS security object
    signer: str | None = None  # country whose DS signs; default the issuing state
    ds_variant: str = "current"
    signing_time: dt.date | None = None  # default: the issue date


class Expected(_Model):
    authentic: bool
    failed_check: str | None = None
    reason: str | None = None
    # further checks the defect fails, check -> reason (a withheld DG fails its protocol and
    # the hashes); failed_check is the one the officer is shown first
    also_failed: dict[str, str] = Field(default_factory=dict)


class Profile(_Model):
    name: str
    description: str = ""
    base: str | None = None
    defect: str | None = None
    document: DocumentSpec
    details: dict[str, str] = Field(default_factory=dict)  # DG11 fields (full_name, ...)
    other_names: list[str] = Field(default_factory=list)
    document_details: dict[str, str] = Field(default_factory=dict)  # DG12 fields
    face: FaceSpec
    chip: ChipSpec = Field(default_factory=ChipSpec)
    security: SecuritySpec = Field(default_factory=SecuritySpec)
    expected: Expected = Field(default_factory=lambda: Expected(authentic=True))

    @property
    def genuine(self) -> bool:
        return self.defect is None
