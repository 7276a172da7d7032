"""``kiosk passport verify`` on dumped chip files, and ``kiosk trust`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.sim.passports import PassportFactory
from kiosk.cli.main import main
from kiosk.icao.auth.dump_names import lds_name

FILE_NAMES = {
    0x011D: "EF_SOD.bin",
    0x011E: "ef011E.bin",
    0x0101: "Datagroup1.bin",
    0x0102: "DG2.bin",
    0x010E: "ef010e.bin",
    0x010F: "EF.DG15.bin",
}


def dump(passports: PassportFactory, name: str, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for fid, data in passports.chip_image(name).application_files.items():
        file_name = FILE_NAMES.get(fid, f"DG{fid - 0x0100}.bin")
        (directory / file_name).write_bytes(data)
    return directory


def trust_args(passports: PassportFactory) -> list[str]:
    pki = passports.pki.directory
    return ["--no-store", "--trust", str(pki / "csca"), "--trust", str(pki / "crl")]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["--log-level", "ERROR", *argv])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip().startswith("{") else {})


def test_dump_names_of_several_tools() -> None:
    assert [
        lds_name(n)
        for n in (
            "EF_SOD.bin",
            "ef011D.bin",
            "EF011d.BIN",
            "Datagroup1.bin",
            "DG14.bin",
            "ef0101.bin",
            "EF.DG2.bin",
            "dg16.bin",
            "readme.txt",
            "DG17.bin",
        )
    ] == ["EF_SOD", "EF_SOD", "EF_SOD", "DG1", "DG14", "DG1", "DG2", "DG16", None, None]


def test_genuine_dump_is_authentic(
    passports: PassportFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = dump(passports, "tto-genuine", tmp_path / "tto")
    mrz = passports.printed_mrz("tto-genuine").replace("\n", "\\n")
    code, out = run(
        ["passport", "verify", str(directory), *trust_args(passports), "--mrz", mrz, "--json"],
        capsys,
    )
    assert code == 0 and out["authentic"] is True
    assert out["checks"]["sod_signature"]["status"] == "passed"
    assert out["checks"]["mrz_consistency"]["status"] == "passed"
    assert (
        out["checks"]["hashes"]["DG1"] == "passed" and out["checks"]["hashes"]["DG15"] == "passed"
    )


def test_tampered_dump_reports_each_hash_honestly(
    passports: PassportFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = dump(passports, "lca-dg2-swapped", tmp_path / "swapped")
    code, out = run(
        ["passport", "verify", str(directory), *trust_args(passports), "--json"], capsys
    )
    hashes = out["checks"]["hashes"]
    assert code == 1 and out["authentic"] is False
    assert hashes["status"] == "failed" and hashes["reason"] == "hash_mismatch"
    assert hashes["DG2"] == "failed" and hashes["DG1"] == "passed"


def test_missing_csca_gives_a_failed_chain(
    passports: PassportFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = dump(passports, "jam-genuine", tmp_path / "jam")
    code, out = run(["passport", "verify", str(directory), "--no-store", "--json"], capsys)
    assert code == 1
    assert out["checks"]["chain"] == {
        "status": "failed",
        "reason": "csca_not_found",
        "message": out["checks"]["chain"]["message"],
    }
    assert out["checks"]["hashes"]["status"] == "passed"


def test_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["passport", "verify", str(tmp_path / "nowhere"), "--no-store"], capsys)[0] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "DG1.bin").write_bytes(b"\x61\x00")
    assert run(["passport", "verify", str(empty), "--no-store"], capsys)[0] == 2
    (empty / "EF_SOD.bin").write_bytes(b"garbage")
    assert run(["passport", "verify", str(empty), "--no-store"], capsys)[0] == 2


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sod=st.binary(max_size=400),
    dg1=st.binary(max_size=120),
    dg15=st.binary(max_size=80),
    cut=st.integers(min_value=0, max_value=3000),
)
def test_fuzzed_files_give_exit_1_or_2_never_a_traceback(
    passports: PassportFactory,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    sod: bytes,
    dg1: bytes,
    dg15: bytes,
    cut: int,
) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    genuine = passports.chip_image("lca-genuine").application_files
    (directory / "EF_SOD.bin").write_bytes(genuine[0x011D][:cut] + sod if cut % 2 else sod)
    (directory / "DG1.bin").write_bytes(dg1)
    (directory / "DG15.bin").write_bytes(dg15)
    (directory / "DG2.bin").write_bytes(genuine[0x0102])
    code, _ = run(["passport", "verify", str(directory), "--no-store", "--json"], capsys)
    assert code in (1, 2)


def test_trust_cli_import_list_freshness(
    kiosk_home: Path, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    files = [str(p) for p in sorted((data_dir / "trust").glob("*.cer"))]
    code, out = run(["trust", "import", *files, "--json"], capsys)
    assert code == 0 and out["added"] == 7 and out["duplicates"] == 0
    assert main(["--log-level", "ERROR", "trust", "list", "--country", "ID", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 5 and {e["kind"] for e in listed} == {"csca", "link"}
    code, out = run(["trust", "freshness", "--json"], capsys)
    assert code == 0 and out["crl_count"] == 0 and out["oldest_crl_next_update"] is None
