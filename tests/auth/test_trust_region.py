"""Trust for the region: the agency compiles the CSCAs it collected bilaterally into a master
list signed by its own list signer; kiosks accept it only under that pinned signer; coverage
tells, per state of the policy, whether chipped passports can be verified."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from hardware.sim.passports import PassportFactory
from hardware.sim.pki import certificates as certs
from hardware.sim.pki.keys import KeyCache
from kiosk.cli.main import main
from kiosk.storage.database import Database, create_database_engine
from kiosk.trust.coverage import state_coverage
from kiosk.trust.errors import TrustFileError
from kiosk.trust.importer import import_files
from kiosk.trust.master_list import parse_master_list
from kiosk.trust.master_list_build import build_master_list
from kiosk.trust.pinning import PinnedAnchors
from kiosk.trust.store import TrustStore

from .conftest import own_pki


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = main(["--log-level", "ERROR", *argv])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip()[:1] in ("{", "[") else out)


def agency_signer(directory: Path) -> tuple[Path, Path, Any]:
    """The regional agency's own CA and master list signer (certificate and PEM key)."""
    keys, scheme, validity = own_pki(
        directory / "keys", dt.timedelta(days=1), dt.timedelta(days=700)
    )
    ca_key = keys.signing_key("agency-ca", "ec:secp384r1")
    signer_key = keys.signing_key("agency-ml-signer", "ec:secp384r1")
    ca_name = certs.country_name("LC", "Regional Agency Trust CA")
    signer = certs.make_master_list_signer(
        certs.country_name("LC", "Regional Agency Master List Signer"),
        signer_key.public_key(),
        ca_name,
        ca_key,
        scheme,
        validity,
    )
    cert_path = directory / "agency-ml-signer.der"
    cert_path.write_bytes(signer.public_bytes(serialization.Encoding.DER))
    key_path = directory / "agency-ml-signer.key"
    key_path.write_bytes(
        signer_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, signer_key


@pytest.fixture
def agency(tmp_path: Path) -> tuple[Path, Path, Any]:
    return agency_signer(tmp_path / "agency")


def test_built_master_list_verifies_only_under_its_pinned_signer(
    passports: PassportFactory, agency: tuple[Path, Path, Any]
) -> None:
    cert_path, _key_path, key = agency
    pki = passports.pki
    cscas = [(p.name, p.read_bytes()) for p in pki.trust_anchor_paths()]
    built = build_master_list(cscas + cscas[:1], cert_path.read_bytes(), key)
    # THEN every CSCA and link certificate is in, once, and the list verifies under the pin
    assert built.certificates == len(cscas) and built.skipped == (cscas[0][0],)
    listed = parse_master_list(built.der, PinnedAnchors((cert_path.read_bytes(),)))
    assert listed.signer_verified and len(listed.certificates) == len(cscas)
    # and under nothing else: the test PKI's own list signer is not this one
    other = PinnedAnchors((pki.master_list_signer_path.read_bytes(),))
    assert not parse_master_list(built.der, other).signer_verified
    assert not parse_master_list(built.der).signer_verified


@pytest.mark.parametrize("bad", ["ds", "signer-without-usage", "other-key"])
def test_bad_inputs_of_a_master_list_build_are_refused(
    bad: str, passports: PassportFactory, agency: tuple[Path, Path, Any], tmp_path: Path
) -> None:
    cert_path, _key_path, key = agency
    pki = passports.pki
    cscas = [(p.name, p.read_bytes()) for p in pki.csca_paths("LCA")]
    signer = cert_path.read_bytes()
    if bad == "ds":
        cscas.append(("ds.der", pki.document_signer("LCA").path.read_bytes()))
    elif bad == "signer-without-usage":
        signer = pki.document_signer("LCA").path.read_bytes()
    else:
        key = KeyCache(tmp_path / "k").signing_key("other", "ec:secp384r1")
    with pytest.raises(TrustFileError):
        build_master_list(cscas, signer, key)


def test_build_import_and_coverage_from_the_command_line(
    passports: PassportFactory,
    agency: tuple[Path, Path, Any],
    kiosk_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cert_path, key_path, _ = agency
    pki = passports.pki
    out = tmp_path / "region.ml"
    # GIVEN the CSCAs of Saint Lucia and Jamaica collected bilaterally
    sources = [str(p) for c in ("LCA", "JAM") for p in pki.csca_paths(c)]
    code, built = run(
        ["trust", "master-list", "build", *sources, "--signer-cert", str(cert_path),
         "--signer-key", str(key_path), "--out", str(out), "--json"],
        capsys,
    )  # fmt: skip
    assert code == 0 and built["certificates"] == 4 and built["countries"] == ["JM", "LC"]
    # WHEN a kiosk without the pin imports it THEN nothing is imported
    code, summary = run(["trust", "import", str(out), "--json"], capsys)
    assert summary["added"] == 0 and summary["rejected"]
    # WHEN the agency's signer is pinned THEN the list is accepted
    monkeypatch.setenv("KIOSK_TRUST_PINNING__MASTER_LIST_SIGNERS", json.dumps([str(cert_path)]))
    code, summary = run(["trust", "import", str(out), "--json"], capsys)
    assert code == 0 and summary["rejected"] == [] and summary["added"] == 5  # + the signer
    lca_crl = pki.path("crl/LCA-2.crl")
    code, _ = run(["trust", "import", str(pki.path("crl/LCA-1.crl")), str(lca_crl)], capsys)
    # THEN coverage names each state of the policy: Saint Lucia covered, Jamaica without CRL,
    # Grenada (no CSCA) referring every chipped passport
    code, coverage = run(["trust", "coverage", "--json"], capsys)
    states = {s["code"]: s for s in coverage["states"]}
    assert code == 0 and set(states["LCA"]) == {"code", "cscas", "crl_next_update", "status"}
    assert states["LCA"]["status"] == "ok" and len(states["LCA"]["cscas"]) == 2
    assert states["LCA"]["crl_next_update"] is not None
    assert states["JAM"]["status"] == "no_crl"
    assert states["GRD"]["status"] == "no_csca" and states["GRD"]["cscas"] == []
    code, table = run(["trust", "coverage"], capsys)
    assert "GRD" in table and "no_csca" in table


def test_a_stale_crl_is_flagged_by_coverage(passports: PassportFactory, tmp_path: Path) -> None:
    pki = passports.pki
    database = Database(create_database_engine(f"sqlite:///{tmp_path / 't.db'}"))
    database.migrate()
    try:
        store = TrustStore(database)
        crls = [pki.path("crl/LCA-1.crl"), pki.path("crl/LCA-2.crl")]
        import_files(pki.csca_paths("LCA") + crls, store)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
        (state,) = state_coverage(store, ["LCA"], later)
        assert state.status == "crl_stale"
        (now_state,) = state_coverage(store, ["LCA"])
        assert now_state.status == "ok" and not now_state.crl_due()
        # a day before the CRL's next update the state is still ok, but flagged as due
        update = now_state.crl_next_update
        assert update is not None
        (soon,) = state_coverage(store, ["LCA"], update - dt.timedelta(days=1))
        assert soon.status == "ok" and soon.crl_due(update - dt.timedelta(days=1))
    finally:
        database.close()
