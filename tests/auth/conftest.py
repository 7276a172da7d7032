"""Simulated passports read in-process and the trust anchors of their test PKI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from hardware.sim.chip import PassportChip
from hardware.sim.passports import PassportFactory
from hardware.sim.pki import certificates as certs
from hardware.sim.pki.keys import KeyCache
from hardware.sim.pki.signatures import SignatureScheme, parse_scheme
from hardware.sim.pki.test_pki import TestPki
from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.document import verify_document
from kiosk.icao.auth.verdict import DocumentVerdict, read_failure
from kiosk.icao.mrz.parser import parse_mrz
from kiosk.icao.reader import read_passport
from models.errors import KioskError

TRUST_DATA = Path(__file__).resolve().parent.parent / "data" / "trust"


@pytest.fixture(scope="session")
def passports(tmp_path_factory: pytest.TempPathFactory) -> PassportFactory:
    return PassportFactory(tmp_path_factory.mktemp("auth-sim-cache"))


def pki_anchors(pki: TestPki) -> TrustAnchors:
    cscas, links = [], []
    for path in pki.trust_anchor_paths():
        (links if "link" in path.name else cscas).append(path.read_bytes())
    crls = [path.read_bytes() for path in pki.crl_paths()]
    return TrustAnchors(tuple(cscas), tuple(links), tuple(crls))


@pytest.fixture(scope="session")
def anchors(passports: PassportFactory) -> TrustAnchors:
    return pki_anchors(passports.pki)


@pytest.fixture
def chip_for(passports: PassportFactory) -> ChipFactory:
    def make(name: str) -> PassportChip:
        chip = PassportChip(passports.chip_image(name))
        chip.power_on()
        return chip

    return make


ChipFactory = Callable[[str], PassportChip]


def own_pki(
    directory: Path, before: dt.timedelta, after: dt.timedelta
) -> tuple[KeyCache, SignatureScheme, certs.Validity]:
    """Keys, ECDSA-SHA256 and a validity around now, for certificates a test makes itself
    (an attacker's CSCA, the regional agency's list signer)."""
    now = dt.datetime.now(dt.UTC)
    return (
        KeyCache(directory),
        parse_scheme("ecdsa-sha256"),
        certs.Validity(now - before, now + after),
    )


def inspect_chip(chip: PassportChip, printed: str, anchors: TrustAnchors) -> DocumentVerdict:
    """What the kiosk does with a chip: read it (extended length only if it says so), then
    verify the files and challenge the chip; a failed read is the verdict of that stage."""
    try:
        read = read_passport(
            chip.transmit,
            mrz_info=parse_mrz(printed).mrz_information(),
            extended_length=True,
            max_response_bytes=65538,
            atr=chip.atr,
        )
    except KioskError as exc:
        return read_failure(exc)
    verdict, _ = verify_document(
        read.files,
        anchors,
        printed_mrz=printed,
        access_protocol=read.access,
        channel=read.channel,
        skipped=read.skipped,
        pace_cam=read.access_result.cam if read.access_result is not None else None,
    )
    return verdict
