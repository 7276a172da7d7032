"""GIVEN a kiosk whose trust store holds the Saint Lucia CSCAs and CRLs and the Jamaican CSCAs
without CRLs WHEN the technician opens the trust coverage tab THEN every state of the policy is
listed, Saint Lucia covered, Jamaica and the states without a CSCA flagged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from hardware.sim.passports import PassportFactory
from kiosk.storage.database import Database, create_database_engine
from kiosk.trust.importer import import_files
from kiosk.trust.store import TrustStore
from ui.technician.trust_tab import FLAG, TrustCoverageTab
from ui.workers import Worker

pytestmark = pytest.mark.gui


@pytest.fixture
def trust_database(tmp_path: Path) -> Iterator[Database]:
    pki = PassportFactory(tmp_path / "sim", countries=("LCA", "JAM")).pki
    database = Database(create_database_engine(f"sqlite:///{tmp_path / 'kiosk.db'}"))
    database.migrate()
    store = TrustStore(database)
    crls = [pki.path("crl/LCA-1.crl"), pki.path("crl/LCA-2.crl")]
    import_files(pki.csca_paths("LCA") + pki.csca_paths("JAM") + crls, store)
    yield database
    database.close()


def test_trust_coverage_tab_flags_states_that_would_refer(
    qtbot: QtBot, trust_database: Database
) -> None:
    worker = Worker("trust-test", threads=1)
    tab = TrustCoverageTab(worker, trust_database, ["LCA", "JAM", "GRD"])
    qtbot.addWidget(tab)
    tab.refresh()
    qtbot.waitUntil(lambda: tab.table.rowCount() == 3, timeout=5000)
    rows = {tab.table.item(r, 0).text(): r for r in range(3)}
    assert tab.table.item(rows["LCA"], 1).text() == "ok"
    assert tab.table.item(rows["LCA"], 2).text() == "2"
    assert "NO CRL" in tab.table.item(rows["JAM"], 1).text()
    assert "NO CSCA" in tab.table.item(rows["GRD"], 1).text()
    assert tab.table.item(rows["GRD"], 0).background().color() == FLAG
    assert tab.flagged() == ["JAM", "GRD"]
    assert "JAM, GRD" in tab.summary.text()
    worker.close()
