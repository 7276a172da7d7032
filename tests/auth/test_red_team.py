"""The red team of issue 13: every attack that got a forged or cloned passport accepted by the
first release, built here (a simulated chip, an offline dump, a forged trust file) and run
through what the kiosk really does: the one-call reader and verifier, ``kiosk passport verify``
and, where the attack was accepted end to end, a full headless transaction.

GIVEN an attack WHEN it meets the kiosk THEN it is refused, and the failed check is named.
The attacks on the chip photo's decoder are in ``test_red_team_chip_photo.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from hardware.sim.chip import PassportChip
from hardware.sim.chip_image import (
    ATR_EXTENDED,
    DG_FIDS,
    EF_ATR_INFO_EXTENDED,
    FID_EF_ATR_INFO,
    FID_EF_COM,
    FID_EF_SOD,
)
from hardware.sim.passports import PassportFactory
from hardware.sim.pki import certificates as certs
from hardware.sim.pki.cms_signing import Signer, sign_content
from hardware.sim.pki.master_list import encode_master_list
from hardware.sim.profiles import shipped_profiles
from kiosk.cli.main import main
from kiosk.config import load_config
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import DemoWorld
from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.document import _access_control, verify_document
from kiosk.icao.errors import UnprotectedResponseError
from kiosk.icao.lds import encode_dg14, encode_sod, oids, parse_sod
from kiosk.icao.lds.security_infos import pace_info
from kiosk.icao.mrz.parser import parse_mrz
from kiosk.icao.reader import read_passport
from kiosk.session.pipeline import _chip_document
from kiosk.storage.database import Database, create_database_engine, open_database
from kiosk.sync.trust_delta import apply_trust_changes
from kiosk.trust.importer import import_files
from kiosk.trust.pinning import PinnedAnchors
from kiosk.trust.store import TrustStore
from models.records import CheckStatus

from .conftest import ChipFactory, inspect_chip, own_pki

# Attacks that were accepted end to end: each runs as a full headless transaction too.
TRANSACTIONS = [
    "lca-dg15-withheld",
    "lca-dg14-withheld",
    "lca-keyless-clone",
    "lca-dg1-withheld",
    "lca-sm-dropped",
    "lca-card-access-removed",
    "lca-issuer-xxa",
    "lca-sod-by-csca",
]
RED_TEAM = sorted(
    [
        *TRANSACTIONS,
        "lca-sod-no-signed-attributes",
        "lca-sod-digest-twice",
        "lca-signing-time-future",
        "lca-ds-ca-bit",
        "lca-ds-key-usage",
        "lca-ds-tls-server",
        "lca-ds-usage-expired",
        "lca-sod-by-ml-signer",
        "lca-dg14-unsigned",
        "lca-csca-unknown",
        "lca-pace-cam-clone",
    ]
)
assert set(RED_TEAM) <= set(shipped_profiles())
# What only a live chip shows (the access protocol, how it answers): no offline dump of these.
LIVE_ONLY = {"lca-sm-dropped", "lca-card-access-removed", "lca-pace-cam-clone"}
DUMP_NAMES = {FID_EF_COM: "EF_COM.bin", FID_EF_SOD: "EF_SOD.bin"} | {
    fid: f"DG{n}.bin" for n, fid in DG_FIDS.items()
}


# --- helpers ----------------------------------------------------------------------------------


def dump(files: dict[int, bytes], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for fid, data in files.items():
        (directory / DUMP_NAMES[fid]).write_bytes(data)
    return directory


def verify_cli(
    directory: Path, trust: list[Path], capsys: pytest.CaptureFixture[str], mrz: str | None = None
) -> tuple[int, dict[str, Any]]:
    argv = ["--log-level", "ERROR", "passport", "verify", str(directory), "--no-store", "--json"]
    for path in trust:
        argv += ["--trust", str(path)]
    if mrz is not None:
        argv += ["--mrz", mrz.replace("\n", "\\n")]
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else {}


def failed_checks(result: dict[str, Any]) -> dict[str, str]:
    return {
        name: check["reason"]
        for name, check in result["checks"].items()
        if check["status"] == "failed"
    }


def pki_trust(passports: PassportFactory) -> list[Path]:
    return [passports.pki.directory / "csca", passports.pki.directory / "crl"]


@pytest.fixture(scope="module")
def world(passports: PassportFactory, tmp_path_factory: pytest.TempPathFactory) -> DemoWorld:
    """The demo's kiosk over the same simulated passports (the PKI is built once)."""
    data_dir = tmp_path_factory.mktemp("red-team-kiosk")
    (data_dir / "sim").symlink_to(passports.cache_dir, target_is_directory=True)
    return DemoWorld(load_config(None, data_dir=str(data_dir)))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TrustStore]:
    database = Database(create_database_engine(f"sqlite:///{tmp_path / 'trust.db'}"))
    database.migrate()
    yield TrustStore(database)
    database.close()


