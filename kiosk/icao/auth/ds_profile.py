"""The document signer certificate profile of ICAO Doc 9303 Part 12 (7.1.1, table 6).

A certificate that chains to a CSCA is not yet a document signer: it must be an end-entity
certificate (no CA bit), whose key usage is digitalSignature only, that is neither a TLS server
certificate nor the master list signer, that is not the CSCA itself (a SOD signed directly by
the CSCA), and whose private key was within its usage period when it signed. Each rule that
fails is named in the ``chain`` check, so the officer sees which one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.lds import oids
from models.records import CheckResult, CheckStatus

CHECK = "chain"
SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
DEVIATION_LIST_SIGNING = "2.23.136.1.1.8"
FUTURE_TOLERANCE = dt.timedelta(minutes=10)  # clocks of chip personalisation and kiosk


def _fail(reason: str, message: str) -> CheckResult:
    return CheckResult(CHECK, CheckStatus.FAILED, reason, message)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _is_csca(ds: Any, anchors: TrustAnchors) -> bool:
    if ds.subject.dump() == ds.issuer.dump():
        return True
    der = ds.dump()
    return any(der == csca for csca in anchors.cscas + anchors.links)


def _usage_period_fails(ds: Any, signed_at: dt.datetime) -> bool:
    period = ds.private_key_usage_period_value
    if period is None:
        return False
    before, after = period["not_before"].native, period["not_after"].native
    return bool(
        (before is not None and signed_at < _aware(before))
        or (after is not None and signed_at > _aware(after))
    )


def document_signer_profile(
    ds: Any, anchors: TrustAnchors, signing_time: dt.datetime | None
) -> CheckResult | None:
    """The first Part 12 rule ``ds`` (asn1crypto certificate) breaks, or None."""
    if _is_csca(ds, anchors):
        return _fail("sod_signed_by_csca", "the SOD is signed by the CSCA itself, not by a DS")
    if ds.ca:
        return _fail("ds_is_ca", "the document signer certificate has the CA bit")
    usages = [u.dotted for u in ds.extended_key_usage_value or []]
    if oids.CSCA_MASTER_LIST_SIGNING_KEY in usages or DEVIATION_LIST_SIGNING in usages:
        return _fail("ds_is_list_signer", "the SOD is signed by a master or deviation list signer")
    if SERVER_AUTH in usages:
        return _fail("ds_is_tls_server", "the document signer is a TLS server certificate")
    usage = ds.key_usage_value
    if usage is None or set(usage.native) != {"digital_signature"}:
        return _fail("ds_key_usage", "the DS key usage is not digitalSignature alone")
    if signing_time is not None and _usage_period_fails(ds, signing_time):
        return _fail(
            "ds_private_key_usage_period",
            "the SOD was signed outside the DS private key usage period",
        )
    return None


def signing_time_in_future(signing_time: dt.datetime | None, now: dt.datetime) -> bool:
    return signing_time is not None and signing_time > now + FUTURE_TOLERANCE
