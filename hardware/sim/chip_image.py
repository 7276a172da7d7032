"""What a personalised passport chip holds: the contract between personalisation
(``hardware.sim.personalise``) and the chip emulator (``hardware.sim.chip``).

Everything here is plain data, so an image can be built once, stored as JSON or handed to an
emulator in-process or behind vpcd.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# File identifiers of the LDS1 eMRTD application (ICAO 9303 Part 10) and the master file.
FID_EF_CARDACCESS = 0x011C
FID_EF_CARDSECURITY = 0x011D  # in the master file; EF.SOD is 0x011D in the eMRTD application
FID_EF_COM = 0x011E
FID_EF_SOD = 0x011D
FID_EF_ATR_INFO = 0x2F01  # in the master file: extended length information ('7F66')
DG_FIDS = {n: 0x0100 + n for n in range(1, 17)}  # DG1 = 0x0101 ... DG16 = 0x0110
SFI_OF_FID = {FID_EF_COM: 0x1E, FID_EF_SOD: 0x1D, **{fid: n for n, fid in DG_FIDS.items()}}
EMRTD_AID = bytes.fromhex("A0000002471001")


# ATRs of a type-A passport: historical bytes 80 | 73 80 21 xx, the card capabilities whose
# third byte has b7 (40) set when the chip takes extended Lc and Le (ISO/IEC 7816-4 8.1.1.2.7).
ATR_EXTENDED = bytes.fromhex("3B858001807380214016")
ATR_SHORT_ONLY = bytes.fromhex("3B858001807380210056")
# EF.ATR/INFO: extended length information, largest command and response 65535 bytes.
EF_ATR_INFO_EXTENDED = bytes.fromhex("7F66080202FFFF0202FFFF")


@dataclass(frozen=True)
class PaceParameters:
    """One PACEInfo the chip offers (EF.CardAccess): protocol OID and standard parameter id."""

    protocol_oid: str
    parameter_id: int


@dataclass
class ChipBehaviour:
    """Deliberate faults, for the defective documents (see ``hardware.sim.profiles``)."""

    stop_after_bytes_read: int | None = None  # chip stops answering once this much was read
    mute: bool = False  # chip never answers (no ATR)
    # red team: once secure messaging is up, SELECT of this file gets a plain 6A82 and the
    # chip goes on in plaintext (a chip that tries to drop secure messaging)
    unprotected_not_found_fid: int | None = None


@dataclass
class ChipImage:
    """The content and the secrets of one personalised chip."""

    # Files of the eMRTD application by FID (EF.COM, EF.SOD, DG1...DG16).
    application_files: dict[int, bytes]
    # Files of the master file by FID (EF.CardAccess, EF.CardSecurity, EF.ATR/INFO).
    master_files: dict[int, bytes] = field(default_factory=dict)
    # 'MRZ information' (document number + check digit, birth date + cd, expiry + cd).
    mrz_information: str = ""
    can: str | None = None
    bac: bool = True
    pace: list[PaceParameters] = field(default_factory=list)
    # Active Authentication private key (PKCS#8 DER) or None.
    aa_private_key: bytes | None = None
    # Chip Authentication private keys (PKCS#8 DER) by key id (None when DG14 names no id).
    ca_private_keys: dict[int | None, bytes] = field(default_factory=dict)
    behaviour: ChipBehaviour = field(default_factory=ChipBehaviour)
    # Hash of Active Authentication (hashlib name); None: SHA-1 for RSA (ISO/IEC 9796-2
    # trailer 'BC'), SHA-256/384/512 for ECDSA by key size.
    aa_hash_algorithm: str | None = None
    # Whether the chip accepts extended-length APDUs (it says so in its ATR and EF.ATR/INFO).
    extended_length: bool = True
    atr: bytes = ATR_EXTENDED
