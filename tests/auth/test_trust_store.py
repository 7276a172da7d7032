"""The trust store with real published files: the German master list, CSCA and link
certificates of Germany, the Netherlands and Indonesia; and the test PKI's CRLs and LDIF."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.sim.passports import PassportFactory
from kiosk.icao.auth.anchors import TrustAnchors, load_certificate
from kiosk.icao.auth.chain import validate_chain
from kiosk.storage.database import Database, create_database_engine
from kiosk.trust.errors import TrustFileError
from kiosk.trust.importer import import_files
from kiosk.trust.ldif import read_ldif
from kiosk.trust.master_list import parse_master_list
from kiosk.trust.pinning import PinnedAnchors
from kiosk.trust.store import TrustStore
from models.records import CheckStatus

from .conftest import TRUST_DATA

GERMAN_ML = TRUST_DATA / "DE_ML_2026-05-28-08-28-45.ml"
INDONESIA = [
    "2010-12_CSCA.cer",
    "2016-01_CSCA.cer",
    "2016-01_CSCA_LINK.cer",
    "2020-10_CSCA.cer",
    "2020-10_CSCA_LINK.cer",
]


def _cert(name: str) -> bytes:
    return (TRUST_DATA / name).read_bytes()


GERMAN_PIN = PinnedAnchors((), (_cert("DE_ROOT_CA_CSCA07.cer"),))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TrustStore]:
    database = Database(create_database_engine(f"sqlite:///{tmp_path / 'trust.db'}"))
    database.migrate()
    yield TrustStore(database, GERMAN_PIN)  # the German CSCA, pinned out of band
    database.close()


def test_german_master_list_parses_and_its_signer_verifies() -> None:
    # GIVEN the real German master list WHEN parsed with the German CSCA pinned
    listed = parse_master_list(GERMAN_ML.read_bytes(), GERMAN_PIN)
    # THEN all 588 certificates come out and the signer chains to the pinned CSCA (explicit
    # brainpool domain parameters on both)
    assert len(listed.certificates) == 588
    assert listed.signer_verified and listed.signer_status == "verified"
    # and without a pin the German CSCA inside the list vouches for nothing
    unpinned = parse_master_list(GERMAN_ML.read_bytes())
    assert not unpinned.signer_verified and unpinned.signer_status == "signer_not_pinned"


def test_tampered_master_list_is_rejected() -> None:
    data = bytearray(GERMAN_ML.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside the certificate list: the message digest breaks
    with pytest.raises(TrustFileError):
        parse_master_list(bytes(data))


def test_import_master_list_and_certificates_with_duplicates(store: TrustStore) -> None:
    # WHEN the master list and then the single certificates are imported
    first = import_files([GERMAN_ML], store)
    second = import_files(sorted(TRUST_DATA.glob("*.cer")), store)
    again = import_files([GERMAN_ML], store)
    # THEN the list's 588 certificates and its signer are added once; the German and Dutch
    # CSCAs are already in the list (duplicates by fingerprint), the Indonesian ones are new
    assert (first.added, first.duplicates, first.rejected) == (589, 0, [])
    assert first.master_lists[0]["signer_verified"] is True
    assert (second.added, second.duplicates) == (5, 2)
    assert (again.added, again.duplicates) == (0, 589)
    kinds = {e.kind for e in store.certificates("ID")}
    assert kinds == {"csca", "link"} and len(store.certificates("ID")) == 5
    assert any(e.kind == "master_list_signer" for e in store.certificates("DE"))


def test_garbage_files_are_rejected_with_a_reason(store: TrustStore, tmp_path: Path) -> None:
    junk = tmp_path / "junk.der"
    junk.write_bytes(b"\x30\x82\xff\xff not a certificate")
    summary = import_files([junk, tmp_path / "missing.cer"], store)
    assert summary.added == 0 and len(summary.rejected) == 2


@pytest.mark.parametrize(
    ("link", "issuer", "moment"),
    [
        ("2016-01_CSCA_LINK.cer", "2010-12_CSCA.cer", dt.datetime(2017, 1, 1, tzinfo=dt.UTC)),
        ("2020-10_CSCA_LINK.cer", "2016-01_CSCA.cer", dt.datetime(2021, 1, 1, tzinfo=dt.UTC)),
    ],
)
def test_indonesian_link_certificates_chain_to_the_previous_csca(
    link: str, issuer: str, moment: dt.datetime
) -> None:
    # GIVEN a link certificate (the 2020 one is RSASSA-PSS) and only the previous CSCA trusted
    result = validate_chain(load_certificate(_cert(link)), TrustAnchors((_cert(issuer),)), moment)
    # THEN the chain validates
    assert result.result.status is CheckStatus.PASSED


def test_link_certificate_does_not_chain_to_a_foreign_or_wrong_csca() -> None:
    link = load_certificate(_cert("2020-10_CSCA_LINK.cer"))
    moment = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    others = TrustAnchors((_cert("DE_ROOT_CA_CSCA07.cer"), _cert("NL_ROOT_CA.cer")))
    assert validate_chain(link, others, moment).result.reason == "csca_not_found"
    wrong = TrustAnchors((_cert("2010-12_CSCA.cer"),))
    assert validate_chain(link, wrong, moment).result.status is CheckStatus.FAILED


def test_german_ml_signer_chains_to_the_german_csca_alone() -> None:
    listed = parse_master_list(GERMAN_ML.read_bytes())
    assert listed.signer_certificate is not None
    signer = load_certificate(listed.signer_certificate)
    anchors = TrustAnchors((_cert("DE_ROOT_CA_CSCA07.cer"),))
    when = dt.datetime(2026, 5, 28, tzinfo=dt.UTC)
    assert validate_chain(signer, anchors, when).result.status is CheckStatus.PASSED
    dutch = TrustAnchors((_cert("NL_ROOT_CA.cer"),))
    assert validate_chain(signer, dutch, when).result.reason == "csca_not_found"


def _ldif(entries: list[tuple[str, bytes]]) -> bytes:
    lines = ["version: 1", ""]
    for index, (attribute, der) in enumerate(entries):
        encoded = base64.b64encode(der).decode()
        folded = "\n ".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
        lines += [
            f"dn: cn=item{index},o=ICAO,c=XX",
            "objectClass: top",
            f"{attribute}:: {folded}",
            "",
        ]
    return "\n".join(lines).encode()


def test_pkd_ldif_with_ds_certificates_crls_and_master_list(
    store: TrustStore, passports: PassportFactory, tmp_path: Path
) -> None:
    # GIVEN the test PKI's CSCAs imported, and an LDIF with DS certificates, CRLs, a master list
    # whose signer is pinned
    pki = passports.pki
    store.pinned = PinnedAnchors((pki.master_list_signer_path.read_bytes(),))
    import_files(pki.trust_anchor_paths(), store)
    ds = pki.document_signer("LCA").path.read_bytes()
    crls = [p.read_bytes() for p in pki.crl_paths()]
    ldif = tmp_path / "icaopkd.ldif"
    ldif.write_bytes(
        _ldif(
            [("userCertificate;binary", ds)]
            + [("certificateRevocationList;binary", c) for c in crls]
            + [("pkdMasterListContent", pki.master_list_path.read_bytes())]
        )
    )
    # WHEN imported
    summary = import_files([ldif], store)
    # THEN the DS and every CRL (signature checked against its CSCA) are added, the master
    # list's certificates are duplicates, and freshness reports the CRLs' next update
    assert summary.rejected == []
    assert summary.added == 1 + len(crls) + 1  # DS, CRLs, master list signer
    assert summary.master_lists[0]["signer_verified"] is True
    fresh = store.freshness(dt.datetime.now(dt.UTC), 30)
    assert fresh.crl_count == len(crls) and fresh.oldest_next_update is not None
    assert fresh.stale_crls == []
    later = store.freshness(dt.datetime.now(dt.UTC) + dt.timedelta(days=400), 30)
    assert len(later.stale_crls) == len(crls)
    assert len(store.anchors("LC").document_signers) == 1


def test_crl_signed_by_another_key_is_rejected(
    store: TrustStore, passports: PassportFactory
) -> None:
    pki = passports.pki
    import_files(pki.trust_anchor_paths(), store)
    crl = bytearray(pki.path("crl/LCA-2.crl").read_bytes())
    crl[-5] ^= 0x01  # signature byte
    path = pki.directory.parent / "tampered.crl"
    path.write_bytes(bytes(crl))
    summary = import_files([path], store)
    assert summary.rejected and summary.rejected[0]["reason"] == "crl_signature_invalid"


def test_ldif_folding_and_bad_base64() -> None:
    records = list(read_ldif(b"dn: cn=a\nuserCertificate;binary:: AAEC\n AwQ=\n\ndn: cn=b\n"))
    assert records[0][1] == ("userCertificate;binary", b"\x00\x01\x02\x03\x04")
    with pytest.raises(TrustFileError):
        list(read_ldif(b"dn: cn=a\nx:: !!!\n"))
    with pytest.raises(TrustFileError):
        list(read_ldif(b" continuation first\n"))
