"""Retention runs in the running kiosk on its schedule, and from ``kiosk db purge``.

The kiosk decides real travellers (face images and referral names stored), then its clock is
moved three days ahead: the purge thread of :class:`kiosk.app.KioskRuntime` must remove them
against a 24-hour retention, without anyone calling it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.cli.main import main
from kiosk.config import load_config
from kiosk.demo.kiosk_loop import CHIP_REFUSED, GENUINE, DemoKioskLoop
from models.base import utc_now
from models.tables import AuditEntryRow, BiometricBlobRow, ReferralRow

WAIT_S = 60.0
# referred after the chip was read: its chip photo and the holder's name are kept
REFERRED_AFTER_CHIP = "lca-aa-clone"  # PA proves the photo, AA fails: clone_suspected


def _personal_data(loop: DemoKioskLoop) -> tuple[int, int]:
    with loop.kiosk.database.read() as session:
        blobs = session.scalar(select(func.count()).select_from(BiometricBlobRow)) or 0
        names = (
            session.scalar(
                select(func.count())
                .select_from(ReferralRow)
                .where(ReferralRow.surname.is_not(None))
            )
            or 0
        )
    return int(blobs), int(names)


def test_the_running_kiosk_purges_on_schedule_when_the_clock_is_days_ahead(
    tmp_path: Path,
) -> None:
    config = load_config(
        None,
        data_dir=str(tmp_path / "kiosk"),
        storage={"retention_hours": 24, "purge_interval_s": 0.2},
    )
    with DemoKioskLoop(config, travellers=(GENUINE, REFERRED_AFTER_CHIP)) as loop:
        purge = loop.runtime.purge
        # GIVEN travellers decided: referrals with the chip photo and the holder's name kept
        loop.transact(GENUINE, timeout_s=WAIT_S)
        loop.transact(REFERRED_AFTER_CHIP, timeout_s=WAIT_S)
        loop.transact(REFERRED_AFTER_CHIP, timeout_s=WAIT_S)
        runs = purge.runs
        assert purge.wait_runs(runs + 2, WAIT_S)  # the schedule runs by itself ...
        blobs, names = _personal_data(loop)
        assert blobs > 0 and names > 0  # ... and keeps what is younger than the retention
        # WHEN the clock is three days ahead
        purge.clock = lambda: utc_now() + timedelta(days=3)
        runs = purge.runs
        assert purge.wait_runs(runs + 2, WAIT_S)
        # THEN the scheduled purge removed every face image and referral name
        assert _personal_data(loop) == (0, 0)
        assert purge.last is not None  # the last run succeeded (nothing left to purge)
        with loop.kiosk.database.read() as session:
            purged = session.scalars(
                select(AuditEntryRow.details).where(AuditEntryRow.action == "storage.purged")
            ).all()
        assert len(purged) == 1 and purged[0]["blobs"] == blobs


def test_kiosk_db_purge_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "kiosk"
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'data_dir = "{home}"\n[storage]\nretention_hours = 0\n')
    monkeypatch.delenv("KIOSK_DATA_DIR", raising=False)
    with DemoKioskLoop(load_config(config_file)) as loop:
        loop.runtime.purge.close()  # only the command purges in this test
        loop.transact(CHIP_REFUSED, timeout_s=WAIT_S)
        assert _personal_data(loop)[1] == 1
    capsys.readouterr()
    assert main(["--config", str(config_file), "db", "purge", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["referrals"] == 1 and report["retention_hours"] == 0
    assert main(["--config", str(config_file), "db", "purge"]) == 0
    assert "names on 0 referrals" in capsys.readouterr().out
