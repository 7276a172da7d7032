"""Every shipped passport profile, genuine or defective, read in-process and verified: the
verdict names exactly the failed check and reason the profile states."""

from __future__ import annotations

import pytest

from hardware.sim.passports import PassportFactory
from hardware.sim.profiles import shipped_profiles
from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.verdict import DocumentVerdict
from models.records import CheckStatus

from .conftest import ChipFactory, inspect_chip

PROFILES = sorted(shipped_profiles())


def inspect(
    name: str, passports: PassportFactory, anchors: TrustAnchors, chip_for: ChipFactory
) -> DocumentVerdict:
    """Read the chip with the one-call reader, then verify."""
    return inspect_chip(chip_for(name), passports.printed_mrz(name), anchors)


@pytest.mark.parametrize("name", PROFILES)
def test_profile_gets_the_verdict_it_states(
    name: str, passports: PassportFactory, anchors: TrustAnchors, chip_for: ChipFactory
) -> None:
    # GIVEN a personalised chip and the trust anchors of its test PKI
    expected = shipped_profiles()[name].expected
    # WHEN an inspection system reads and verifies it
    verdict = inspect(name, passports, anchors, chip_for)
    # THEN exactly the stated check fails, with the stated reason
    if expected.failed_check is None:
        assert verdict.failed == {}
    else:
        assert verdict.failed == {expected.failed_check: expected.reason, **expected.also_failed}
    # and the document is authentic unless a check of authenticity failed; expiry is policy,
    # so an expired but genuine document is authentic yet not valid
    assert verdict.valid is expected.authentic
    assert verdict.authentic is (expected.authentic or expected.failed_check == "expiry")


def test_genuine_passport_passes_every_check(
    passports: PassportFactory, anchors: TrustAnchors, chip_for: ChipFactory
) -> None:
    verdict = inspect("lca-genuine", passports, anchors, chip_for)
    for name in (
        "access_control",
        "sod_signature",
        "chain",
        "revocation",
        "hashes",
        "active_authentication",
        "chip_authentication",
        "mrz_consistency",
        "issuer_consistency",
        "expiry",
    ):
        assert verdict.status(name) is CheckStatus.PASSED, name
    assert set(verdict.data_groups.values()) == {"passed"}


def test_without_the_csca_the_chain_fails_and_aa_ca_still_run(
    passports: PassportFactory, chip_for: ChipFactory
) -> None:
    # GIVEN no trust anchors at all
    verdict = inspect("brb-genuine", passports, TrustAnchors(), chip_for)
    # THEN the chain fails for want of a CSCA, but hashes and chip keys are still judged
    assert verdict.failed == {"chain": "csca_not_found"}
    assert verdict.status("hashes") is CheckStatus.PASSED
    assert not verdict.authentic
