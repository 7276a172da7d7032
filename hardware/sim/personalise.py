"""Personalisation: a passport profile becomes a :class:`ChipImage` with a signed EF.SOD.

The steps are those of a real issuer: write the data groups, hash them into the LDS security
object, have the document signer of the issuing state sign it (content type, message digest
and signing time as signed attributes), write EF.COM, EF.CardAccess, DG14 and DG15 and put the
chip's private keys in place. Defects (``hardware.sim.defects``) change one step of this plan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import cms
from PIL import Image

from hardware.sim.chip_image import (
    ATR_EXTENDED,
    ATR_SHORT_ONLY,
    DG_FIDS,
    EF_ATR_INFO_EXTENDED,
    FID_EF_ATR_INFO,
    FID_EF_CARDACCESS,
    FID_EF_CARDSECURITY,
    FID_EF_COM,
    FID_EF_SOD,
    ChipBehaviour,
    ChipImage,
    PaceParameters,
)
from hardware.sim.mrz_lines import MrzFields, mrz_information, mrz_lines
from hardware.sim.pki.cms_signing import sign_content
from hardware.sim.pki.dh_groups import DhPrivateKey
from hardware.sim.pki.keys import PrivateKey, pkcs8_der, spki_der
from hardware.sim.pki.test_pki import TestPki
from hardware.sim.profile_model import Profile
from kiosk.icao.lds import (
    FaceImage,
    encode_com,
    encode_dg1,
    encode_dg2,
    encode_dg11,
    encode_dg12,
    encode_dg14,
    encode_dg15,
    encode_lds_security_object,
    encode_sod,
    oids,
)
from kiosk.icao.lds import security_infos as si
from kiosk.icao.lds.ec_params import with_explicit_parameters
from models.errors import ConfigError

FACES_DIR = Path(__file__).resolve().parent / "profiles" / "faces"
CIPHERS = {"3des": 1, "aes128": 2, "aes192": 3, "aes256": 4}
PACE_OIDS = {
    "ecdh-gm": oids.PACE_ECDH_GM,
    "dh-gm": oids.PACE_DH_GM,
    "ecdh-im": oids.PACE_ECDH_IM,
    "ecdh-cam": oids.PACE_ECDH_CAM,
}
AA_ECDSA_SHA256 = "1.2.840.10045.4.3.2"


@dataclass
class Plan:
    """Every decision of one personalisation; defects edit it before :func:`build_image`."""

    profile: Profile
    chip_fields: MrzFields  # what DG1 and the access keys use
    printed_fields: MrzFields  # what the data page shows (what the MRZ reader sees)
    signer_country: str
    ds_variant: str
    hash_algorithm: str
    signing_time: dt.datetime
    aa_key_name: str | None  # key whose public part goes into DG15
    chip_aa_key_name: str | None  # key the chip signs with
    ca_key_name: str | None
    chip_ca_key_name: str | None
    face_file: str
    omit_from_sod: set[int] = field(default_factory=set)
    replace_before_signing: dict[int, bytes] = field(default_factory=dict)
    replace_after_signing: dict[int, bytes] = field(default_factory=dict)
    corrupt_signature: bool = False
    truncate_sod_to: int | None = None
    behaviour: ChipBehaviour = field(default_factory=ChipBehaviour)
    # red team: files the chip withholds (still listed and hashed in the SOD)
    withhold: set[int] = field(default_factory=set)
    drop_card_access: bool = False
    attribute_defect: str | None = None  # see hardware.sim.pki.cms_signing.sign_content


def mrz_fields(profile: Profile) -> MrzFields:
    d = profile.document
    return MrzFields(
        document_type=d.document_type,
        issuing_state=d.issuing_state,
        surname=d.surname,
        given_names=d.given_names,
        document_number=d.document_number,
        nationality=d.nationality,
        birth_date=d.birth_date,
        sex=d.sex,
        expiry_date=d.expiry_date,
        optional_data=d.optional_data,
    )


def plan_for(profile: Profile) -> Plan:
    fields = mrz_fields(profile)
    when = profile.security.signing_time or profile.document.issue_date
    chip = profile.chip
    return Plan(
        profile=profile,
        chip_fields=fields,
        printed_fields=fields,
        signer_country=profile.security.signer or profile.document.issuing_state,
        ds_variant=profile.security.ds_variant,
        hash_algorithm=profile.security.hash,
        signing_time=dt.datetime(when.year, when.month, when.day, 9, 30, tzinfo=dt.UTC),
        aa_key_name=f"{profile.name}-aa" if chip.aa_key else None,
        chip_aa_key_name=f"{profile.name}-aa" if chip.aa_key else None,
        ca_key_name=f"{profile.name}-ca" if chip.ca_key else None,
        chip_ca_key_name=f"{profile.name}-ca" if chip.ca_key else None,
        face_file=profile.face.image,
    )


def printed_mrz(plan: Plan) -> str:
    return mrz_lines(plan.printed_fields, plan.profile.document.layout)


def face_image(plan: Plan) -> FaceImage:
    spec = plan.profile.face
    path = FACES_DIR / plan.face_file
    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB")
            width, height = rgb.size
            if spec.format == "jpeg2000":
                out = io.BytesIO()
                rgb.save(out, "JPEG2000", quality_mode="rates", quality_layers=[20])
                data = out.getvalue()
            else:
                data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"face image {plan.face_file}: {exc.__class__.__name__}") from exc
    return FaceImage(
        image=data,
        image_format=spec.format,
        record_format=spec.record,
        width=width,
        height=height,
        gender=spec.gender,
        eye_colour=spec.eye_colour,
        hair_colour=spec.hair_colour,
        pose_angles=(0, 0, 0),
    )


def _hash(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def _dg11(plan: Plan) -> bytes | None:
    details = dict(plan.profile.details)
    if not details and not plan.profile.other_names:
        return None
    return encode_dg11(details, plan.profile.other_names)


def _dg12(plan: Plan) -> bytes:
    details = {"date_of_issue": plan.profile.document.issue_date.strftime("%Y%m%d")}
    details.update(plan.profile.document_details)
    return encode_dg12(details)


def _pace_infos(plan: Plan) -> tuple[list[bytes], list[PaceParameters]]:
    infos, params = [], []
    for pace in plan.profile.chip.pace:
        oid = PACE_OIDS[pace.mapping]
        infos.append(si.pace_info(oid, CIPHERS[pace.cipher], pace.parameter_id))
        params.append(PaceParameters(f"{oid}.{CIPHERS[pace.cipher]}", pace.parameter_id))
    return infos, params


def _ca_infos(plan: Plan, pki: TestPki) -> list[bytes]:
    """ChipAuthenticationInfo and ChipAuthenticationPublicKeyInfo of the chip's CA key."""
    chip = plan.profile.chip
    if not chip.ca_key or plan.ca_key_name is None:
        return []
    key = pki.keys.get(plan.ca_key_name, chip.ca_key)
    dh = isinstance(key, DhPrivateKey)
    agreement = oids.CA_DH if dh else oids.CA_ECDH
    return [
        si.chip_authentication_info(agreement, CIPHERS[chip.ca_cipher], chip.ca_key_id),
        si.chip_authentication_public_key_info(spki_der(key), chip.ca_key_id, dh=dh),
    ]