# --- attack chips: in-process reader + verifier ------------------------------------------------


@pytest.mark.parametrize("name", RED_TEAM)
def test_attack_chip_is_refused_with_the_failed_check_named(
    name: str, passports: PassportFactory, anchors: TrustAnchors, chip_for: ChipFactory
) -> None:
    # GIVEN the attack chip WHEN the kiosk reads and verifies it
    expected = shipped_profiles()[name].expected
    verdict = inspect_chip(chip_for(name), passports.printed_mrz(name), anchors)
    # THEN the document is not authentic and each check the attack breaks is named
    assert not verdict.authentic
    wanted: dict[str | None, str | None] = {expected.failed_check: expected.reason}
    assert verdict.failed == wanted | dict(expected.also_failed)


@pytest.mark.parametrize("name", [n for n in RED_TEAM if n not in LIVE_ONLY])
def test_attack_dump_makes_passport_verify_exit_1(
    name: str, passports: PassportFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the files the attack chip holds, dumped
    image = passports.chip_image(name)
    directory = dump(image.application_files, tmp_path / name)
    # WHEN verified offline with the test PKI's CSCAs and CRLs
    code, result = verify_cli(directory, pki_trust(passports), capsys, passports.printed_mrz(name))
    # THEN exit 1, the failed check named, and withheld data groups listed as missing
    expected = shipped_profiles()[name].expected
    assert code == 1 and result["authentic"] is False
    failed = failed_checks(result)
    offline = {"active_authentication", "chip_authentication"}
    wanted: dict[str | None, str | None] = {expected.failed_check: expected.reason}
    for check, reason in (wanted | dict(expected.also_failed)).items():
        if check in offline and reason != "data_group_withheld":
            continue  # the chip's private keys are not in a dump
        assert check is not None and failed.get(check) == reason, (check, failed)
    withheld = {f"DG{n}" for n, fid in DG_FIDS.items() if fid not in image.application_files}
    listed = {f"DG{n}" for n in parse_sod(image.application_files[FID_EF_SOD]).data_group_hashes}
    assert set(result["missing"]) == withheld & listed


@pytest.mark.parametrize("name", TRANSACTIONS)
def test_attack_in_a_full_headless_transaction_is_not_accepted(name: str, world: DemoWorld) -> None:
    # GIVEN the attack passport on the simulated reader of a real kiosk WHEN a traveller uses it
    result = world.run(scenario(name))
    # THEN the gate does not open: referred, with the reason of the failed check
    assert result.decision == "refer", result.as_dict()
    assert result.as_expected, result.as_dict()
    assert result.outcome != "accepted"


# --- withheld data groups in dumps -------------------------------------------------------------


@pytest.mark.parametrize(
    ("keep", "missing"),
    [
        ({"EF_SOD.bin", "DG12.bin"}, {"DG1", "DG2", "DG11", "DG14", "DG15"}),
        ({"EF_SOD.bin", "EF_COM.bin", "DG2.bin", "DG11.bin", "DG12.bin", "DG14.bin", "DG15.bin"},
         {"DG1"}),
        ({"EF_SOD.bin", "EF_COM.bin", "DG1.bin", "DG2.bin", "DG11.bin", "DG12.bin"},
         {"DG14", "DG15"}),
    ],
    ids=["sod-and-dg12-only", "without-dg1", "without-dg14-dg15"],
)  # fmt: skip
def test_dump_without_signed_data_groups_is_not_authentic(
    keep: set[str],
    missing: set[str],
    passports: PassportFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory = dump(passports.chip_image("lca-genuine").application_files, tmp_path / "d")
    for path in directory.iterdir():
        if path.name not in keep:
            path.unlink()
    code, result = verify_cli(directory, pki_trust(passports), capsys)
    assert code == 1 and result["authentic"] is False
    assert set(result["missing"]) == missing
    assert result["checks"]["hashes"]["reason"] == "data_group_missing"
    if "DG1" in missing:
        assert result["checks"]["mrz_consistency"]["reason"] == "dg1_missing"
        assert result["checks"]["issuer_consistency"]["status"] == "failed"
    if "DG15" in missing:
        assert result["checks"]["active_authentication"]["reason"] == "data_group_withheld"
        assert result["checks"]["chip_authentication"]["reason"] == "data_group_withheld"


@pytest.mark.parametrize("name", sorted(n for n, p in shipped_profiles().items() if p.genuine))
def test_genuine_dump_still_passes(
    name: str, passports: PassportFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = dump(passports.chip_image(name).application_files, tmp_path / "ok")
    mrz = passports.printed_mrz(name)
    code, result = verify_cli(directory, pki_trust(passports), capsys, mrz)
    assert code == 0 and result["authentic"] is True and result["missing"] == []
    assert result["checks"]["revocation"]["status"] == "passed"


# --- secure messaging --------------------------------------------------------------------------


def test_plain_status_word_under_secure_messaging_ends_the_session(
    passports: PassportFactory, chip_for: ChipFactory
) -> None:
    # GIVEN a chip that answers a plain 6A82 for DG15 once secure messaging is up, and
    # would answer everything after that in plaintext
    chip = chip_for("lca-sm-dropped")
    mrz = parse_mrz(passports.printed_mrz("lca-sm-dropped")).mrz_information()
    # WHEN read THEN the read ends with a typed chip anomaly, no plaintext command is sent
    with pytest.raises(UnprotectedResponseError):
        read_passport(chip.transmit, mrz_info=mrz, extended_length=True, atr=chip.atr)
    plain_after = [ins for ins, sw in chip.history[-1:] if sw == 0x6A82]
    assert plain_after == [0xA4]  # the last command the chip saw was the SELECT it refused


class PlainAnswersAfterSecureMessaging:
    """A chip (man in the middle) that answers the n-th protected command in plain."""

    def __init__(self, chip: PassportChip, answer: bytes, nth: int = 8) -> None:
        self.chip, self.answer, self.nth, self.protected = chip, answer, nth, 0
        self.atr = chip.atr

    def transmit(self, apdu: bytes) -> bytes:
        if apdu[0] & 0x0C:
            self.protected += 1
            if self.protected == self.nth:
                return self.answer
        return self.chip.transmit(apdu)


@pytest.mark.parametrize(
    "answer",
    [b"\x90\x00", b"\x6a\x82", b"\x69\x82", bytes(24) + b"\x90\x00", b"\x61\x10"],
    ids=["plain-9000", "plain-6a82", "plain-6982", "plain-data", "plain-61xx"],
)
def test_any_unprotected_answer_under_secure_messaging_is_a_chip_anomaly(
    answer: bytes, passports: PassportFactory, anchors: TrustAnchors, chip_for: ChipFactory
) -> None:
    chip = PlainAnswersAfterSecureMessaging(chip_for("lca-genuine"), answer)
    verdict = inspect_chip(chip, passports.printed_mrz("lca-genuine"), anchors)  # type: ignore[arg-type]
    assert verdict.failed == {"document_readable": "secure_messaging_dropped"}


# --- revocation ----------------------------------------------------------------------------------


def _crl(passports: PassportFactory, generation: int, days_left: int) -> bytes:
    pki = passports.pki
    suite = pki.suite("LCA")
    key = pki.keys.signing_key(f"LCA-csca-{generation}", suite.csca_key)
    issuer = x509.load_der_x509_certificate(pki.path(f"csca/LCA-{generation}.der").read_bytes())
    now = dt.datetime.now(dt.UTC)
    crl = certs.make_crl(
        issuer,
        key,
        suite.csca_scheme,
        [],
        now - dt.timedelta(days=120),
        now + dt.timedelta(days=days_left),
    )
    return crl.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("profile", "crls", "reason"),
    [
        # the DS's CSCA (generation 2) has no CRL, while generation 1's is current (rollover)
        ("lca-genuine", lambda p: [p.path("crl/LCA-1.crl").read_bytes()], "no_crl"),
        ("lca-ds-revoked", lambda p: [p.path("crl/LCA-1.crl").read_bytes()], "no_crl"),
        # the CRL of the DS's CSCA is past its nextUpdate
        ("lca-genuine", "stale", "crl_stale"),
    ],
    ids=["ds-csca-without-crl", "revoked-ds-without-its-crl", "crl-past-next-update"],
)
def test_revocation_not_checkable_is_not_passed(
    profile: str,
    crls: Any,
    reason: str,
    passports: PassportFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pki = passports.pki
    given = [_crl(passports, 2, -1)] if crls == "stale" else crls(pki)
    trust = tmp_path / "trust"
    trust.mkdir()
    for index, der in enumerate(given):
        (trust / f"{index}.crl").write_bytes(der)
    directory = dump(passports.chip_image(profile).application_files, tmp_path / "d")
    code, result = verify_cli(directory, [pki.directory / "csca", trust], capsys)
    assert code == 1
    assert result["checks"]["revocation"]["status"] == "not_performed"
    assert result["checks"]["revocation"]["reason"] == reason


def test_transaction_without_a_current_crl_is_referred(
    passports: PassportFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # GIVEN a kiosk whose trust store holds the CSCAs, a current CRL of the first Saint Lucia
    # CSCA and an expired one of the second (imported the way an operator imports them)
    data_dir = tmp_path_factory.mktemp("stale-crl-kiosk")
    (data_dir / "sim").symlink_to(passports.cache_dir, target_is_directory=True)
    world = DemoWorld(load_config(None, data_dir=str(data_dir)), import_trust=False)
    pki = passports.pki
    stale = data_dir / "LCA-2-stale.crl"
    stale.write_bytes(_crl(passports, 2, -1))
    with open_database(world.config) as database:
        summary = import_files(
            [*pki.trust_anchor_paths(), pki.path("crl/LCA-1.crl"), stale], TrustStore(database)
        )
    assert not summary.rejected
    # WHEN a genuine traveller comes THEN the policy's default refers
    result = world.run(scenario("genuine-traveller"))
    assert result.decision == "refer" and "authentication_failed" in result.reasons


# --- master lists and countryless CSCAs ---------------------------------------------------------


@dataclasses.dataclass
class Forgery:
    csca: bytes
    master_list: bytes
    sod_dump: Path


def _name(country: str | None, cn: str) -> x509.Name:
    if country is None:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return certs.country_name(country, cn)


def forge(passports: PassportFactory, tmp_path: Path, country: str | None) -> Forgery:
    """An attacker's own CSCA (C=LC, or no C= at all), a DS it issued, the genuine Saint Lucia
    data groups re-signed by that DS, and a master list of the CSCA signed by a list signer the
    same CSCA issued (so it verifies against a CSCA inside itself)."""
    ten_years = dt.timedelta(days=3650)
    keys, scheme, validity = own_pki(tmp_path / "attacker-keys", ten_years, ten_years)
    csca_key = keys.signing_key("csca", "ec:brainpoolP256r1")
    ds_key = keys.signing_key("ds", "ec:brainpoolP256r1")
    now = dt.datetime.now(dt.UTC)
    csca_name = _name(country, "CSCA LC")
    csca = certs.make_csca(csca_name, csca_key, scheme, validity)
    ds = certs.make_document_signer(
        _name(country, "Document Signer LC"), ds_key.public_key(), csca_name, csca_key, scheme,
        validity,
    )  # fmt: skip
    ml_signer = certs.make_master_list_signer(
        _name(country, "Master List Signer LC"), ds_key.public_key(), csca_name, csca_key,
        scheme, validity,
    )  # fmt: skip
    csca_der = csca.public_bytes(serialization.Encoding.DER)
    master_list = encode_master_list([csca_der], Signer(ml_signer, ds_key, scheme))
    image = passports.chip_image("lca-genuine")
    lso = parse_sod(image.application_files[FID_EF_SOD]).encapsulated_content
    signed = sign_content(
        oids.LDS_SECURITY_OBJECT, lso, Signer(ds, ds_key, scheme),
        signing_time=now - dt.timedelta(days=1),
    )  # fmt: skip
    files = dict(image.application_files)
    files[FID_EF_SOD] = encode_sod(signed)
    return Forgery(csca_der, master_list, dump(files, tmp_path / "forged-dump"))


def test_self_vouching_master_list_is_not_imported(
    passports: PassportFactory, store: TrustStore, tmp_path: Path
) -> None:
    forgery = forge(passports, tmp_path, "LC")
    path = tmp_path / "forged.ml"
    path.write_bytes(forgery.master_list)
    # GIVEN the operator pinned the genuine list signer only
    store.pinned = PinnedAnchors((passports.pki.master_list_signer_path.read_bytes(),))
    # WHEN the forged list is imported THEN nothing of it enters the store
    summary = import_files([path], store)
    assert summary.added == 0 and summary.rejected
    assert summary.master_lists[0]["signer"] == "signer_not_pinned"
    assert store.certificates() == []
    # and the genuine list, under its pinned signer, is accepted
    genuine = import_files([passports.pki.master_list_path], store)
    assert genuine.rejected == [] and genuine.added > 0


def test_self_vouching_master_list_does_not_make_a_forgery_authentic(
    passports: PassportFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forgery = forge(passports, tmp_path, "LC")
    path = tmp_path / "forged.ml"
    path.write_bytes(forgery.master_list)
    code, result = verify_cli(forgery.sod_dump, [path, passports.pki.directory / "crl"], capsys)
    assert code == 1 and result["checks"]["chain"]["reason"] == "csca_not_found"


def test_master_list_arriving_by_sync_meets_the_same_rule(
    passports: PassportFactory, store: TrustStore, tmp_path: Path
) -> None:
    forgery = forge(passports, tmp_path, "LC")
    pinned = PinnedAnchors((passports.pki.master_list_signer_path.read_bytes(),))

    def change(version: int, content: bytes) -> dict[str, Any]:
        encoded = base64.b64encode(content).decode()
        return {"op": "upsert", "version": version, "key": f"k{version}",
                "data": {"content_b64": encoded}}  # fmt: skip

    forged = apply_trust_changes(store.database, [change(1, forgery.master_list)], pinned)
    assert forged.summary.added == 0 and forged.summary.rejected
    genuine = passports.pki.master_list_path.read_bytes()
    accepted = apply_trust_changes(store.database, [change(2, genuine)], pinned)
    assert accepted.summary.added > 0 and accepted.summary.rejected == []


def test_countryless_csca_is_a_root_for_no_country(
    passports: PassportFactory,
    store: TrustStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    forgery = forge(passports, tmp_path, None)
    csca = tmp_path / "countryless.der"
    csca.write_bytes(forgery.csca)
    # WHEN trusted for an offline check THEN the chain finds no CSCA of the signer's country
    code, result = verify_cli(forgery.sod_dump, [csca], capsys)
    assert code == 1 and result["checks"]["chain"]["reason"] == "csca_not_found"
    # and the trust store refuses such a CSCA
    summary = import_files([csca], store)
    assert summary.added == 0 and "country" in summary.rejected[0]["reason"]


# --- per-check honesty ---------------------------------------------------------------------------


def test_aa_and_ca_are_not_passed_when_the_chain_failed(
    passports: PassportFactory, anchors: TrustAnchors, chip_for: ChipFactory
) -> None:
    verdict = inspect_chip(
        chip_for("lca-csca-unknown"), passports.printed_mrz("lca-csca-unknown"), anchors
    )
    assert verdict.status("chain") is CheckStatus.FAILED
    for name in ("active_authentication", "chip_authentication"):
        assert verdict.status(name) is not CheckStatus.PASSED
        assert verdict.checks[name].reason == "chain_failed"


# --- extended length ---------------------------------------------------------------------------


@pytest.mark.parametrize("claims", ["atr", "ef_atr_info", "nothing"])
def test_chip_without_extended_length_is_still_read(
    claims: str, passports: PassportFactory, anchors: TrustAnchors
) -> None:
    # GIVEN a chip that refuses extended APDUs with a plain 6700, although its ATR or its
    # EF.ATR/INFO claims them (or, honestly, says nothing)
    image = passports.chip_image("lca-short-apdu")
    master = dict(image.master_files)
    if claims == "ef_atr_info":
        master[FID_EF_ATR_INFO] = EF_ATR_INFO_EXTENDED
    atr = ATR_EXTENDED if claims == "atr" else image.atr
    liar = dataclasses.replace(image, master_files=master, atr=atr)
    chip = PassportChip(liar)
    chip.power_on()
    # WHEN read by a reader that can carry extended length
    verdict = inspect_chip(chip, passports.printed_mrz("lca-short-apdu"), anchors)
    # THEN every file is read with short APDUs and the document is authentic
    assert verdict.authentic and verdict.failed == {}
    assert verdict.missing == ()


# --- DG1, not the printed page, feeds screening and the policy -------------------------------


@pytest.mark.parametrize(("name", "from_chip"), [("lca-genuine", True), ("lca-dg1-altered", False)])
def test_screening_uses_dg1_once_proven(
    name: str, from_chip: bool, passports: PassportFactory, anchors: TrustAnchors,
    chip_for: ChipFactory,
) -> None:  # fmt: skip
    chip = chip_for(name)
    printed = passports.printed_mrz(name)
    read = read_passport(chip.transmit, mrz_info=parse_mrz(printed).mrz_information(), atr=chip.atr)
    verdict, _ = verify_document(read.files, anchors, printed_mrz=printed, channel=read.channel)
    document = _chip_document(read, verdict)
    if not from_chip:
        assert document is None  # an altered DG1 is not used for anything
        return
    assert document is not None and document.facts is not None
    assert document.facts.issuing_state == "LCA"
    assert document.parsed.fields.surname == "JOSEPH"


class _Proven:
    def proven(self, number: int) -> bool:
        return True


@pytest.mark.parametrize(
    ("mapping_oid", "parameter_id", "downgrade"),
    [
        (oids.PACE_ECDH_GM, 13, True),
        (oids.PACE_ECDH_IM, 13, True),
        (oids.PACE + ".3", 0, True),
        (oids.PACE_ECDH_IM, 10, False),  # P-224: p = 1 mod 4, no IM point encoding
    ],
    ids=["ecdh-gm-listed", "ecdh-im-listed", "dh-im-listed", "only-ecdh-im-on-p224-listed"],
)
def test_bac_is_a_downgrade_only_when_dg14_lists_a_pace_this_reader_runs(
    mapping_oid: str, parameter_id: int, downgrade: bool
) -> None:
    # GIVEN a signed DG14 listing one PACE variant, and a chip that was opened with BAC
    dg14 = encode_dg14([pace_info(mapping_oid, 2, parameter_id)])
    result = _access_control("BAC", {"DG14": dg14}, _Proven())  # type: ignore[arg-type]
    # THEN only a PACE variant the reader could have run makes BAC an anomaly
    assert (result.status is CheckStatus.FAILED) is downgrade
    if downgrade:
        assert result.reason == "pace_downgrade"
