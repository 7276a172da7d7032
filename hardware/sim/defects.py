"""The defects of the defective documents: each edits one step of a personalisation plan.

A defective profile is its genuine base plus ``defect = "<name>"``; the name picks a function
below. What a correct inspection system must conclude is stated in the profile (``expected``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from hardware.sim.mrz_lines import mrz_lines
from hardware.sim.personalise import Plan, face_image
from kiosk.icao.lds import encode_dg1, encode_dg2, encode_dg11
from models.errors import ConfigError

STOP_AFTER_BYTES = 4000  # the chip goes silent while DG2 is being read


def _dg1_altered(plan: Plan) -> None:
    # A forger changes the name on the chip and on the data page, after the issuer signed.
    altered = dataclasses.replace(plan.chip_fields, surname="MALLORY", given_names="EVE")
    plan.printed_fields = altered
    plan.replace_after_signing[1] = encode_dg1(mrz_lines(altered, plan.profile.document.layout))


def _dg2_swapped(plan: Plan) -> None:
    swapped = dataclasses.replace(plan, face_file="obama_2.jpg")
    plan.replace_after_signing[2] = encode_dg2([face_image(swapped)], plan.profile.face.record)


def _sod_signature_broken(plan: Plan) -> None:
    plan.corrupt_signature = True


def _ds_variant(variant: str) -> Callable[[Plan], None]:
    def apply(plan: Plan) -> None:
        plan.ds_variant = variant

    return apply


def _ds_expired_at_signing(plan: Plan) -> None:
    plan.ds_variant = "expired"  # valid 2018-2019 only
    plan.signing_time = dt.datetime(2022, 3, 1, 9, 30, tzinfo=dt.UTC)


def _aa_key_mismatch(plan: Plan) -> None:
    if plan.aa_key_name is None:
        raise ConfigError("aa_key_mismatch needs a profile with an AA key")
    plan.chip_aa_key_name = f"{plan.aa_key_name}-clone"


def _ca_key_mismatch(plan: Plan) -> None:
    if plan.ca_key_name is None:
        raise ConfigError("ca_key_mismatch needs a profile with a CA key")
    plan.chip_ca_key_name = f"{plan.ca_key_name}-clone"


def _dg14_unsigned(plan: Plan) -> None:
    # The genuine document had no DG14; a clone adds one with its own key pair (so CA
    # succeeds cryptographically) but the SOD does not vouch for it.
    if plan.ca_key_name is None:
        raise ConfigError("dg14_unsigned needs a profile with a CA key")
    plan.ca_key_name = plan.chip_ca_key_name = f"{plan.ca_key_name}-clone"
    plan.omit_from_sod.add(14)


def _mrz_mismatch(plan: Plan) -> None:
    plan.printed_fields = dataclasses.replace(plan.chip_fields, given_names="JOHN PAUL")


def _issuer_mismatch(plan: Plan) -> None:
    other = "JAM" if plan.signer_country != "JAM" else "LCA"
    fields = dataclasses.replace(plan.chip_fields, issuing_state=other)
    plan.chip_fields = plan.printed_fields = fields


def _document_expired(plan: Plan) -> None:
    fields = dataclasses.replace(
        plan.chip_fields, expiry_date=dt.date(2023, 6, 1), document_number="LC0451193"
    )
    plan.chip_fields = plan.printed_fields = fields
    plan.ds_variant = "old"  # the signer of 2013, since expired (chain model)
    plan.signing_time = dt.datetime(2013, 6, 3, 9, 30, tzinfo=dt.UTC)


def _dg11_malformed(plan: Plan) -> None:
    # Issued (and signed) with a broken inner length: the hash is right, the content unreadable.
    good = bytearray(encode_dg11({"full_name": "BROKEN<<RECORD", "place_of_birth": "CASTRIES"}))
    # good = 6B L 5C 04 ... : make the tag list claim more bytes than the file holds
    good[3] = 0x7F
    plan.replace_before_signing[11] = bytes(good)


def _sod_truncated(plan: Plan) -> None:
    plan.truncate_sod_to = 700


def _stops_mid_read(plan: Plan) -> None:
    plan.behaviour = dataclasses.replace(plan.behaviour, stop_after_bytes_read=STOP_AFTER_BYTES)


def _bac_only(plan: Plan) -> None:
    # handled by the profile itself (chip.pace = []); nothing to change in the plan
    if plan.profile.chip.pace:
        raise ConfigError("bac_only profile must not list PACE")


def _pace_only(plan: Plan) -> None:
    if plan.profile.chip.bac or not plan.profile.chip.pace:
        raise ConfigError("pace_only profile needs PACE and bac = false")


def _wrong_password(plan: Plan) -> None:
    birth = plan.chip_fields.birth_date
    wrong = birth.replace(day=birth.day % 28 + 1)
    plan.printed_fields = dataclasses.replace(plan.chip_fields, birth_date=wrong)


def _sod_unlisted_hash(plan: Plan) -> None:
    plan.hash_algorithm = "md5"


def _withheld(*numbers: int, keyless: bool = True) -> Callable[[Plan], None]:
    # A clone copies every signed file but cannot copy the chip's private keys, so it hides
    # the data groups that would ask for them (the SOD still lists them).
    def apply(plan: Plan) -> None:
        plan.withhold.update(numbers)
        if keyless and 15 in numbers:
            plan.chip_aa_key_name = None
        if keyless and 14 in numbers:
            plan.chip_ca_key_name = None

    return apply


def _dg1_withheld_forged_page(plan: Plan) -> None:
    # A genuine chip whose DG1 is hidden behind a forged data page of another state and
    # another person (document number and dates kept, so access control works).
    plan.withhold.add(1)
    plan.printed_fields = dataclasses.replace(
        plan.chip_fields, issuing_state="TTO", nationality="TTO", surname="OKAFOR"
    )


def _sm_dropped(plan: Plan) -> None:
    plan.behaviour = dataclasses.replace(plan.behaviour, unprotected_not_found_fid=0x010F)


def _card_access_removed(plan: Plan) -> None:
    if not plan.profile.chip.pace or plan.ca_key_name is None:
        raise ConfigError("card_access_removed needs PACE and a DG14")
    plan.drop_card_access = True


def _issuer_unknown(plan: Plan) -> None:
    fields = dataclasses.replace(plan.chip_fields, issuing_state="XXA")
    plan.chip_fields = plan.printed_fields = fields


def _attribute_defect(defect: str) -> Callable[[Plan], None]:
    def apply(plan: Plan) -> None:
        plan.attribute_defect = defect

    return apply


def _signing_time_future(plan: Plan) -> None:
    plan.signing_time = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=30)


DEFECTS: dict[str, Callable[[Plan], None]] = {
    "dg1_altered": _dg1_altered,
    "dg2_swapped": _dg2_swapped,
    "sod_signature_broken": _sod_signature_broken,
    "ds_not_chaining": _ds_variant("forged"),
    "ds_revoked": _ds_variant("revoked"),
    "ds_expired_at_signing": _ds_expired_at_signing,
    "csca_unknown": _ds_variant("unknown-csca"),
    "aa_key_mismatch": _aa_key_mismatch,
    "ca_key_mismatch": _ca_key_mismatch,
    "dg14_unsigned": _dg14_unsigned,
    "mrz_mismatch": _mrz_mismatch,
    "issuer_mismatch": _issuer_mismatch,
    "document_expired": _document_expired,
    "dg11_malformed": _dg11_malformed,
    "sod_truncated": _sod_truncated,
    "stops_mid_read": _stops_mid_read,
    "bac_only": _bac_only,
    "pace_only": _pace_only,
    "wrong_password": _wrong_password,
    "sod_unlisted_hash": _sod_unlisted_hash,
    # red team (issue 13): each an attack reproduced on the first release
    "dg15_withheld": _withheld(15),
    "dg14_withheld": _withheld(14),
    "keyless_clone": _withheld(14, 15),
    "dg1_withheld_forged_page": _dg1_withheld_forged_page,
    "sm_dropped": _sm_dropped,
    "card_access_removed": _card_access_removed,
    "issuer_unknown": _issuer_unknown,
    "signed_attributes_missing": _attribute_defect("none"),
    "message_digest_twice": _attribute_defect("double_digest"),
    "signing_time_future": _signing_time_future,
    "ds_ca_bit": _ds_variant("ca-bit"),
    "ds_cert_sign_usage": _ds_variant("cert-sign-usage"),
    "ds_tls_server": _ds_variant("tls-server"),
    "ds_usage_expired": _ds_variant("usage-expired"),
    "sod_signed_by_csca": _ds_variant("csca-direct"),
    "sod_signed_by_ml_signer": _ds_variant("ml-signer"),
}


def apply_defect(plan: Plan) -> None:
    defect = plan.profile.defect
    if defect is None:
        return
    if defect not in DEFECTS:
        raise ConfigError(f"profile {plan.profile.name}: unknown defect {defect!r}")
    DEFECTS[defect](plan)