def _card_security(plan: Plan, pki: TestPki, pace_infos: list[bytes]) -> bytes | None:
    """EF.CardSecurity of a PACE-CAM chip: its SecurityInfos signed by the document signer."""
    if not any(p.mapping == "ecdh-cam" for p in plan.profile.chip.pace):
        return None
    content = si.encode_security_infos(pace_infos + _ca_infos(plan, pki))
    ds = pki.document_signer(plan.signer_country, plan.ds_variant)
    return sign_content(
        oids.SECURITY_OBJECT_EAC, content, ds.signer, signing_time=plan.signing_time
    )


def _dg14(plan: Plan, pki: TestPki, pace_infos: list[bytes]) -> bytes | None:
    chip = plan.profile.chip
    ca_infos = _ca_infos(plan, pki)
    if not ca_infos:
        return None
    infos = [*ca_infos, *pace_infos]
    if chip.aa_key and chip.aa_key.startswith("ec:"):
        infos.append(si.active_authentication_info(AA_ECDSA_SHA256))
    return encode_dg14(infos)


def _dg15(plan: Plan, pki: TestPki) -> bytes | None:
    chip = plan.profile.chip
    if not chip.aa_key or plan.aa_key_name is None:
        return None
    spki = spki_der(pki.keys.get(plan.aa_key_name, chip.aa_key))
    if chip.aa_explicit_parameters and chip.aa_key.startswith("ec:"):
        spki = with_explicit_parameters(spki)
    return encode_dg15(spki)


