"""The EF.SOD signature (ICAO Doc 9303 Part 11 / RFC 5652): the document signer certificate
named by the SignerInfo (in EF.SOD, or published apart), the signed attributes (content type
and message digest) and the signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.cms_verify import verify_signer_info
from kiosk.icao.lds import oids
from kiosk.icao.lds.sod import SecurityObject
from models.records import CheckResult, CheckStatus

CHECK = "sod_signature"
ACCEPTED_CONTENT_TYPES = (oids.LDS_SECURITY_OBJECT, *oids.LDS_SECURITY_OBJECT_LEGACY)
MESSAGES = {
    None: "EF.SOD signed by its document signer",
    "signature_invalid": "the EF.SOD signature does not verify",
    "signer_certificate_missing": "the document signer certificate is missing",
}


@dataclass(frozen=True)
class SodSignatureOutcome:
    result: CheckResult
    document_signer: Any | None  # asn1crypto certificate


def verify_sod_signature(sod: SecurityObject, anchors: TrustAnchors) -> SodSignatureOutcome:
    if len(sod.signer_infos) != 1:
        return SodSignatureOutcome(
            CheckResult(
                CHECK, CheckStatus.FAILED, "several_signers", "EF.SOD must have one signer"
            ),
            None,
        )
    if sod.content_type not in ACCEPTED_CONTENT_TYPES:
        return SodSignatureOutcome(
            CheckResult(CHECK, CheckStatus.FAILED, "wrong_content_type", "no LDS security object"),
            None,
        )
    outcome = verify_signer_info(
        sod.content_type,
        sod.encapsulated_content,
        sod.signer_infos[0],
        (*sod.certificates, *anchors.document_signers),
    )
    reason = (
        "ds_certificate_missing"
        if outcome.reason == "signer_certificate_missing"
        else outcome.reason
    )
    message = MESSAGES.get(outcome.reason, outcome.message)
    return SodSignatureOutcome(
        CheckResult(CHECK, outcome.status, reason, message), outcome.certificate
    )
