"""The project's wheel (what the Debian packages and the container install) ships every data
file: simulator profiles and faces, migrations, translations."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("kiosk", "hardware", "models", "ui", "server")
NOT_SHIPPED = {".py", ".pyc", ".pyi"}


def source_data_files() -> set[str]:
    files = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            relative = path.relative_to(ROOT)
            if (
                path.is_file()
                and path.suffix not in NOT_SHIPPED
                and "__pycache__" not in relative.parts
                and not path.name.startswith(".")
            ):
                files.add(relative.as_posix())
    return files


def test_wheel_holds_every_data_file(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    # GIVEN a clean copy of the sources (nothing from an earlier in-tree build)
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    # WHEN its wheel is built
    subprocess.run(
        [uv, "build", "--quiet", "--wheel", "--no-build-isolation", "--python", sys.executable]
        + ["--out-dir", str(tmp_path / "dist"), str(source)],
        check=True,
        timeout=120,
    )
    (wheel,) = (tmp_path / "dist").glob("open_egate_kiosk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    # THEN every non-Python file of the packages is in it, the simulator's faces included
    expected = source_data_files()
    assert any(name.startswith("hardware/sim/profiles/faces/") for name in expected)
    assert any(name.startswith("models/migrations/") for name in shipped)
    assert sorted(expected - shipped) == []
    assert "kiosk/cli/main.py" in shipped
    # AND the licence text and the NOTICE travel with it (in its dist-info)
    assert any(
        n.endswith((".dist-info/licenses/LICENSE", ".dist-info/LICENSE")) for n in shipped
    ), sorted(n for n in shipped if "dist-info" in n)
    assert any(n.endswith("/NOTICE") for n in shipped)
