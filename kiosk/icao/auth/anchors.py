"""Trust anchors handed to Passive Authentication: CSCA and link certificates, CRLs and (from
ICAO PKD files) document signer certificates, all as DER. Where they come from (a master list,
the local trust store, files given on the command line) is not this package's business."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509

from models.errors import ParseError


class CertificateParseError(ParseError):
    """A certificate or CRL is not valid DER."""

    code = "certificate_malformed"


@dataclass(frozen=True)
class TrustAnchors:
    cscas: tuple[bytes, ...] = ()  # self-signed CSCA certificates
    links: tuple[bytes, ...] = ()  # link certificates (a CSCA key certified by another)
    crls: tuple[bytes, ...] = ()
    document_signers: tuple[bytes, ...] = ()  # DS certificates published apart from EF.SOD
    _parsed: dict[bytes, Any] = field(default_factory=dict, compare=False, repr=False)

    def merged(self, other: TrustAnchors) -> TrustAnchors:
        return TrustAnchors(
            tuple(dict.fromkeys(self.cscas + other.cscas)),
            tuple(dict.fromkeys(self.links + other.links)),
            tuple(dict.fromkeys(self.crls + other.crls)),
            tuple(dict.fromkeys(self.document_signers + other.document_signers)),
        )

    def certificate(self, der: bytes) -> Any:
        """The parsed asn1crypto certificate (cached)."""
        if der not in self._parsed:
            self._parsed[der] = load_certificate(der)
        return self._parsed[der]

    def of_country(self, alpha2: str | None) -> tuple[list[Any], list[Any]]:
        """(CSCAs, link certificates) whose subject names country ``alpha2``. A signer
        without a country has no CSCA, and a CSCA without C= is a root for no country."""
        if not alpha2:
            return [], []
        needle = alpha2.encode("ascii", "replace") if alpha2 else b""

        def pick(items: tuple[bytes, ...]) -> list[Any]:
            out = []
            for der in items:
                if needle not in der and needle.lower() not in der:
                    continue  # cannot name that country: skip parsing it
                try:
                    cert = self.certificate(der)
                except CertificateParseError:
                    continue
                if country_of(cert.subject) == alpha2:
                    out.append(cert)
            return out

        return pick(self.cscas), pick(self.links)


def load_certificate(der: bytes) -> Any:
    """An asn1crypto certificate, fully parsed now (so later access cannot raise)."""
    try:
        cert = asn1_x509.Certificate.load(bytes(der), strict=True)
        # Parse now every part this project reads, so later access cannot raise.
        tbs = cert["tbs_certificate"]
        _ = (tbs["validity"].native, tbs["serial_number"].native, cert.subject.native)
        _ = (cert.issuer.native, cert.key_identifier, cert.authority_key_identifier)
        _ = (cert.ca, cert.extended_key_usage_value, cert.public_key.dump())
        _ = (cert["signature_algorithm"].native, cert["signature_value"].native)
    except (ValueError, TypeError, KeyError, OverflowError, AttributeError) as exc:
        raise CertificateParseError(f"certificate unreadable ({exc.__class__.__name__})") from exc
    return cert


def country_of(name: Any) -> str | None:
    """The C= of an asn1crypto ``Name``, upper case, or None."""
    try:
        value = name.native.get("country_name")
    except (ValueError, AttributeError):
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).upper() if value else None
