"""Watchlist, lost/stolen and manifest deltas are signed where they are written, and a kiosk
applies nothing of them that does not verify with the list-signing key it pins.

End to end on loopback (real server, mutual TLS, real kiosk sync), each attack built:
- rows written into the server's database behind the signing path: an entry added to a
  signed watchlist version, a vetted "no board" traveller turned "cleared", a stolen
  passport cleared by an unsigned version;
- a man in the middle holding the server's TLS key (a real HTTPS relay in front of the
  server) that adds, alters or drops a change of a page, strips the signatures, replays a
  signed page as another version or another list, or hands one port's vetted manifest to
  another port's kiosk.
The kiosk keeps the list at the last version that verifies (nothing later is skipped), and
reports the refusal once through ``/v1/kiosk/refusals``; the supervisors are alerted. Each
test has a schema of its own: a version left tampered would stop every later kiosk."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import delete, select, update

from kiosk.sync.client import ServerClient
from kiosk.sync.list_signatures import check_page
from kiosk.sync.lists import local_versions
from kiosk.sync.service import SyncService
from models.list_signature import list_message, scope_digests
from models.server_tables import AlertRow, KioskRefusalRow, ListChangeRow, ListVersionServerRow
from models.tables import LostStolenDocumentRow, OutboxMessageRow, WatchlistEntryRow
from models.tables.screening import ManifestEntryRow
from server.api.lists import append_version
from server.list_resign import sign_stored_versions
from server.security.change_signing import ChangeSigner
from tests.server.conftest import kiosk_config_for, private_schema

pytestmark = pytest.mark.postgres

PERSON = {"surname": "ROGUE", "given_names": "ANY", "birth_date": "1970-01-01"}


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A schema for this test alone (the session's is shared by every server test)."""
    with private_schema("kiosk_lists_test") as schema:
        yield schema


def _write(setup: Any, name: str, changes: list[dict[str, Any]]) -> int:
    """A version written the way the server writes one (signed); its number."""
    with setup.state.database.session() as session:
        return append_version(session, name, changes, "admin", signer=setup.state.list_signer)


def _entry(key: str, **data: Any) -> dict[str, Any]:
    return {"op": "upsert", "key": key, "data": {**PERSON, **data}}


def _vetted(port: str, number: str, vetting: str) -> dict[str, Any]:
    data = {"flight": "XY123", "arrival_date": "2026-11-22", "surname": "ERIKSSON",
            "given_names": "ANNA", "document_number": number, "issuer": "UTO",
            "vetting": vetting, "vetting_reasons": [f"watchlist: {vetting}"]}  # fmt: skip
    return {"op": "upsert", "key": f"vetted:{port}:XY123:2026-11-22:UTO:{number}", "data": data}


def _sync(config: Any, database: Any) -> None:
    with ServerClient(config.sync) as client:
        report = SyncService(config, database, client).run_once()
    assert report.ok, report.error


def _watchlist(database: Any) -> set[str]:
    with database.read() as session:
        return set(session.scalars(select(WatchlistEntryRow.external_id)).all())


def _manifest(database: Any) -> dict[str, str | None]:
    with database.read() as session:
        rows = session.execute(select(ManifestEntryRow.document_number, ManifestEntryRow.vetting))
        return {number: vetting for number, vetting in rows}


def _refusals(setup: Any) -> dict[tuple[str, int], str]:
    with setup.state.database.sessions() as session:
        rows = session.scalars(
            select(KioskRefusalRow).where(KioskRefusalRow.kiosk_id == setup.device)
        ).all()
        return {(row.list_name, row.version): row.reason for row in rows}


def _queued_refusals(database: Any) -> int:
    with database.read() as session:
        kind = OutboxMessageRow.kind == "refused_change"
        return len(session.scalars(select(OutboxMessageRow).where(kind)).all())


