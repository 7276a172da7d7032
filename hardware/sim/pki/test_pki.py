"""A whole test PKI for a set of countries, written to a directory and loaded back.

Layout of the directory (``manifest.json`` describes it):

    csca/<CC>-1.der, <CC>-2.der     CSCA generations 1 (old) and 2 (current), also .pem
    csca/<CC>-link-2.der            link certificate: generation 2 key signed by generation 1
    ds/<CC>-<variant>.der           document signers (variants: see DS_VARIANTS)
    crl/<CC>-1.crl, <CC>-2.crl      one CRL per CSCA generation (DER)
    masterlist/masterlist.ml        CSCA master list of every CSCA and link certificate
    masterlist/ml-signer.der        its signer certificate
    untrusted/<CC>-rogue-csca.der   a CSCA no trust list contains
    keys/                           private keys (cache, unless a key directory is given)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hardware.sim.pki import certificates as certs
from hardware.sim.pki.cms_signing import Signer
from hardware.sim.pki.keys import KeyCache
from hardware.sim.pki.master_list import encode_master_list
from hardware.sim.pki.signatures import SignatureScheme, parse_scheme
from hardware.sim.pki.suites import DEFAULT_COUNTRIES, SUITES, Suite, alpha2, suite_name
from models.errors import ConfigError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 2
# current: issued by CSCA generation 2, valid now; old: issued by generation 1 in 2013, expired
# since (documents it signed stay verifiable); revoked: on the CRL; expired: valid only
# 2018-2019; forged: claims generation 2 as issuer but is signed by another key; unknown-csca:
# issued by a CSCA that no trust list holds.
DS_VARIANTS = ("current", "old", "revoked", "expired", "forged", "unknown-csca")
# Certificates of the current DS key that break the Doc 9303 Part 12 DS profile (red team):
# the CA bit, key usage keyCertSign, a TLS server certificate, a private key usage period that
# ended in 2020. "csca-direct" signs with the CSCA itself, "ml-signer" with the master list
# signer (of the first country only).
PROFILE_VARIANTS = ("ca-bit", "cert-sign-usage", "tls-server", "usage-expired")
TLS_SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
CRL_DAYS = 90
MIN_CRL_DAYS_LEFT = 14


def _utc(year: int, month: int = 1, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=dt.UTC)


def _write_cert(path: Path, cert: x509.Certificate) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path.name


@dataclass(frozen=True)
class DocumentSigner:
    country: str
    variant: str
    signer: Signer
    path: Path


class TestPki:
    """A built test PKI (see the module docstring for the files)."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, manifest: dict[str, Any], keys: KeyCache) -> None:
        self.directory = directory
        self.manifest = manifest
        self.keys = keys

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        directory: Path,
        countries: tuple[str, ...] | list[str] = DEFAULT_COUNTRIES,
        key_dir: Path | None = None,
        now: dt.datetime | None = None,
    ) -> TestPki:
        directory = Path(directory)
        countries = tuple(dict.fromkeys(countries))
        if not countries:
            raise ConfigError("a test PKI needs at least one country")
        for c in countries:
            alpha2(c)
        keys = KeyCache(Path(key_dir) if key_dir else directory / "keys")
        now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "build_id": secrets.token_hex(8),
            "built_at": now.isoformat(),
            "crl_next_update": (now + dt.timedelta(days=CRL_DAYS)).isoformat(),
            "key_dir": str(keys.directory),
            "countries": {},
        }
        anchors: list[bytes] = []
        for index, country in enumerate(countries):
            entry, country_anchors = _build_country(directory, keys, country, index, now)
            manifest["countries"][country] = entry
            anchors += country_anchors
        manifest["master_list"] = _build_master_list(directory, keys, countries[0], anchors, now)
        suite = SUITES[suite_name(countries[0], 0)]
        manifest["countries"][countries[0]]["ds"]["ml-signer"] = {
            "cert": manifest["master_list"]["signer"],
            "key": f"{countries[0]}-ml-signer",
            "key_spec": suite.ds_key,
            "scheme": _scheme_text(suite.ds_scheme),
        }
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2))
        log.info("test PKI built for %d countries", len(countries))
        return cls(directory, manifest, keys)

    @classmethod
    def load(cls, directory: Path) -> TestPki:
        path = Path(directory) / MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: no test PKI here ({exc.__class__.__name__})") from exc
        if manifest.get("format") != FORMAT:
            raise ConfigError(f"{path}: unsupported test PKI format")
        return cls(Path(directory), manifest, KeyCache(Path(manifest["key_dir"])))

    @classmethod
    def ensure(
        cls,
        directory: Path,
        countries: tuple[str, ...] | list[str] = DEFAULT_COUNTRIES,
        key_dir: Path | None = None,
    ) -> TestPki:
        """Load the PKI in ``directory`` if it covers ``countries`` and its CRLs are fresh;
        otherwise (re)build it, reusing the cached keys."""
        try:
            pki = cls.load(directory)
        except ConfigError:
            return cls.build(directory, countries, key_dir)
        fresh = dt.datetime.fromisoformat(pki.manifest["crl_next_update"]) - dt.datetime.now(
            dt.UTC
        ) > dt.timedelta(days=MIN_CRL_DAYS_LEFT)
        if fresh and set(countries) <= set(pki.countries):
            return pki
        return cls.build(directory, countries, key_dir or Path(pki.manifest["key_dir"]))

    # -- reading -----------------------------------------------------------------------------

    @property
    def countries(self) -> list[str]:
        return list(self.manifest["countries"])

    @property
    def build_id(self) -> str:
        return str(self.manifest["build_id"])

    def _country(self, country: str) -> dict[str, Any]:
        if country not in self.manifest["countries"]:
            raise ConfigError(f"the test PKI has no country {country!r}")
        entry: dict[str, Any] = self.manifest["countries"][country]
        return entry

    def path(self, relative: str) -> Path:
        return self.directory / relative

    def trust_anchor_paths(self) -> list[Path]:
        """CSCA and link certificates of every country (DER), i.e. the master list content."""
        return [
            self.path(p)
            for country in self.countries
            for p in self._country(country)["csca"] + [self._country(country)["link"]]
        ]

    def csca_paths(self, country: str) -> list[Path]:
        return [self.path(p) for p in self._country(country)["csca"]]

    def crl_paths(self) -> list[Path]:
        return [self.path(p) for c in self.countries for p in self._country(c)["crl"]]

    @property
    def master_list_path(self) -> Path:
        return self.path(self.manifest["master_list"]["file"])

    @property
    def master_list_signer_path(self) -> Path:
        return self.path(self.manifest["master_list"]["signer"])

    def untrusted_csca_path(self, country: str) -> Path:
        return self.path(self._country(country)["rogue_csca"])

    def document_signer(self, country: str, variant: str = "current") -> DocumentSigner:
        entry = self._country(country)["ds"].get(variant)
        if entry is None:
            raise ConfigError(f"no document signer {variant!r} for {country}")
        path = self.path(entry["cert"])
        cert = x509.load_der_x509_certificate(path.read_bytes())
        key = self.keys.signing_key(entry["key"], entry["key_spec"])
        return DocumentSigner(
            country, variant, Signer(cert, key, parse_scheme(entry["scheme"])), path
        )

    def suite(self, country: str) -> Suite:
        return SUITES[self._country(country)["suite"]]


