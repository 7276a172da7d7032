"""GIVEN the demo at DEBUG level WHEN a whole transaction runs THEN the log holds transaction
ids and check results but never the traveller's name, document number or birth date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hardware.sim.profiles import get_profile
from kiosk.cli.main import main


def test_a_debug_demo_logs_no_personal_data(
    demo_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log_file = tmp_path / "kiosk.log"
    code = main(
        [
            "--log-level",
            "DEBUG",
            "--log-file",
            str(log_file),
            "demo",
            "--headless",
            "--scenario",
            "genuine-traveller",
            "--scenario",
            "minor",
            "--data-dir",
            str(demo_dir),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.out
    results = json.loads(captured.out)
    assert [r["decision"] for r in results] == ["accept", "refer"]
    log = captured.err + log_file.read_text(encoding="utf-8")
    assert "state chip" in log and "decision accept" in log  # it did log, at DEBUG
    for profile in ("lca-genuine", "lca-minor"):
        doc = get_profile(profile).document
        secrets = {
            doc.surname,
            doc.document_number,
            doc.birth_date.isoformat(),
            doc.birth_date.strftime("%y%m%d"),
            *doc.given_names.split(),
        }
        leaked = sorted(s for s in secrets if s in log)
        assert not leaked, f"personal data in the log: {leaked}"