def test_signed_lists_are_applied_and_each_port_gets_its_own_manifest(
    server_setup, running_server, kiosk_database, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a watchlist, a lost/stolen entry and a manifest version holding vetted entries
    # for two ports and one for every kiosk, all written (and signed) by the server
    watch = _write(server_setup, "watchlist", [_entry("W-1"), _entry("W-2")])
    _write(server_setup, "lost_stolen", [{"op": "upsert", "key": "UTO:X1234567",
                                          "data": {"status": "stolen"}}])  # fmt: skip
    manifest = [_vetted("LHR", "L1", "no_board"), _vetted("JFK", "J1", "cleared"),
                {**_vetted("LHR", "A1", "refer"), "key": "XY123:2026-11-22:UTO:A1"}]  # fmt: skip
    _write(server_setup, "manifest", manifest)
    # WHEN a kiosk of LHR syncs
    config = kiosk_config_for(server_setup, tmp_path / "k", running_server.url, port="LHR")
    _sync(config, kiosk_database)
    # THEN it holds all of it, its port's vetted entries and not JFK's, and refused nothing
    assert _watchlist(kiosk_database) == {"W-1", "W-2"}
    assert _manifest(kiosk_database) == {"L1": "no_board", "A1": "refer"}
    assert local_versions(kiosk_database)["watchlist"] == watch
    with kiosk_database.read() as session:
        assert session.scalar(select(LostStolenDocumentRow.document_number)) == "X1234567"
    assert _refusals(server_setup) == {} and _queued_refusals(kiosk_database) == 0


def test_rows_written_into_the_database_behind_the_signing_path_are_refused(
    server_setup, running_server, kiosk_database, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    # GIVEN good signed versions, then an attacker with the database: an entry added to a
    # signed watchlist version, a vetted "no board" traveller turned "cleared", and an
    # unsigned lost/stolen version that clears a stolen passport
    good = _write(server_setup, "watchlist", [_entry("W-GOOD")])
    bad = _write(server_setup, "watchlist", [_entry("W-NEXT")])
    stolen = _write(server_setup, "lost_stolen", [{"op": "upsert", "key": "UTO:X1234567",
                                                   "data": {"status": "stolen"}}])  # fmt: skip
    vetted = _write(server_setup, "manifest", [_vetted("LHR", "L1", "no_board")])
    with state.database.session() as session:
        session.add(ListChangeRow(list_name="watchlist", version=bad, op="upsert",
                                  key="W-ROGUE", data=PERSON, uploaded_by="admin"))  # fmt: skip
        cleared = session.execute(
            update(ListChangeRow)
            .where(ListChangeRow.list_name == "manifest", ListChangeRow.version == vetted)
            .values(data={**_vetted("LHR", "L1", "cleared")["data"], "vetting_reasons": []})
        )
        assert cleared.rowcount == 1  # type: ignore[attr-defined]
        row = session.get(ListVersionServerRow, "lost_stolen")
        row.version += 1
        session.add(ListChangeRow(list_name="lost_stolen", version=row.version, op="delete",
                                  key="UTO:X1234567", data=None, uploaded_by="x"))  # fmt: skip
        unsigned = row.version
    # WHEN a kiosk of LHR syncs
    config = kiosk_config_for(server_setup, tmp_path / "k", running_server.url, port="LHR")
    _sync(config, kiosk_database)
    # THEN it applied the versions before each attack and nothing from them on
    assert _watchlist(kiosk_database) == {"W-GOOD"}
    assert _manifest(kiosk_database) == {}
    with kiosk_database.read() as session:
        assert session.scalar(select(LostStolenDocumentRow.document_number)) == "X1234567"
    versions = local_versions(kiosk_database)
    assert (versions["watchlist"], versions["lost_stolen"]) == (good, stolen)
    assert versions["manifest"] == vetted - 1
    # AND the server holds the three refusals with the kiosk's reasons, and alerted
    mismatch = "the changes received do not match the signed digest"
    assert _refusals(server_setup) == {("watchlist", bad): mismatch,
                                       ("manifest", vetted): mismatch,
                                       ("lost_stolen", unsigned): "unsigned"}  # fmt: skip
    with state.database.sessions() as session:
        subjects = set(session.scalars(
            select(AlertRow.subject).where(AlertRow.kind == "kiosk.refused_change")
        ).all())  # fmt: skip
    assert {f"watchlist v{bad}", f"manifest v{vetted}", f"lost_stolen v{unsigned}"} <= subjects
    # WHEN it syncs again THEN it still refuses, and reports nothing twice
    _sync(config, kiosk_database)
    assert _watchlist(kiosk_database) == {"W-GOOD"}
    assert len(_refusals(server_setup)) == 3 and _queued_refusals(kiosk_database) == 3
    # WHEN the operator removes the rogue row THEN the signed version verifies and applies
    with state.database.session() as session:
        session.execute(delete(ListChangeRow).where(ListChangeRow.key == "W-ROGUE"))
    _sync(config, kiosk_database)
    assert _watchlist(kiosk_database) == {"W-GOOD", "W-NEXT"}
    # AND re-signing with a rotated key blesses none of the tampered versions
    report = sign_stored_versions(
        state.database, ChangeSigner.generate(), previous=state.list_signer.public_key
    )
    assert (report.resigned, report.current) == (3, 0)  # watchlist v1-v2, lost_stolen v1
    assert sorted(report.left) == sorted(
        [
            f"manifest v{vetted}: its signature does not verify",
            f"lost_stolen v{unsigned}: unsigned (--unsigned signs it)",
        ]  # fmt: skip
    )


class TamperingRelay:
    """A man in the middle with the server's TLS key: HTTPS to the kiosk with the server's
    own certificate, the kiosk's credentials upstream; ``tamper`` rewrites list deltas."""

    def __init__(self, setup: Any, upstream: str, tamper: Callable[..., dict[str, Any]]):
        cert, key = setup.state.ca.server_credentials(setup.config.server_names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        credentials = setup.credentials
        verify = ssl.create_default_context(cafile=str(credentials / "ca.pem"))
        verify.load_cert_chain(str(credentials / "kiosk.pem"), str(credentials / "kiosk.key"))
        self.upstream = httpx.Client(base_url=upstream, verify=verify)
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                answer = relay.upstream.request(method, self.path, content=body, headers=headers)
                data = answer.content
                url = urlsplit(self.path)
                if url.path.startswith("/v1/kiosk/lists/") and answer.status_code == 200:
                    name = url.path.rsplit("/", 1)[-1]
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    data = json.dumps(tamper(relay, name, query, answer.json())).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def page(self, name: str, **query: Any) -> dict[str, Any]:
        answer = self.upstream.get(f"/v1/kiosk/lists/{name}", params=query)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def __enter__(self) -> TamperingRelay:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        self.upstream.close()


def _add(_relay: TamperingRelay, name: str, _q: dict[str, str], page: dict[str, Any]) -> Any:
    if name == "watchlist" and page["changes"]:
        version = page["changes"][0]["version"]
        page["changes"].insert(1, {"version": version, **_entry("W-ROGUE")})
    return page


def _alter(_relay: TamperingRelay, name: str, _q: dict[str, str], page: dict[str, Any]) -> Any:
    for change in page["changes"] if name == "watchlist" else []:
        if change["data"]:
            change["data"]["surname"] = "SOMEONE ELSE"
    return page


def _drop(_relay: TamperingRelay, name: str, _q: dict[str, str], page: dict[str, Any]) -> Any:
    if name == "watchlist":  # the wanted person's entry withheld, its signature kept
        page["changes"] = [c for c in page["changes"] if c["key"] != "W-2"]
    return page


def _strip(_relay: TamperingRelay, name: str, _q: dict[str, str], page: dict[str, Any]) -> Any:
    if name == "watchlist":
        page["signatures"] = []
    return page


def _replay_version(
    relay: TamperingRelay, name: str, query: dict[str, str], page: dict[str, Any]
) -> Any:
    """The signed first version (W-1 added) served again as a third, to undo the second
    (W-1 removed)."""
    if name != "watchlist" or int(query.get("since", 0)) == 0:
        return page
    first = relay.page("watchlist", since=0, limit=1)
    since = int(query["since"])
    for item in first["changes"] + first["signatures"]:
        item["version"] = since + 1
    return {**first, "since": since, "version": since + 1, "more": False}


def _replay_list(
    relay: TamperingRelay, name: str, query: dict[str, str], page: dict[str, Any]
) -> Any:
    """The watchlist's signed page served as the lost/stolen list."""
    if name != "lost_stolen":
        return page
    return {**relay.page("watchlist", since=query.get("since", 0)), "name": "lost_stolen"}


def _replay_port(
    relay: TamperingRelay, name: str, query: dict[str, str], page: dict[str, Any]
) -> Any:
    """Another port's signed manifest page handed to this kiosk."""
    if name != "manifest":
        return page
    return relay.page("manifest", since=query.get("since", 0), port="JFK")


DIGEST = "the changes received do not match the signed digest"
SIGNATURE = "the signature does not verify"
ATTACKS = {  # what the relay does, the list refused, the version refused, the reason
    "add": (_add, "watchlist", 1, DIGEST),
    "alter": (_alter, "watchlist", 1, DIGEST),
    "drop": (_drop, "watchlist", 1, DIGEST),
    "unsigned": (_strip, "watchlist", 1, "unsigned"),
    "replay_version": (_replay_version, "watchlist", 3, SIGNATURE),
    "replay_list": (_replay_list, "lost_stolen", 1, SIGNATURE),
    "replay_port": (_replay_port, "manifest", 1, "changes for another port"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_pages_tampered_in_transit_are_refused(
    attack: str, server_setup, running_server, kiosk_database, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tamper, refused_list, refused_version, reason = ATTACKS[attack]
    # GIVEN signed versions: watchlist v1 (W-1, W-2) and v2 (W-1 removed), a lost/stolen
    # entry, the vetted manifests of JFK (v1) and LHR (v2)
    _write(server_setup, "watchlist", [_entry("W-1"), _entry("W-2")])
    _write(server_setup, "watchlist", [{"op": "delete", "key": "W-1", "data": None}])
    _write(server_setup, "lost_stolen", [{"op": "upsert", "key": "UTO:X1234567",
                                          "data": {"status": "stolen"}}])  # fmt: skip
    _write(server_setup, "manifest", [_vetted("JFK", "J1", "cleared")])
    _write(server_setup, "manifest", [_vetted("LHR", "L1", "no_board")])
    # WHEN an LHR kiosk syncs through a relay holding the server's TLS key that tampers
    with TamperingRelay(server_setup, running_server.url, tamper) as relay:
        config = kiosk_config_for(server_setup, tmp_path / "k", relay.url, port="LHR")
        with closing(ServerClient(config.sync)) as client:
            if attack == "replay_version":  # the kiosk already holds v1 and v2
                SyncService(config, kiosk_database, client).run_once()
            report = SyncService(config, kiosk_database, client).run_once()
        assert report.ok, report.error
    # THEN the attacked list stays at the version before the attack, nothing of it applied
    versions = local_versions(kiosk_database)
    assert versions[refused_list] == refused_version - 1
    if refused_list == "watchlist":
        assert _watchlist(kiosk_database) == ({"W-2"} if refused_version == 3 else set())
    if refused_list == "manifest":
        assert _manifest(kiosk_database) == {}
    # AND the lists not attacked were applied as signed
    if refused_list != "lost_stolen":
        assert versions["lost_stolen"] == 1
    if refused_list != "manifest":
        assert _manifest(kiosk_database) == {"L1": "no_board"}
    # AND the refusal reached the server, with the kiosk's reason
    assert _refusals(server_setup) == {(refused_list, refused_version): reason}


def test_a_hostile_page_is_refused_whatever_its_shape() -> None:
    # GIVEN one signed watchlist version and one manifest version with a vetted LHR entry
    signer = ChangeSigner.generate()
    keys = {signer.key_id: signer.public_key}
    watch = [{"version": 1, **_entry("W-1")}]
    scopes = scope_digests("watchlist", watch)
    signature = {"version": 1, "key_id": signer.key_id, "envelope": {"scopes": scopes},
                 "signature": signer.sign(list_message("watchlist", 1, scopes))}  # fmt: skip
    good = {"version": 1, "changes": watch, "signatures": [signature]}
    assert check_page("watchlist", 0, good, keys).refused is None
    vetted = [{"version": 1, **_vetted("LHR", "L1", "no_board")}]
    scopes = scope_digests("manifest", vetted)
    signed = {"version": 1, "key_id": signer.key_id, "envelope": {"scopes": scopes},
              "signature": signer.sign(list_message("manifest", 1, scopes))}  # fmt: skip
    manifest = {"version": 1, "changes": vetted, "signatures": [signed]}
    cases = {
        # a kiosk that names no port is handed a port's vetted entries
        "changes for another port": check_page("manifest", 0, manifest, keys),
        # a change claiming a version the page does not cover
        "changes outside the versions of the page": check_page(
            "watchlist", 0, {**good, "version": 0}, keys
        ),
        # a page claiming a billion versions (to jump the kiosk past every later one)
        "the page covers too many versions": check_page(
            "watchlist", 0, {**good, "version": 10**9}, keys
        ),
        # a signature that is not hex, and one of another key
        "the signature does not verify": check_page(
            "watchlist", 0, {**good, "signatures": [{**signature, "signature": "zz" * 64}]}, keys
        ),
        "not a pinned key": check_page(
            "watchlist", 0, good, {"other": ChangeSigner.generate().public_key}
        ),
        "no list-signing key is pinned": check_page("watchlist", 0, good, {}),
        "no signed digests": check_page(
            "watchlist", 0, {**good, "signatures": [{**signature, "envelope": {}}]}, keys
        ),
    }
    # THEN each is refused at version 1, with nothing to apply and the version kept
    for reason, page in cases.items():
        assert page.refused is not None and reason in page.refused["reason"], reason
        assert (page.changes, page.version, page.refused["version"]) == ([], 0, 1), reason
    # AND the LHR kiosk takes the same manifest page
    assert check_page("manifest", 0, manifest, keys, port="LHR").changes == vetted
