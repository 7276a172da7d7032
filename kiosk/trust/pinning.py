"""Out-of-band anchors for master lists: what the operator pinned in the configuration.

A CSCA master list is a CMS signed by a master list signer. Its certificates are trusted only
when that signer is itself pinned, or chains to a CSCA that is pinned (both configured by the
operator in ``[trust_pinning]``, never taken from a list, a file of the same import or the
central server). "Verified against a CSCA inside the same list" proves only that the list is
consistent with itself, which a forger achieves with one key pair.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.icao.auth.anchors import CertificateParseError, TrustAnchors, country_of
from kiosk.icao.auth.anchors import load_certificate as parse_certificate
from kiosk.icao.auth.chain import validate_chain
from kiosk.trust.config import TrustPinningConfig
from kiosk.trust.errors import TrustFileError
from kiosk.trust.files import trust_items
from models.errors import ConfigError
from models.records import CheckStatus

VERIFIED = "verified"


def _fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class PinnedAnchors:
    signers: tuple[bytes, ...] = ()
    cscas: tuple[bytes, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.signers and not self.cscas

    def merged(self, other: PinnedAnchors) -> PinnedAnchors:
        return PinnedAnchors(
            tuple(dict.fromkeys(self.signers + other.signers)),
            tuple(dict.fromkeys(self.cscas + other.cscas)),
        )

    def signer_status(self, signer: Any, listed: tuple[bytes, ...], when: dt.datetime) -> str:
        """ "verified" when ``signer`` (asn1crypto certificate) is pinned or chains to a
        pinned CSCA (link certificates of the list may be intermediates); else a reason."""
        if _fingerprint(signer.dump()) in {_fingerprint(d) for d in self.signers}:
            return VERIFIED
        if not self.cscas:
            return "signer_not_pinned"
        country = country_of(signer.issuer)
        if country is None or country_of(signer.subject) != country:
            return "signer_country_mismatch"
        result = validate_chain(signer, TrustAnchors(self.cscas), when).result
        if result.status is CheckStatus.PASSED:
            return VERIFIED
        if result.reason == "csca_not_found":  # maybe through a link certificate of the list
            anchors = TrustAnchors(self.cscas, _links(listed, country))
            result = validate_chain(signer, anchors, when).result
            if result.status is CheckStatus.PASSED:
                return VERIFIED
        if result.reason == "csca_not_found":
            return "signer_not_pinned"
        return f"signer_{result.reason}"


def _links(listed: tuple[bytes, ...], country: str) -> tuple[bytes, ...]:
    """Link certificates (CA, not self-issued) of ``country`` among ``listed``."""
    links: list[bytes] = []
    needle = country.encode("ascii")
    for der in listed:
        if needle not in der and needle.lower() not in der:  # cheap filter before parsing
            continue
        try:
            cert = parse_certificate(der)
        except CertificateParseError:
            continue
        if cert.ca and cert.subject.dump() != cert.issuer.dump():
            links.append(der)
    return tuple(links)


def _read_certificates(path: Path) -> tuple[bytes, ...]:
    try:
        items = trust_items(path.read_bytes())
    except (OSError, TrustFileError) as exc:
        raise ConfigError(f"trust_pinning: {path}: not a certificate file ({exc})") from exc
    out = tuple(item.der for item in items if item.kind == "certificate")
    if not out:
        raise ConfigError(f"trust_pinning: {path}: holds no certificate")
    for der in out:
        try:
            parse_certificate(der)
        except CertificateParseError as exc:
            raise ConfigError(f"trust_pinning: {path}: {exc}") from exc
    return out


def pinned_anchors(config: TrustPinningConfig) -> PinnedAnchors:
    """The pinned anchors the configuration names; an unreadable file is a ConfigError."""
    signers: tuple[bytes, ...] = ()
    cscas: tuple[bytes, ...] = ()
    for path in config.master_list_signers:
        signers += _read_certificates(path)
    for path in config.master_list_cscas:
        cscas += _read_certificates(path)
    return PinnedAnchors(signers, cscas)