def _scheme_text(scheme: SignatureScheme) -> str:
    return f"{scheme.kind}-{scheme.hash}"


def _build_country(
    directory: Path, keys: KeyCache, country: str, index: int, now: dt.datetime
) -> tuple[dict[str, Any], list[bytes]]:
    cc = alpha2(country)
    name = suite_name(country, index)
    suite = SUITES[name]
    spec, scheme = suite.csca_key, suite.csca_scheme
    key1 = keys.signing_key(f"{country}-csca-1", spec)
    key2 = keys.signing_key(f"{country}-csca-2", spec)
    rogue_key = keys.signing_key(f"{country}-csca-rogue", spec)
    forger_key = keys.signing_key(f"{country}-forger", spec)
    name1 = certs.country_name(cc, f"CSCA {cc}", "1")
    name2 = certs.country_name(cc, f"CSCA {cc}", "2")
    gen1_end = now + dt.timedelta(days=5 * 365)
    csca1 = certs.make_csca(name1, key1, scheme, certs.Validity(_utc(2012), gen1_end, _utc(2017)))
    csca2 = certs.make_csca(
        name2,
        key2,
        scheme,
        certs.Validity(
            _utc(2017), now + dt.timedelta(days=15 * 365), now + dt.timedelta(days=1825)
        ),
    )
    link = certs.make_link(csca2, name1, key1, scheme, certs.Validity(_utc(2017), gen1_end))
    rogue_name = certs.country_name(cc, f"CSCA {cc}", "99")
    rogue = certs.make_csca(
        rogue_name, rogue_key, scheme, certs.Validity(_utc(2015), now + dt.timedelta(days=5000))
    )
    ds_end = now + dt.timedelta(days=10 * 365 + 90)
    usage_end = now + dt.timedelta(days=90)
    key2_id = certs.key_id(key2.public_key())
    issued = {
        # variant: (issuer name, issuer key, validity, authority key id override)
        "current": (name2, key2, certs.Validity(_utc(2019), ds_end, usage_end), None),
        "old": (name1, key1, certs.Validity(_utc(2013), _utc(2024), _utc(2014)), None),
        "revoked": (name2, key2, certs.Validity(_utc(2019), ds_end), None),
        "expired": (name2, key2, certs.Validity(_utc(2018), _utc(2020)), None),
        "forged": (name2, forger_key, certs.Validity(_utc(2019), ds_end), key2_id),
        "unknown-csca": (rogue_name, rogue_key, certs.Validity(_utc(2019), ds_end), None),
    }  # fmt: skip
    cert_sign = x509.KeyUsage(True, False, False, False, False, True, False, False, False)
    current = certs.Validity(_utc(2019), ds_end, usage_end)
    broken: dict[str, tuple[certs.Validity, dict[str, Any]]] = {
        "ca-bit": (current, {"ca": True}),
        "cert-sign-usage": (current, {"usage": cert_sign}),
        "tls-server": (current, {"extended_usage": (TLS_SERVER_AUTH,)}),
        "usage-expired": (certs.Validity(_utc(2019), ds_end, _utc(2020)), {}),
    }
    # variant -> (issuer, issuer key, validity, AKI override, DS key variant, extra options)
    plans: dict[str, tuple[Any, Any, certs.Validity, bytes | None, str, dict[str, Any]]] = {
        v: (i, k, val, aki, v, {}) for v, (i, k, val, aki) in issued.items()
    }
    plans.update({v: (name2, key2, val, None, "current", o) for v, (val, o) in broken.items()})
    entry: dict[str, Any] = {"suite": name, "alpha2": cc, "ds": {}}
    ds_serials: dict[str, int] = {}
    for variant, (issuer, issuer_key, validity, aki, key_variant, options) in plans.items():
        key_name = f"{country}-ds-{key_variant}"
        ds_key = keys.signing_key(key_name, suite.ds_key)
        cert = certs.make_document_signer(
            certs.country_name(cc, f"Document Signer {cc} {variant}"),
            ds_key.public_key(),
            issuer,
            issuer_key,
            scheme,
            validity,
            authority_key_id=aki,
            **options,
        )
        ds_serials[variant] = cert.serial_number
        file = _write_cert(directory / "ds" / f"{country}-{variant}.der", cert)
        entry["ds"][variant] = {
            "cert": f"ds/{file}",
            "key": key_name,
            "key_spec": suite.ds_key,
            "scheme": _scheme_text(suite.ds_scheme),
        }
    entry["csca"] = [
        "csca/" + _write_cert(directory / "csca" / f"{country}-1.der", csca1),
        "csca/" + _write_cert(directory / "csca" / f"{country}-2.der", csca2),
    ]
    entry["link"] = "csca/" + _write_cert(directory / "csca" / f"{country}-link-2.der", link)
    entry["ds"]["csca-direct"] = {
        "cert": entry["csca"][1],
        "key": f"{country}-csca-2",
        "key_spec": spec,
        "scheme": _scheme_text(scheme),
    }
    entry["rogue_csca"] = "untrusted/" + _write_cert(
        directory / "untrusted" / f"{country}-rogue-csca.der", rogue
    )
    crl_dir = directory / "crl"
    crl_dir.mkdir(parents=True, exist_ok=True)
    entry["crl"] = []
    next_update = now + dt.timedelta(days=CRL_DAYS)
    this_update = now - dt.timedelta(days=1)
    for gen, (cert, key, revoked) in {
        1: (csca1, key1, []),
        2: (csca2, key2, [ds_serials["revoked"]]),
    }.items():
        crl = certs.make_crl(cert, key, scheme, revoked, this_update, next_update)
        path = crl_dir / f"{country}-{gen}.crl"
        path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
        entry["crl"].append(f"crl/{path.name}")
    anchors = [c.public_bytes(serialization.Encoding.DER) for c in (csca1, csca2, link)]
    return entry, anchors


def _build_master_list(
    directory: Path, keys: KeyCache, country: str, anchors: list[bytes], now: dt.datetime
) -> dict[str, str]:
    """The master list of all CSCAs, published by ``country``'s master list signer."""
    cc = alpha2(country)
    suite = SUITES[suite_name(country, 0)]
    csca_key = keys.signing_key(f"{country}-csca-2", suite.csca_key)
    signer_key = keys.signing_key(f"{country}-ml-signer", suite.ds_key)
    cert = certs.make_master_list_signer(
        certs.country_name(cc, f"Master List Signer {cc}"),
        signer_key.public_key(),
        certs.country_name(cc, f"CSCA {cc}", "2"),
        csca_key,
        suite.csca_scheme,
        certs.Validity(now - dt.timedelta(days=30), now + dt.timedelta(days=3 * 365)),
    )
    out = directory / "masterlist"
    signer_file = _write_cert(out / "ml-signer.der", cert)
    (out / "masterlist.ml").write_bytes(
        encode_master_list(anchors, Signer(cert, signer_key, suite.ds_scheme))
    )
    return {"file": "masterlist/masterlist.ml", "signer": f"masterlist/{signer_file}"}
