"""Trust coverage for the technician: per state of the policy, the CSCAs and CRLs the kiosk
holds and whether a chipped passport of that state can be verified. A state without a CSCA,
without a CRL or with a CRL past its next update is flagged before it refers travellers
(the same figures as ``kiosk trust coverage``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from kiosk.storage.database import Database
from kiosk.trust.coverage import OK, state_coverage
from kiosk.trust.store import TrustStore
from ui.i18n.desk_catalogue import DeskCatalogue
from ui.workers import Worker

COLUMNS = ("trust.col_state", "trust.col_status", "trust.col_cscas", "trust.col_crl")
STATUSES = ("ok", "no_csca", "no_crl", "crl_stale", "not_a_state")  # words: trust.<status>
FLAG = QColor(255, 214, 214)


class TrustCoverageTab(QWidget):
    def __init__(
        self,
        worker: Worker,
        database: Database | None,
        codes: list[str],
        parent: Any = None,
        tr: DeskCatalogue | None = None,
    ) -> None:
        super().__init__(parent)
        self.tr_ = tr or DeskCatalogue()
        self.worker = worker
        self.database = database
        self.codes = list(codes)
        self.states: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        self.summary = QLabel("…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def retranslate(self) -> None:
        self.table.setHorizontalHeaderLabels([self.tr_(key) for key in COLUMNS])
        if self.states or self.summary.text() != "…":
            self._show(self.states)

    def status_text(self, status: str) -> str:
        return self.tr_(f"trust.{status}") if status in STATUSES else status

    def refresh(self) -> None:
        database = self.database
        if database is None:
            self._show([])
            return
        codes = self.codes
        self.worker.submit(
            lambda: [s.to_json() for s in state_coverage(TrustStore(database), codes)],
            self._show,
        )

    def flagged(self) -> list[str]:
        return [s["code"] for s in self.states if s["status"] != OK]

    def _show(self, states: Any) -> None:
        self.states = list(states)
        self.table.setRowCount(len(self.states))
        for row, state in enumerate(self.states):
            update = state["crl_next_update"]
            cells = (
                state["code"],
                self.status_text(state["status"]),
                str(len(state["cscas"])),
                update[:16].replace("T", " ") if update else "–",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if state["status"] != OK:
                    item.setBackground(QBrush(FLAG))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        flagged, t, total = self.flagged(), self.tr_, len(self.states)
        if not self.states:
            self.summary.setText(t("trust.no_database"))
        elif flagged:
            self.summary.setText(
                t("trust.flagged", count=len(flagged), total=total, states=", ".join(flagged))
            )
        else:
            self.summary.setText(t("trust.covered", total=total))
