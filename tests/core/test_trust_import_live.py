"""GIVEN a running kiosk whose trust store is empty WHEN the operator imports the issuing
state's CSCA with ``kiosk trust import`` THEN the very next traveller is verified against it:
referred before the import, accepted after, with no restart of the kiosk."""

from __future__ import annotations

from pathlib import Path

from kiosk.cli.main import main
from kiosk.config import load_config
from kiosk.demo.kiosk_loop import GENUINE, DemoKioskLoop
from models.records import Decision


def test_a_csca_imported_while_running_changes_the_next_travellers_verdict(
    tmp_path: Path,
) -> None:
    # GIVEN a kiosk that may run without anchors (so the empty store shows in a verdict)
    home = tmp_path / "home"
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'data_dir = "{home}"\n[lane]\nrequire_trust_anchors = false\n')
    config = load_config(toml, face={"capture_window_s": 4.0})
    with DemoKioskLoop(config, travellers=(GENUINE,), import_trust=False) as kiosk:
        # WHEN a genuine traveller comes with nothing in the trust store
        before = kiosk.transact(GENUINE).outcome
        # THEN the chip cannot be authenticated: referred
        assert before.decision is Decision.REFER
        assert "authentication_failed" in before.reasons or "chip_anomaly" in before.reasons
        # WHEN the operator imports the test PKI's CSCAs, links and CRLs (as a master list)
        files = [str(p) for p in kiosk.world.trust_files()]
        assert main(["--config", str(toml), "trust", "import", *files]) == 0
        # THEN the next traveller is accepted by the same running kiosk
        after = kiosk.transact(GENUINE).outcome
        assert after.decision is Decision.ACCEPT, after.reasons
