"""Trust coverage for the technician: per state of the policy, the CSCAs and CRLs the kiosk
holds and whether a chipped passport of that state can be verified. A state without a CSCA,
without a CRL or with a CRL past its next update is flagged before it refers travellers
(the same figures as ``kiosk trust coverage``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from kiosk.storage.database import Database
from kiosk.trust.coverage import OK, StateCoverage, state_coverage
from kiosk.trust.store import TrustStore
from ui.workers import Worker

COLUMNS = ("State", "Status", "CSCAs", "CRL next update")
STATUS_TEXT = {
    "ok": "ok",
    "no_csca": "NO CSCA – chipped passports referred",
    "no_crl": "NO CRL – revocation not checked",
    "crl_stale": "CRL STALE – travellers referred",
    "not_a_state": "not a state",
}
FLAG = QColor(255, 214, 214)
DUE = QColor(255, 240, 200)  # covered, but the CRL's next update is within CRL_DUE_WITHIN


class TrustCoverageTab(QWidget):
    def __init__(
        self, worker: Worker, database: Database | None, codes: list[str], parent: Any = None
    ) -> None:
        super().__init__(parent)
        self.worker = worker
        self.database = database
        self.codes = list(codes)
        self.states: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        self.summary = QLabel("…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        database = self.database
        if database is None:
            self._show([])
            return
        codes = self.codes
        self.worker.submit(
            lambda: [_row(s) for s in state_coverage(TrustStore(database), codes)],
            self._show,
        )

    def flagged(self) -> list[str]:
        return [s["code"] for s in self.states if s["status"] != OK]

    def due(self) -> list[str]:
        """Covered states whose CRL must be renewed within the next 48 hours."""
        return [s["code"] for s in self.states if s.get("crl_due")]

    def _show(self, states: Any) -> None:
        self.states = list(states)
        self.table.setRowCount(len(self.states))
        for row, state in enumerate(self.states):
            update = state["crl_next_update"]
            cells = (
                state["code"],
                STATUS_TEXT.get(state["status"], state["status"]),
                str(len(state["cscas"])),
                update[:16].replace("T", " ") if update else "–",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if state["status"] != OK:
                    item.setBackground(QBrush(FLAG))
                elif state.get("crl_due"):
                    item.setBackground(QBrush(DUE))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        flagged = self.flagged()
        if not self.states:
            self.summary.setText("no database: trust coverage unknown")
        elif flagged:
            self.summary.setText(
                f"{len(flagged)} of {len(self.states)} states cannot be fully verified: "
                + ", ".join(flagged)
            )
        else:
            self.summary.setText(f"every one of {len(self.states)} states is covered")
        if self.states and self.due():
            self.summary.setText(
                self.summary.text() + "; CRL due within 48 h: " + ", ".join(self.due())
            )


def _row(state: StateCoverage) -> dict[str, Any]:
    return {**state.to_json(), "crl_due": state.crl_due()}