def _chip_key(pki: TestPki, name: str | None, spec: str | None) -> bytes | None:
    if name is None or spec is None:
        return None
    key: PrivateKey = pki.keys.get(name, spec)
    return pkcs8_der(key)


def _break_signature(content_info: bytes) -> bytes:
    info = cms.ContentInfo.load(content_info)
    signer_info = info["content"]["signer_infos"][0]
    signature = bytearray(signer_info["signature"].native)
    signature[len(signature) // 2] ^= 0x01
    signer_info["signature"] = bytes(signature)
    return bytes(info.dump(force=True))


def data_groups(plan: Plan, pki: TestPki, pace_infos: list[bytes]) -> dict[int, bytes]:
    files: dict[int, bytes] = {
        1: encode_dg1(mrz_lines(plan.chip_fields, plan.profile.document.layout)),
        2: encode_dg2([face_image(plan)], plan.profile.face.record),
    }
    optional = {
        11: _dg11(plan),
        12: _dg12(plan),
        14: _dg14(plan, pki, pace_infos),
        15: _dg15(plan, pki),
    }
    files.update({n: data for n, data in optional.items() if data is not None})
    files.update(plan.replace_before_signing)
    return files


def build_image(plan: Plan, pki: TestPki) -> ChipImage:
    chip = plan.profile.chip
    pace_infos, pace_params = _pace_infos(plan)
    files = data_groups(plan, pki, pace_infos)
    hashes = {
        n: _hash(plan.hash_algorithm, data)
        for n, data in files.items()
        if n not in plan.omit_from_sod
    }
    lso = encode_lds_security_object(
        plan.hash_algorithm, hashes, (chip.lds_version, chip.unicode_version)
    )
    ds = pki.document_signer(plan.signer_country, plan.ds_variant)
    signed = sign_content(
        oids.LDS_SECURITY_OBJECT,
        lso,
        ds.signer,
        signing_time=plan.signing_time,
        attribute_defect=plan.attribute_defect,
    )
    if plan.corrupt_signature:
        signed = _break_signature(signed)
    sod = encode_sod(signed)
    if plan.truncate_sod_to is not None:
        sod = sod[: plan.truncate_sod_to]
    files.update(plan.replace_after_signing)
    com = encode_com(sorted(files), chip.lds_version, chip.unicode_version)
    application = {DG_FIDS[n]: d for n, d in sorted(files.items()) if n not in plan.withhold}
    application[FID_EF_COM] = com
    application[FID_EF_SOD] = sod
    master = {}
    if pace_infos and not plan.drop_card_access:
        master[FID_EF_CARDACCESS] = si.encode_security_infos(pace_infos)
    if chip.extended_length:
        master[FID_EF_ATR_INFO] = EF_ATR_INFO_EXTENDED
    card_security = _card_security(plan, pki, pace_infos)
    if card_security is not None:
        master[FID_EF_CARDSECURITY] = card_security
    ca_key = _chip_key(pki, plan.chip_ca_key_name, chip.ca_key)
    return ChipImage(
        application_files=application,
        master_files=master,
        mrz_information=mrz_information(plan.chip_fields),
        can=chip.can,
        bac=chip.bac,
        pace=pace_params,
        aa_private_key=_chip_key(pki, plan.chip_aa_key_name, chip.aa_key),
        ca_private_keys={chip.ca_key_id: ca_key} if ca_key else {},
        behaviour=dataclasses.replace(plan.behaviour),
        extended_length=chip.extended_length,
        atr=ATR_EXTENDED if chip.extended_length else ATR_SHORT_ONLY,
    )
