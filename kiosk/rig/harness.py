"""The production rig: the kiosk started exactly as the packaged lane service starts it
(``kiosk db migrate``, then ``kiosk run --config FILE``, as ``kiosk-lane.service`` does), from
a TOML that names real driver types, against stand-ins that speak the real protocols:

* chip reader ``pcsc``: pyscard -> a private ``pcscd`` with vsmartcard's ``vpcd`` reader ->
  a simulated passport chip plugged in through vpcd's socket;
* MRZ reader ``serial``: a pseudo-terminal fed by a writer speaking the reader's line protocol;
* camera ``opencv``: a video file of a face (written at start with ``cv2.VideoWriter``);
* gate ``serial``: a pseudo-terminal answered by a scripted gate controller that checks the
  command protocol and reports its door sensors.

Trust anchors come only from ``kiosk trust import`` (run as an operator would, while the kiosk
runs); the lost/stolen and watchlist lists only from a real central server on loopback
(mutual TLS), uploaded by an administrator and pulled by the kiosk's own sync. The kiosk's
``--events`` lines (lane changes, decisions, refused documents) are what the rig observes.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hardware.pcscd import PcscDaemon, free_port_pair
from hardware.sim.chip import PassportChip
from hardware.sim.gate_board import PtyGateBoard
from hardware.sim.mrz_feed import PtyMrzFeed
from hardware.sim.passports import PassportFactory
from hardware.sim.vpcd import VpcdCardLink
from kiosk.demo.embedded_server import EmbeddedServer
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import live_face
from kiosk.rig.video import write_face_video
from models.errors import DeviceError, KioskError
from server.accounts import add_user
from server.security.tokens import Role

KIOSK_ID = "rig-lane-01"
ADMIN = ("rig-admin", "rig-admin-password-20a")
TECHNICIAN = ("rig-tech", "rig-tech-password-20a")
READER = "Virtual PCD 00 00"
GENUINE_PROFILE = "lca-genuine"
OTHER_PROFILE = "tto-genuine"  # someone else's genuine passport: the impostor presents it
WAIT_S = 90.0


class RigError(KioskError):
    code = "rig"


@dataclass
class CaseResult:
    case: str
    expected: str
    decision: str
    reasons: tuple[str, ...] = ()
    detail: str = ""
    wall_ms: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def right(self) -> bool:
        return self.expected == self.decision

    def as_dict(self) -> dict[str, object]:
        return {"case": self.case, "expected": self.expected, "decision": self.decision}


class _PulledCard:
    """A passport chip that leaves the field after ``after`` APDUs (pulled mid-read)."""

    def __init__(self, chip: PassportChip, after: int) -> None:
        self.chip = chip
        self.after = after
        self.seen = 0
        self.atr = chip.atr

    def transmit(self, apdu: bytes) -> bytes:
        self.seen += 1
        if self.seen > self.after:
            raise DeviceError("pulled out of the field")
        return bytes(self.chip.transmit(apdu))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chip, name)


class Events:
    """The kiosk's ``--events`` lines, read on a thread, waited for by predicate."""

    def __init__(self, stream: Any) -> None:
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.lane: dict[str, Any] = {}
        self.card = "removed"
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self._queue.put(event)

    def next(
        self, match: Callable[[dict[str, Any]], bool], timeout_s: float = WAIT_S
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RigError(f"no matching kiosk event in {timeout_s:.0f} s; lane {self.lane}")
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(event)
            if event.get("event") == "lane":
                self.lane = event
            elif event.get("event") == "card":
                self.card = str(event.get("card"))
            if match(event):
                return event

    def lane_until(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        if self.lane and match(self.lane):
            return self.lane
        return self.next(lambda e: e.get("event") == "lane" and match(e))


def _causes(lane: dict[str, Any]) -> set[str]:
    return {f"{f['cause']}:{f['key']}" if f["key"] else f["cause"] for f in lane.get("faults", [])}


class ProductionRig:
    def __init__(self, work: Path, progress: Callable[[str], None] | None = None) -> None:
        self.work = Path(work)
        self.progress = progress or (lambda _m: None)
        self.results: list[CaseResult] = []
        self.pcscd: PcscDaemon | None = None
        self.server: EmbeddedServer | None = None
        self.board: PtyGateBoard | None = None
        self.feed: PtyMrzFeed | None = None
        self.kiosk: subprocess.Popen[str] | None = None
        self.events: Events | None = None
        self._people: httpx.Client | None = None
        self._tokens: dict[str, str] = {}

    # --- set-up --------------------------------------------------------------------------

    @property
    def kiosk_command(self) -> list[str]:
        """The installed ``kiosk`` command next to this interpreter (as /opt/.../bin/kiosk)."""
        script = Path(sys.executable).with_name("kiosk")
        return [str(script)] if script.exists() else [sys.executable, "-m", "kiosk.cli.main"]

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.progress("building the test PKI and passports")
        self.factory = PassportFactory(self.work / "sim")
        for profile in (GENUINE_PROFILE, OTHER_PROFILE):
            self.factory.chip_image(profile)
        self.progress("starting pcscd with the vpcd reader")
        self.pcscd = PcscDaemon(vpcd_port=free_port_pair(), run_dir=self.work / "pcscd")
        self.pcscd.start()
        self.progress("starting the central server on loopback")
        self.server = EmbeddedServer(self.work / "server", KIOSK_ID).start()
        state = self.server.state
        add_user(state.database, ADMIN[0], Role.ADMINISTRATOR, ADMIN[1], actor="rig")
        add_user(state.database, TECHNICIAN[0], Role.TECHNICIAN, TECHNICIAN[1], actor="rig")
        self._upload("lost_stolen", [self._lost_entry("JAM", "JX0000001", "upsert")])
        self._upload("watchlist", [_watch_entry()])
        self.progress("writing the camera's video of a face")
        self.video = write_face_video(
            self.work / "face.avi", live_face(scenario("genuine-traveller"))
        )
        self.board = PtyGateBoard()
        self.feed = PtyMrzFeed()
        self.toml = self._write_toml()
        env = self._kiosk_env()
        for step, what in (
            ("init-keys", "kiosk db init-keys (the package's postinst)"),
            ("migrate", "kiosk db migrate (the unit's ExecStartPre)"),
        ):
            self.progress(what)
            subprocess.run(
                [*self.kiosk_command, "--config", str(self.toml), "db", step],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        self.progress("kiosk run (the unit's ExecStart)")
        self.kiosk = subprocess.Popen(
            [*self.kiosk_command, "--config", str(self.toml), "run", "--events"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=open(self.work / "kiosk.log", "w"),  # noqa: SIM115 - closed with the process
            text=True,
        )
        self.events = Events(self.kiosk.stdout)

    def _kiosk_env(self) -> dict[str, str]:
        assert self.pcscd is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        env.update(self.pcscd.client_env())
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _write_toml(self) -> Path:
        assert self.server is not None and self.board is not None and self.feed is not None
        creds = self.server.credentials
        signing_key, list_key = self.server.pinned_keys()
        home = self.work / "kiosk"
        text = f"""\
kiosk_id = "{KIOSK_ID}"
site = "RIG"
data_dir = "{home}"

[face]
capture_window_s = 8.0

[lane]
check_interval_s = 0.5

[devices.chip_reader]
type = "pcsc"
reader_pattern = "{READER}"
poll_interval_s = 0.1

[devices.mrz_reader]
type = "serial"
port = "{self.feed.path}"
framing = "crlf"
reconnect_s = 0.2

[devices.camera]
type = "opencv"
source = "{self.video}"
width = 640
height = 480
fps = 15
reconnect_s = 0.1

[devices.gate]
type = "serial"
port = "{self.board.path}"
heartbeat_s = 0.5

[central]
signing_public_key = "{signing_key}"
list_signing_public_keys = ["{list_key}"]

[sync]
server_url = "{self.server.url}"
client_cert = "{creds / "kiosk.pem"}"
client_key = "{creds / "kiosk.key"}"
ca_cert = "{creds / "ca.pem"}"
interval_s = 0.5
backoff_cap_s = 2.0
"""
        path = self.work / "rig.toml"
        path.write_text(text, encoding="utf-8")
        return path

    # --- the central server ------------------------------------------------------------

    def _client(self) -> httpx.Client:
        assert self.server is not None
        if self._people is None:
            context = ssl.create_default_context(cafile=str(self.server.credentials / "ca.pem"))
            self._people = httpx.Client(base_url=self.server.url, verify=context, timeout=20)
        return self._people

    def _headers(self, user: tuple[str, str]) -> dict[str, str]:
        if user[0] not in self._tokens:
            answer = self._client().post(
                "/v1/auth/token", json={"username": user[0], "password": user[1]}
            )
            answer.raise_for_status()
            self._tokens[user[0]] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[user[0]]}"}

    def _upload(self, name: str, changes: list[dict[str, Any]]) -> int:
        answer = self._client().post(
            f"/v1/admin/lists/{name}", json={"changes": changes}, headers=self._headers(ADMIN)
        )
        if answer.status_code != 200:
            raise RigError(f"upload of {name}: {answer.status_code} {answer.text[:200]}")
        return int(answer.json()["version"])

    @staticmethod
    def _lost_entry(issuer: str, number: str, op: str) -> dict[str, Any]:
        change: dict[str, Any] = {"op": op, "key": f"{issuer}:{number}"}
        if op == "upsert":
            change["data"] = {"document_number": number, "issuer": issuer, "status": "stolen"}
        return change

    def server_view_of_lane(self) -> dict[str, str]:
        """What the central server shows technicians of this kiosk (its last heartbeat)."""
        answer = self._client().get(f"/v1/devices/{KIOSK_ID}", headers=self._headers(TECHNICIAN))
        answer.raise_for_status()
        device = answer.json()
        return {"status": str(device.get("status")), **(device.get("devices") or {})}

    def _wait_server_sees(self, cause: str) -> bool:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if cause in self.server_view_of_lane().values():
                return True
            time.sleep(0.2)
        return False

    def _kiosk_list_version(self, name: str) -> int:
        with sqlite3.connect(self.work / "kiosk" / "kiosk.db") as db:
            row = db.execute("SELECT version FROM list_versions WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _wait_kiosk_list(self, name: str, version: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while self._kiosk_list_version(name) < version:
            if time.monotonic() > deadline:
                raise RigError(f"the kiosk did not sync {name} v{version}")
            time.sleep(0.1)

    # --- one traveller -----------------------------------------------------------------

    def _present(self, profile: str, card: Any = None) -> VpcdCardLink:
        """The traveller lays the passport on the reader: the chip comes into the field (the
        kiosk's reader sees it), the MRZ reader scans the data page."""
        assert self.pcscd is not None and self.feed is not None and self.events is not None
        chip = card if card is not None else PassportChip(self.factory.chip_image(profile))
        link = VpcdCardLink(chip, "127.0.0.1", self.pcscd.vpcd_port)
        link.insert()
        self.events.next(lambda e: e.get("event") == "card" and e.get("card") == "inserted")
        self.feed.scan(self.factory.printed_mrz(profile))
        return link

    def _take_away(self, link: VpcdCardLink) -> None:
        """The traveller takes the passport: wait until the kiosk's reader saw it leave."""
        assert self.events is not None
        link.remove()
        if self.events.card != "removed":
            self.events.next(lambda e: e.get("event") == "card" and e.get("card") == "removed")

    def _transaction(self, case: str, expected: str, profile: str, card: Any = None) -> CaseResult:
        assert self.events is not None
        started = time.perf_counter()
        link = self._present(profile, card)
        try:
            event = self.events.next(lambda e: e.get("event") in ("finished", "refused"))
            decided = [e for e in self.events.seen[-12:] if e.get("event") == "decided"]
        finally:
            self._take_away(link)
        wall = (time.perf_counter() - started) * 1000
        if event["event"] == "refused":
            return CaseResult(case, expected, "out_of_service", detail=event.get("reason", ""))
        last = (
            decided[-1]
            if decided and decided[-1]["transaction_id"] == event["transaction_id"]
            else None
        )
        decision = last["decision"] if last else str(event.get("outcome"))
        return CaseResult(
            case,
            expected,
            decision,
            tuple(last["reasons"]) if last else (),
            f"outcome {event.get('outcome')}",
            wall,
            dict(last["timings_ms"]) if last else {},
        )

    def _refused(self, case: str, profile: str) -> CaseResult:
        assert self.events is not None
        link = self._present(profile)
        try:
            event = self.events.next(lambda e: e.get("event") in ("refused", "finished"))
        finally:
            self._take_away(link)
        decision = "out_of_service" if event["event"] == "refused" else str(event.get("outcome"))
        return CaseResult(
            case, "out_of_service", decision, detail=", ".join(_causes(self.events.lane))
        )

    # --- the cases ---------------------------------------------------------------------

    def run_cases(self) -> list[CaseResult]:
        assert self.events is not None and self.board is not None
        events = self.events
        # 1. No trust anchors yet: the lane starts out of service and says so.
        self.progress("case trust-list-missing")
        events.lane_until(lambda e: "no_trust_anchors" in _causes(e))
        result = self._refused("trust-list-missing", GENUINE_PROFILE)
        result.detail = "causes: " + result.detail
        self.results.append(result)
        # The operator imports the trust list while the kiosk runs: back in service.
        subprocess.run(
            [
                *self.kiosk_command,
                "--config",
                str(self.toml),
                "trust",
                "import",
                *[str(p) for p in self._trust_files()],
            ],
            env=self._kiosk_env(),
            check=True,
            capture_output=True,
            text=True,
        )
        events.lane_until(lambda e: bool(e.get("in_service")))
        # 2. Genuine traveller: accepted, exit door opened over the serial protocol.
        self.progress("case genuine")
        openings = self.board.log.exit_openings
        result = self._transaction("genuine-accepted", "accept", GENUINE_PROFILE)
        opened = self.board.log.exit_openings - openings
        result.detail += (
            f", exit door opened {opened}x, board violations {len(self.board.log.violations)}"
        )
        if opened != 1 or self.board.log.violations:
            result.decision += " (gate protocol wrong)"
        self.results.append(result)
        # 3. Someone else's genuine passport at this face: referred.
        self.progress("case impostor")
        self.results.append(self._transaction("impostor-referred", "refer", OTHER_PROFILE))
        # 4. The server lists the genuine passport as stolen; the kiosk's sync brings it.
        self.progress("case lost/stolen")
        doc = self.factory.chip_image(GENUINE_PROFILE)
        number = _document_number(self.factory.printed_mrz(GENUINE_PROFILE))
        version = self._upload("lost_stolen", [self._lost_entry("LCA", number, "upsert")])
        self._wait_kiosk_list("lost_stolen", version)
        result = self._transaction("lost-stolen-referred", "refer", GENUINE_PROFILE)
        if "lost_or_stolen" not in result.reasons:
            result.decision += " (without lost_or_stolen)"
        self.results.append(result)
        del doc
        version = self._upload("lost_stolen", [self._lost_entry("LCA", number, "delete")])
        self._wait_kiosk_list("lost_stolen", version)
        # 5. The card leaves the field during the chip read: no gate opening.
        self.progress("case card pulled mid-read")
        openings = self.board.log.exit_openings
        chip = PassportChip(self.factory.chip_image(GENUINE_PROFILE))
        result = self._transaction(
            "card-pulled-mid-read",
            "passport_removed",
            GENUINE_PROFILE,
            _PulledCard(chip, after=12),
        )
        if self.board.log.exit_openings != openings:
            result.decision += " (gate opened)"
        self.results.append(result)
        # 6, 7. The passport taken away mid-transaction; a second person in the gate.
        self._passport_removed_and_tailgating()
        # 8. The camera is unplugged: the lane goes out of service, the server hears why.
        self.progress("case camera unplugged")
        unplugged = self.video.with_suffix(".unplugged")
        shutil.move(self.video, unplugged)
        try:
            events.lane_until(lambda e: "device_fault:camera" in _causes(e))
            result = self._refused("camera-unplugged", GENUINE_PROFILE)
            if not self._wait_server_sees("device_fault:camera"):
                result.decision += " (server not told)"
            else:
                result.detail += "; server heartbeat names device_fault:camera"
            self.results.append(result)
        finally:
            shutil.move(unplugged, self.video)
        events.lane_until(lambda e: bool(e.get("in_service")))
        return self.results

    def _passport_removed_and_tailgating(self) -> None:
        """The transaction follows the passport and the doors."""
        assert self.events is not None and self.board is not None
        # The passport taken off the reader while the camera looks for the face.
        self.progress("case passport removed mid-transaction")
        openings = self.board.log.exit_openings
        link = self._present(GENUINE_PROFILE)
        try:
            self.events.next(
                lambda e: e.get("event") == "state" and e.get("state") == "face_capture"
            )
        finally:
            self._take_away(link)
        event = self.events.next(lambda e: e.get("event") == "finished")
        decision = str(event.get("outcome"))
        if self.board.log.exit_openings != openings:
            decision += " (gate opened)"
        self.results.append(CaseResult("passport-removed", "passport_removed", decision))
        # A second person follows the traveller into the gate.
        self.progress("case tailgating")
        openings = self.board.log.exit_openings
        self.board.passage.tailgate = True
        try:
            result = self._transaction("tailgating-referred", "refer", GENUINE_PROFILE)
        finally:
            self.board.passage.tailgate = False
        if "tailgating" not in result.reasons:
            result.decision += " (without tailgating)"
        if self.board.log.exit_openings != openings:
            result.decision += " (exit opened)"
        self.results.append(result)

    def _trust_files(self) -> list[Path]:
        pki = self.factory.pki
        return [*pki.trust_anchor_paths(), *pki.crl_paths()]

    # --- tear-down ---------------------------------------------------------------------

    def close(self) -> None:
        if self.kiosk is not None:
            self.kiosk.terminate()
            try:
                self.kiosk.wait(30)
            except subprocess.TimeoutExpired:
                self.kiosk.kill()
                self.kiosk.wait(10)
            if self.kiosk.stdout is not None:
                self.kiosk.stdout.close()
            self.kiosk = None
        if self._people is not None:
            self._people.close()
        for part in (self.board, self.feed):
            if part is not None:
                part.close()
        if self.server is not None:
            self.server.stop()
        if self.pcscd is not None:
            self.pcscd.stop()

    def __enter__(self) -> ProductionRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _document_number(mrz: str) -> str:
    """The document number of a TD3 MRZ (second line, before its check digit)."""
    return mrz.splitlines()[1][:9].rstrip("<")


def _watch_entry() -> dict[str, Any]:
    data = {
        "surname": "KOWALSKI",
        "given_names": "PIOTR",
        "birth_date": "1975-04-02",
        "nationality": "POL",
        "category": "alert",
    }
    return {"op": "upsert", "key": "RIG-WL-0001", "data": data}
