"""GIVEN `make demo` without a display (``kiosk demo --headless``) WHEN it runs THEN it prints
the table of decisions and no log (progress goes to stderr); WHEN --verbose is given THEN the
kiosk's log is shown as well."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.cli.main import main

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR)", re.M)
ARGS = ["demo", "--headless", "--scenario", "lca-wrong-password"]


def test_the_headless_demo_prints_the_table_and_no_log(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ARGS, "--data-dir", str(demo_dir)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("scenario")
    assert "lca-wrong-password" in captured.out and "1 of 1 scenarios" in captured.out
    assert not LOG_LINE.search(captured.err), captured.err[:500]
    assert "[1/1] lca-wrong-password" in captured.err  # progress only


def test_verbose_shows_the_log(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--data-dir", str(demo_dir), "--verbose"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("scenario")
    assert LOG_LINE.search(captured.err)
