"""``kiosk chip read --sim PROFILE`` (the in-process simulated reader) and ``kiosk bench chip``:
what is printed and written, exit codes, and errors without tracebacks."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.sim.chip_image import FID_EF_CARDACCESS
from kiosk.bench import chip as chip_bench
from kiosk.cli.main import main


@pytest.fixture(autouse=True)
def _drop_cli_log_handlers() -> Iterator[None]:
    """main() installs a stderr log handler; capsys closes that stream after the test."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk", False):
            root.removeHandler(handler)


@pytest.fixture
def sim_home(kiosk_home: Path, passports: Any) -> Path:
    """A data directory whose simulated passports are the session's (built once)."""
    (kiosk_home / "sim").symlink_to(passports.cache_dir, target_is_directory=True)
    return kiosk_home


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["chip", "read", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sim_read_writes_every_file_and_prints_only_sizes(
    sim_home: Path, passports: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GIVEN the Saint Lucia passport and its printed MRZ, lines in one argument
    image = passports.chip_image("lca-genuine")
    mrz = passports.printed_mrz("lca-genuine")
    out = tmp_path / "files"
    # WHEN it is read as JSON into a directory
    code, stdout, stderr = _run(
        capsys, "--sim", "lca-genuine", "--mrz", mrz, "--out", str(out), "--json"
    )
    # THEN exit 0, PACE with AES, and each file written as NAME.bin with its size printed
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["access"] == "PACE" and result["secure_messaging"] == "AES-128"
    assert result["files"]["DG2"] == len(image.application_files[0x0102])
    assert (out / "DG1.bin").read_bytes() == image.application_files[0x0101]
    assert (out / "EF_SOD.bin").read_bytes() == image.application_files[0x011D]
    assert (out / "EF_CardAccess.bin").read_bytes() == image.master_files[FID_EF_CARDACCESS]
    assert {p.stem for p in out.iterdir()} == set(result["files"])
    assert (out / "DG1.bin").stat().st_mode & 0o077 == 0
    assert set(result["timings_ms"]) >= {"access", "EF_COM", "EF_SOD", "DG1", "DG2", "total"}
    # AND no chip content or MRZ data is printed or logged
    number = mrz.splitlines()[1][:9]
    assert number not in stdout and number not in stderr


def test_mrz_with_a_literal_backslash_n_and_the_table(
    sim_home: Path, passports: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mrz = passports.printed_mrz("lca-bac-only").replace("\n", "\\n")
    code, stdout, _ = _run(capsys, "--sim", "lca-bac-only", "--mrz", mrz)
    assert code == 0
    assert stdout.startswith("read by BAC (3DES) on Simulated chip reader")
    assert any(line.startswith("DG2 ") for line in stdout.splitlines())


def test_the_can_opens_the_id_card(
    sim_home: Path, passports: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    can = passports.chip_image("lca-id-card").can
    code, stdout, _ = _run(capsys, "--sim", "lca-id-card", "--can", can, "--json")
    assert code == 0 and json.loads(stdout)["access"] == "PACE"


# The ICAO specimen with a wrong check digit on the document number.
BAD_CHECK_DIGIT = (
    "P<UTOERIKSSON<<ANNA<MARIA" + "<" * 19 + "\nL898902C35UTO7408122F1204159ZE184226B<<<<<10"
)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--mrz", "P<UTO NOT AN MRZ"], "mrz_unreadable"),
        (["--mrz", BAD_CHECK_DIGIT], "mrz_invalid"),
        (["--can", "12AB56"], "chip_read_bad_input"),
    ],
)
def test_unusable_password_exits_2_with_a_json_error(
    sim_home: Path, capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    code, stdout, stderr = _run(capsys, "--sim", "lca-genuine", *args, "--json")
    assert code == 2
    assert json.loads(stdout)["error"] == error
    assert "Traceback" not in stderr


def test_wrong_mrz_is_access_denied(
    sim_home: Path, passports: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the printed MRZ of the "wrong password" document (birth date differs from the chip)
    mrz = passports.printed_mrz("lca-wrong-password")
    code, stdout, _ = _run(capsys, "--sim", "lca-wrong-password", "--mrz", mrz, "--json")
    # THEN exit 1 with a clear message
    assert code == 1
    result = json.loads(stdout)
    assert result["error"] == "access_denied"
    assert "refused access" in result["message"] and "date of birth" in result["message"]


def test_chip_that_stops_answering_is_a_typed_error_without_json(
    sim_home: Path, passports: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mrz = passports.printed_mrz("lca-stops-mid-read")
    code, stdout, stderr = _run(
        capsys, "--sim", "lca-stops-mid-read", "--mrz", mrz, "--out", str(tmp_path / "o")
    )
    assert code == 1 and stdout == ""
    assert "kiosk chip read: chip_not_answering:" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "o").exists()


def test_truncated_sod_is_kept_as_read(
    sim_home: Path, passports: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mrz = passports.printed_mrz("lca-sod-truncated")
    code, stdout, _ = _run(capsys, "--sim", "lca-sod-truncated", "--mrz", mrz, "--json")
    result = json.loads(stdout)
    assert code == 0 and result["truncated"] == ["EF_SOD"]
    assert result["files"]["EF_SOD"] == len(
        passports.chip_image("lca-sod-truncated").application_files[0x011D]
    )


def test_unknown_profile_exits_2(sim_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = _run(capsys, "--sim", "no-such-passport", "--can", "123456", "--json")
    assert code == 2 and json.loads(stdout)["error"] == "config_invalid"


def test_bench_reports_the_contract_keys(passports: Any) -> None:
    # GIVEN one run of the benchmark on the session's test PKI
    args = argparse.Namespace(runs=1, short_apdus=True, cache_dir=passports.cache_dir)
    # WHEN it runs
    figures = chip_bench.run(args)
    # THEN the JSON contract keys are there, with a ~30 KB DG2 read by AES and 3DES
    assert set(figures["read_cpu_ms_median"]) == {"aes", "3des"}
    assert all(v > 0 for v in figures["read_cpu_ms_median"].values())
    assert figures["pace_gm_cpu_ms_median"] > 0
    assert figures["pace_im_cpu_ms_median"] > 0 and figures["pace_cam_cpu_ms_median"] > 0
    assert 30_000 <= figures["dg2_bytes"] < 34_000
    assert figures["bytes_read"] > figures["dg2_bytes"]
    assert figures["runs"] == 1 and figures["apdu_mode"] == "short"
    assert figures["apdus_per_read"]["aes"] > 30_000 // 223
