"""``kiosk mrz check`` through the CLI entry point."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.cli.main import main

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
TD1 = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]


def _run(
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: bytes | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, dict[str, object]]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(["mrz", "check", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_valid_specimen_from_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the TD3 specimen as two arguments WHEN checked
    code, report = _run(capsys, TD3)
    # THEN exit 0 and the JSON contract
    assert code == 0
    assert set(report) == {
        "valid",
        "format",
        "fields",
        "checks",
        "corrections",
        "errors",
        "warnings",
    }
    assert report["valid"] is True and report["format"] == "TD3"
    fields = report["fields"]
    assert isinstance(fields, dict)
    assert fields["given_names"] == "ANNA MARIA"
    assert fields["date_of_birth"] == "1974-08-12"
    assert report["checks"] == {
        "document_number": True,
        "date_of_birth": True,
        "date_of_expiry": True,
        "optional_data": True,
        "composite": True,
    }
    assert report["warnings"] == ["document expired"]


def test_one_argument_with_embedded_newlines(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run(capsys, ["\n".join(TD1)])
    assert code == 0 and report["format"] == "TD1"


def test_lines_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, report = _run(capsys, [], ("\r\n".join(TD1) + "\r\n").encode(), monkeypatch)
    assert code == 0 and report["valid"] is True


def test_corrupted_is_invalid_with_errors(capsys: pytest.CaptureFixture[str]) -> None:
    bad = [TD3[0], TD3[1][:13] + "7508122" + TD3[1][20:]]
    code, report = _run(capsys, bad)
    assert code == 1 and report["valid"] is False
    errors = report["errors"]
    assert isinstance(errors, list)
    assert {"field": "date_of_birth", "position": {"line": 2, "column": 20},
            "message": "check digit does not match"} in errors  # fmt: skip


def test_ocr_confusion_corrected_unless_strict(capsys: pytest.CaptureFixture[str]) -> None:
    ocr = [TD3[0], TD3[1].replace("7408122", "74O8122")]
    code, report = _run(capsys, ocr)
    assert code == 0
    assert report["corrections"] == [
        {"field": "date_of_birth", "position": {"line": 2, "column": 16}, "from": "O", "to": "0"}
    ]
    code, report = _run(capsys, ["--strict", *ocr])
    assert code == 1 and report["corrections"] == []


@pytest.mark.parametrize(
    "stdin", [b"", b"hello\n", b"\x00\x01\x02\xff" * 50, b"P<UTO" * 3000, bytes(range(256))]
)
def test_unreadable_input_exits_2_with_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stdin: bytes
) -> None:
    code, report = _run(capsys, [], stdin, monkeypatch)
    assert code == 2
    assert report["valid"] is False and report["format"] is None
    assert report["errors"]


def test_undecodable_argument_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    # what Python makes of non-UTF-8 bytes in argv (surrogate escapes)
    code, report = _run(capsys, ["\udcff\udcfe" + TD3[0][2:], TD3[1]])
    assert code == 2 and report["valid"] is False


def test_no_mrz_content_in_the_log(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _run(capsys, TD3)
        _run(capsys, [TD3[0], TD3[1].replace("7408122", "74O8122")])
    assert "mrz check: format=TD3 valid=True" in caplog.text  # the log was captured
    for secret in ("ERIKSSON", "L898902C3", "740812", "ANNA"):
        assert secret not in caplog.text


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=11_000))
def test_random_bytes_never_crash(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: bytes
) -> None:
    code, report = _run(capsys, [], data, monkeypatch)
    assert code in (0, 1, 2)
    assert isinstance(report["valid"], bool)
