"""One demo world per test session: the simulated PKI and passports are built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.demo.world import DemoWorld


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="session")
def world(demo_dir: Path) -> DemoWorld:
    return DemoWorld(load_config(None, data_dir=str(demo_dir)))
