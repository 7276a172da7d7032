"""Shared simulated passports: one test PKI and chip image cache per test session."""

from __future__ import annotations

import pytest

from hardware.sim.passports import PassportFactory


@pytest.fixture(scope="session")
def passports(tmp_path_factory: pytest.TempPathFactory) -> PassportFactory:
    """Personalised chips of the shipped profiles (``passports.chip_image(name)``) and their
    test PKI (``passports.pki``), built once in a temporary directory."""
    return PassportFactory(tmp_path_factory.mktemp("sim-cache"))
