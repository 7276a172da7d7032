"""The live wall: one tile per lane of the site, with its step and the time in it, a referral
waiting, a fault, out of service (and why), the doors, an assistance call; a hit waiting at a
lane raises its alarm. Tiles change when the server pushes a change (the window feeds them
from :class:`kiosk.officer.wall.WallModel`); a one-second tick only advances the clocks.
Each tile has the remote actions: hold, out of service, return to service, release the doors
after an emergency, acknowledge an assistance call."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.officer.wall import Tile, now_utc
from ui.i18n.desk_catalogue import DeskCatalogue

ACTIONS = (
    ("hold", "lane.hold"),
    ("out_of_service", "lane.out_of_service"),
    ("return_to_service", "lane.return_to_service"),
    ("release_doors", "lane.release_doors"),
    ("acknowledge_assistance", "lane.acknowledge_assistance"),
)
COLUMNS = 3
OFFLINE_S = 30.0


def _clock(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LaneTile(QFrame):
    action_requested = Signal(str, str)  # lane, action

    def __init__(self, lane: str, tr: DeskCatalogue) -> None:
        super().__init__()
        self.lane = lane
        self.tr_ = tr
        self.tile: Tile | None = None
        self.setObjectName("tile")
        self.setMinimumSize(340, 200)
        self.name = QLabel(lane)
        self.name.setObjectName("title")
        self.step = QLabel("")
        self.step.setObjectName("tileStep")
        self.since = QLabel("")
        self.since.setObjectName("muted")
        self.state = QLabel("")
        self.state.setWordWrap(True)
        self.door = QLabel("")
        self.referrals = QLabel("")
        self.referrals.setObjectName("tileAlarm")
        self.buttons: dict[str, QPushButton] = {}
        actions = QGridLayout()
        for index, (action, _key) in enumerate(ACTIONS):
            button = QPushButton("")
            button.setObjectName("tileAction")
            button.clicked.connect(
                lambda _=False, a=action: self.action_requested.emit(self.lane, a)
            )
            self.buttons[action] = button
            actions.addWidget(button, index // 3, index % 3)
        top = QHBoxLayout()
        top.addWidget(self.name)
        top.addStretch(1)
        top.addWidget(self.since)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.step)
        layout.addWidget(self.state)
        layout.addWidget(self.door)
        layout.addWidget(self.referrals)
        layout.addStretch(1)
        layout.addLayout(actions)
        self.retranslate()

    def retranslate(self) -> None:
        for action, key in ACTIONS:
            self.buttons[action].setText(self.tr_(key))
        if self.tile is not None:
            self.show_tile(self.tile)

    def show_tile(self, tile: Tile) -> None:
        t = self.tr_
        self.tile = tile
        now = now_utc()
        offline = tile.offline(now, OFFLINE_S)
        self.step.setText(t("step.offline") if offline else t(f"step.{tile.step}"))
        states = []
        if tile.emergency:
            states.append(t("tile.emergency"))
        if tile.fault:
            states.append(t("tile.fault"))
        if not tile.in_service:
            causes = ", ".join(t(f"cause.{c}") if t.has(f"cause.{c}") else c for c in tile.causes)
            states.append(t("tile.out_of_service", causes=causes or "–"))
        if tile.assistance:
            states.append(t("tile.assistance"))
        self.state.setText("\n".join(states) or t("tile.in_service"))
        self.door.setText(t("tile.door", door=t(f"door.{tile.door}")))
        if tile.referrals_waiting:
            key = "tile.hit_waiting" if tile.alarm else "tile.referrals_waiting"
            self.referrals.setText(t(key, count=tile.referrals_waiting))
        else:
            self.referrals.setText("")
        severity = (
            "alarm"
            if tile.alarm
            else "fault"
            if tile.fault or tile.emergency
            else "assist"
            if tile.assistance
            else "closed"
            if not tile.in_service or offline
            else "ok"
        )
        self.setProperty("severity", severity)
        self.style().unpolish(self)
        self.style().polish(self)
        self.buttons["release_doors"].setEnabled(tile.emergency)
        self.buttons["acknowledge_assistance"].setEnabled(tile.assistance)
        self.buttons["return_to_service"].setEnabled(
            bool({"remote_hold", "remote_out_of_service"} & set(tile.causes))
        )
        self.tick()

    def tick(self) -> None:
        if self.tile is not None:
            self.since.setText(
                self.tr_("tile.since", time=_clock(self.tile.seconds_in_state(now_utc())))
            )


class WallView(QWidget):
    action_requested = Signal(str, str)

    def __init__(self, tr: DeskCatalogue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tr_ = tr
        self.tiles: dict[str, LaneTile] = {}
        self.notice = QLabel("")
        self.notice.setObjectName("muted")
        self.alarm = QLabel("")
        self.alarm.setObjectName("alarm")
        self.alarm.hide()
        self.grid = QGridLayout()
        holder = QWidget()
        holder.setLayout(self.grid)
        area = QScrollArea()
        area.setWidget(holder)
        area.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.alarm)
        layout.addWidget(self.notice)
        layout.addWidget(area, 1)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)  # advances the time-in-state only; no network
        self.clock.timeout.connect(self._tick)
        self.clock.start()

    def retranslate(self) -> None:
        for tile in self.tiles.values():
            tile.retranslate()
        self._alarm()

    def show_tiles(self, tiles: dict[str, Tile], changed: list[str]) -> None:
        for lane in changed:
            if lane not in tiles:
                continue
            widget = self.tiles.get(lane)
            if widget is None:
                widget = LaneTile(lane, self.tr_)
                widget.action_requested.connect(self.action_requested)
                self.tiles[lane] = widget
                self._relayout()
            widget.show_tile(tiles[lane])
        self._alarm()

    def _relayout(self) -> None:
        for index, lane in enumerate(sorted(self.tiles)):
            self.grid.addWidget(self.tiles[lane], index // COLUMNS, index % COLUMNS)

    def _alarm(self) -> None:
        hits = [lane for lane, w in sorted(self.tiles.items()) if w.tile and w.tile.alarm]
        if hits:
            self.alarm.setText(self.tr_("wall.alarm", lanes=", ".join(hits)))
            self.alarm.show()
        else:
            self.alarm.hide()

    def _tick(self) -> None:
        for tile in self.tiles.values():
            tile.tick()

    def stop(self) -> None:
        self.clock.stop()
