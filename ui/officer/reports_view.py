"""The history of resolved referrals, the shift report (counts by reason, median time to
resolve) and, for supervisors, each officer's admit rate per reason against the site's
median (outliers marked)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.officer.referrals import ReferralSummary
from ui.i18n.desk_catalogue import DeskCatalogue


def _table(columns: int) -> QTableWidget:
    table = QTableWidget(0, columns)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(value))
    table.resizeColumnsToContents()


class HistoryView(QWidget):
    page_requested = Signal(int)  # offset

    def __init__(self, tr: DeskCatalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tr_ = tr
        self.offset = 0
        self.total = 0
        self.page_size = 50
        self.table = _table(7)
        self.newer = QPushButton("‹")
        self.older = QPushButton("›")
        self.position = QLabel("")
        self.newer.clicked.connect(
            lambda: self.page_requested.emit(max(0, self.offset - self.page_size))
        )
        self.older.clicked.connect(lambda: self.page_requested.emit(self.offset + self.page_size))
        bar = QHBoxLayout()
        bar.addWidget(self.newer)
        bar.addWidget(self.position)
        bar.addWidget(self.older)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.retranslate()

    def retranslate(self) -> None:
        t = self.tr_
        self.table.setHorizontalHeaderLabels(
            [t("history.resolved_at"), t("history.lane"), t("history.name"), t("history.reasons"),
             t("history.outcome"), t("history.officer"), t("history.approved_by")]
        )  # fmt: skip

    def show_page(self, items: tuple[ReferralSummary, ...], total: int, offset: int) -> None:
        t = self.tr_
        self.offset, self.total = offset, total
        _fill(
            self.table,
            [
                [
                    f"{r.resolved_at:%Y-%m-%d %H:%M}" if r.resolved_at else "–",
                    r.kiosk_id,
                    r.display_name,
                    "; ".join(t.reason(x) for x in r.reasons),
                    t(f"result.{r.outcome}") if r.outcome else "–",
                    r.officer or "–",
                    r.approved_by or "–",
                ]
                for r in items
            ],
        )
        last = min(total, offset + len(items))
        self.position.setText(
            t("page.position", first=offset + 1 if items else 0, last=last, total=total)
        )
        self.newer.setEnabled(offset > 0)
        self.older.setEnabled(last < total)


class ShiftReportView(QWidget):
    refresh_requested = Signal()

    def __init__(self, tr: DeskCatalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tr_ = tr
        self.summary = QLabel("")
        self.summary.setObjectName("title")
        self.outcomes = QLabel("")
        self.by_reason = _table(3)
        self.rates_title = QLabel("")
        self.rates_title.setObjectName("section")
        self.rates = _table(5)
        self.refresh = QPushButton("")
        self.refresh.clicked.connect(self.refresh_requested)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.outcomes)
        layout.addWidget(self.by_reason, 1)
        layout.addWidget(self.rates_title)
        layout.addWidget(self.rates, 1)
        layout.addWidget(self.refresh)
        self.rates_title.hide()
        self.rates.hide()
        self.report: dict[str, Any] | None = None
        self.retranslate()

    def retranslate(self) -> None:
        t = self.tr_
        self.by_reason.setHorizontalHeaderLabels(
            [t("report.reason"), t("report.resolved"), t("report.admitted")]
        )
        self.rates.setHorizontalHeaderLabels(
            [
                t("report.officer"),
                t("report.reason"),
                t("report.rate"),
                t("report.median"),
                t("report.outlier"),
            ]
        )
        self.rates_title.setText(t("report.rates_title"))
        self.refresh.setText(t("report.refresh"))
        if self.report is not None:
            self.show_report(self.report)

    def show_report(self, report: dict[str, Any]) -> None:
        t = self.tr_
        self.report = report
        median = report.get("median_minutes_to_resolve")
        self.summary.setText(
            t(
                "report.summary",
                resolved=report.get("resolved", 0),
                median="–" if median is None else f"{float(median):.1f}",
                waiting=report.get("waiting", 0),
            )
        )
        outcomes = report.get("outcomes") or {}
        self.outcomes.setText(
            "   ".join(
                f"{t('outcome.' + k) if t.has('outcome.' + k) else k}: {v}"
                for k, v in sorted(outcomes.items())
            )
        )
        _fill(
            self.by_reason,
            [
                [t.reason(str(row["reason"])), str(row["resolved"]), str(row["admitted"])]
                for row in report.get("by_reason", [])
            ],
        )

    def show_rates(self, rates: dict[str, Any]) -> None:
        t = self.tr_
        items = rates.get("items") or []
        _fill(
            self.rates,
            [
                [
                    str(item["officer"]),
                    t.reason(str(item["reason"])),
                    f"{float(item['rate']):.0%} ({item['admitted']}/{item['resolved']})",
                    f"{float(item['site_median']):.0%}",
                    "⚠" if item.get("outlier") else "",
                ]
                for item in items
            ],
        )
        for row, item in enumerate(items):
            if item.get("outlier"):
                for column in range(5):
                    cell = self.rates.item(row, column)
                    if cell is not None:
                        cell.setForeground(QBrush(QColor("#b3261e")))
        self.rates_title.show()
        self.rates.show()
