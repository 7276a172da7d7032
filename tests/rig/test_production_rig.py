"""GIVEN the kiosk started exactly as the packaged lane service starts it (``kiosk db
migrate``, ``kiosk run --config rig.toml``) from a TOML naming the pcsc, serial, opencv and
serial drivers, against real-protocol stand-ins (pcscd + vpcd with a simulated chip, an MRZ
reader and a gate controller on pseudo-terminals, a video file of a face), with trust anchors
only from ``kiosk trust import`` and lists only from a real central server through sync
WHEN travellers and faults come (genuine, impostor, lost/stolen, card pulled mid-read, passport
removed mid-transaction, tailgating, camera unplugged, trust list missing) THEN every case
reaches its expected decision (see
``python -m kiosk.rig``, ``make rig``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.rig.__main__ import summary, table
from kiosk.rig.harness import ProductionRig

pytestmark = [pytest.mark.pcsc, pytest.mark.slow]


def test_the_production_rig_reaches_every_expected_decision(tmp_path: Path) -> None:
    with ProductionRig(tmp_path / "rig") as rig:
        rig.start()
        results = rig.run_cases()
        board = rig.board
        assert board is not None
        commands = list(board.log.commands)
        violations = list(board.log.violations)
    print(table(results))
    by_case = {r.case: r for r in results}
    assert set(by_case) == {
        "trust-list-missing",
        "genuine-accepted",
        "impostor-referred",
        "lost-stolen-referred",
        "card-pulled-mid-read",
        "passport-removed",
        "tailgating-referred",
        "camera-unplugged",
    }
    wrong = {r.case: (r.expected, r.decision, r.reasons, r.detail) for r in results if not r.right}
    assert not wrong, wrong
    # the gate controller saw only protocol-correct commands (never one door opened while the
    # other was open): two travellers stepped in (the genuine one, the tailgated one) and only
    # the genuine one was let out
    assert not violations
    assert commands.count("OPEN ENTRY") == 2 and commands.count("OPEN EXIT") == 1
    assert commands.index("OPEN ENTRY") < commands.index("OPEN EXIT")
    assert "tailgating" in by_case["tailgating-referred"].reasons
    # the referrals name why
    assert "biometric_mismatch" in by_case["impostor-referred"].reasons
    assert "lost_or_stolen" in by_case["lost-stolen-referred"].reasons
    assert "no_trust_anchors" in by_case["trust-list-missing"].detail
    # the JSON summary has the keys `make rig RIG_ARGS=--json` promises
    document = json.loads(json.dumps(summary(results)))
    assert set(document) == {"transactions", "right", "cases"}
    assert document["right"] == len(results) == 8
    assert all(set(c) == {"case", "expected", "decision"} for c in document["cases"])
