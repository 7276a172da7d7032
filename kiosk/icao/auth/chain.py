"""The document signer certificate to a CSCA, with pyhanko-certvalidator.

pyhanko-certvalidator builds and validates the path (RFC 5280: names, key identifiers, CA
constraints, key usage, validity at the given moment). ICAO PKIs need two adaptations, made
through the library's own extension points rather than by hand-written chain building:

* signatures are verified by :class:`IcaoSignatureValidator`, which loads EC keys with
  explicit domain parameters (the German CSCA) and RSASSA-PSS keys (Indonesia 2020);
* the moment is the SOD's signing time (validity at signing time, the chain model ICAO
  Doc 9303 Part 12 uses), and only CSCAs of the DS's country are trust roots; link
  certificates are offered as intermediates.

Revocation is checked apart (:mod:`kiosk.icao.auth.revocation`), so that the verdict can
tell a broken chain from a revoked signer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos
from asn1crypto.keys import PublicKeyInfo
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    ValidationError,
)
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    SignatureValidationContext,
    SignatureValidator,
)

from kiosk.icao.auth.anchors import TrustAnchors, country_of
from kiosk.icao.auth.public_keys import UnsupportedKeyError, load_verifying_key
from kiosk.icao.auth.signatures import (
    SignatureInvalidError,
    UnsupportedSignatureError,
    verify_signature,
)
from models.records import CheckResult, CheckStatus

CHECK = "chain"
WEAK_HASHES = frozenset({"md2", "md5"})  # SHA-1 still signs old CSCAs and link certificates


class IcaoSignatureValidator(SignatureValidator):
    """pyhanko's signature hook, verifying with the ICAO-aware key loader."""

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        params = signature_algorithm["parameters"]
        try:
            key = load_verifying_key(public_key_info.dump())
            verify_signature(
                key,
                signature_algorithm["algorithm"].dotted,
                params.dump() if params.native is not None else None,
                signature,
                signed_data,
                digest_algorithm=context.contextual_md_algorithm,
            )
        except (SignatureInvalidError, UnsupportedKeyError, UnsupportedSignatureError) as exc:
            raise InvalidSignature(str(exc)) from exc


SIGNATURE_VALIDATOR = IcaoSignatureValidator()


@dataclass(frozen=True)
class ChainOutcome:
    result: CheckResult
    path: tuple[Any, ...] = ()  # asn1crypto certificates, trust anchor first, DS last
    csca_country: str | None = None


def _fail(reason: str, message: str) -> ChainOutcome:
    return ChainOutcome(CheckResult(CHECK, CheckStatus.FAILED, reason, message))


def _within(cert: Any, moment: dt.datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return bool(validity["not_before"].native <= moment <= validity["not_after"].native)


def validate_chain(ds: Any, anchors: TrustAnchors, moment: dt.datetime) -> ChainOutcome:
    """Validate ``ds`` (asn1crypto certificate) to a CSCA of its issuer's country."""
    country = country_of(ds.issuer)
    cscas, links = anchors.of_country(country)
    if not cscas:
        return _fail("csca_not_found", f"no CSCA of country {country or '?'} is trusted")
    context = ValidationContext(
        trust_roots=cscas,
        other_certs=links,
        moment=moment,
        allow_fetching=False,
        revocation_mode="soft-fail",
        weak_hash_algos=set(WEAK_HASHES),
        time_tolerance=dt.timedelta(seconds=1),
        signature_validator=SIGNATURE_VALIDATOR,
    )
    validator = CertificateValidator(ds, validation_context=context)
    try:
        path = asyncio.run(validator.async_validate_path())
    except PathBuildingError:
        return _fail("csca_not_found", "the document signer's CSCA is not trusted")
    except (ExpiredError, NotYetValidError):
        if not _within(ds, moment):
            return _fail(
                "ds_expired_at_signing",
                "the document signer certificate was not valid at signing time",
            )
        return _fail(
            "csca_expired_at_signing", "a CSCA or link certificate was not valid at signing time"
        )
    except PathValidationError as exc:
        text = str(exc).lower()
        if "signature" in text:
            return _fail("ds_signature_invalid", "the certificate signature does not verify")
        return _fail("path_invalid", "the certificate path breaks an X.509 rule")
    except (ValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return _fail("path_invalid", f"certificate path unusable ({exc.__class__.__name__})")
    certs = tuple(path)
    anchor = certs[0]
    return ChainOutcome(
        CheckResult(CHECK, CheckStatus.PASSED, None, "document signer chains to a trusted CSCA"),
        certs,
        country_of(anchor.subject),
    )
