"""Which keys and signature schemes each test country uses, and its name in certificates."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.sim.pki.signatures import SignatureScheme
from models.errors import ConfigError

# ICAO 9303 three-letter codes -> ISO 3166-1 alpha-2 (what C= holds): CARICOM and a few others.
ALPHA2 = {
    "LCA": "LC", "JAM": "JM", "TTO": "TT", "BRB": "BB", "GUY": "GY", "ATG": "AG", "BHS": "BS",
    "BLZ": "BZ", "DMA": "DM", "GRD": "GD", "HTI": "HT", "KNA": "KN", "VCT": "VC", "SUR": "SR",
    "MSR": "MS", "UTO": "UT", "CAN": "CA", "GBR": "GB", "USA": "US", "NLD": "NL", "D": "DE",
}  # fmt: skip


@dataclass(frozen=True)
class Suite:
    csca_key: str
    csca_scheme: SignatureScheme
    ds_key: str
    ds_scheme: SignatureScheme


SUITES = {
    "ecdsa-brainpool": Suite(
        "ec:brainpoolP384r1", SignatureScheme("ecdsa", "sha384"),
        "ec:brainpoolP256r1", SignatureScheme("ecdsa", "sha256"),
    ),
    "rsa-pkcs1": Suite(
        "rsa:3072", SignatureScheme("pkcs1v15", "sha256"),
        "rsa:2048", SignatureScheme("pkcs1v15", "sha256"),
    ),
    "rsa-pss": Suite(
        "rsa:3072", SignatureScheme("pss", "sha256"),
        "rsa:2048", SignatureScheme("pss", "sha256"),
    ),
    "ecdsa-nist": Suite(
        "ec:secp384r1", SignatureScheme("ecdsa", "sha384"),
        "ec:secp256r1", SignatureScheme("ecdsa", "sha256"),
    ),
    "ecdsa-csca-rsa-ds": Suite(
        "ec:secp521r1", SignatureScheme("ecdsa", "sha512"),
        "rsa:2048", SignatureScheme("pkcs1v15", "sha256"),
    ),
}  # fmt: skip
DEFAULT_COUNTRIES = ("LCA", "JAM", "TTO", "BRB", "GUY")
COUNTRY_SUITES = {
    "LCA": "ecdsa-brainpool",
    "JAM": "rsa-pkcs1",
    "TTO": "rsa-pss",
    "BRB": "ecdsa-nist",
    "GUY": "ecdsa-csca-rsa-ds",
}


def alpha2(country: str) -> str:
    if country not in ALPHA2:
        raise ConfigError(f"unknown country code {country!r} (known: {', '.join(sorted(ALPHA2))})")
    return ALPHA2[country]


def suite_name(country: str, index: int) -> str:
    """The suite of ``country``; other countries cycle through the suites by position."""
    return COUNTRY_SUITES.get(country) or list(SUITES)[index % len(SUITES)]
