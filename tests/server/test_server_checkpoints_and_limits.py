"""Audit checkpoints are verified against the kiosk's audit key given at enrolment (never
trusted on first use) and refused ones flagged for supervisors; failed logins are throttled
per (user, address) with progressive delays; /metrics is open to loopback only;
``kiosk server run`` passes --log-level to uvicorn."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from kiosk.audit.entries import format_time
from kiosk.audit.log import checkpoint_message
from kiosk.audit.signing import key_id, load_signing_key, public_key_pem
from kiosk.cli.main import main
from models.server_tables import DeviceAuditKeyRow, ServerAuditEventRow
from server.accounts import enrol_device
from server.audit_checkpoints import AuditKeyError
from server.config import ServerConfig
from server.runner import uvicorn_config
from server.security import login_throttle
from server.security.tokens import Role

pytestmark = pytest.mark.postgres

CHECKPOINTS = "/v1/kiosk/audit-checkpoints"
PASSWORD = "correct horse battery staple"
NOT_A_KEY = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"


def _checkpoint(
    key: Ed25519PrivateKey, kiosk_id: str, seq: int, entry_hash: str = "ab" * 32
) -> dict[str, Any]:
    moment = datetime.now(UTC) - timedelta(minutes=1)
    message = checkpoint_message(
        kiosk_id=kiosk_id, seq=seq, entry_hash=entry_hash, prev_checkpoint_seq=seq - 1,
        time=moment,
    )  # fmt: skip
    return {
        "kiosk_id": kiosk_id,
        "seq": seq,
        "entry_hash": entry_hash,
        "prev_checkpoint_seq": seq - 1,
        "time": format_time(moment),
        "key_id": key_id(key.public_key()),
        "signature": key.sign(message).hex(),
        "public_key_pem": public_key_pem(key.public_key()),
    }


def _anomalies(client, headers) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    answer = client.get("/v1/audit/anomalies", headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_checkpoints_are_verified_and_forgeries_flagged(
    server_setup, device_client, people_client, token_headers
) -> None:  # type: ignore[no-untyped-def]
    device = server_setup.device
    key = load_signing_key(server_setup.audit_key_file)
    # GIVEN a kiosk's first checkpoint, signed with the key given at its enrolment
    first = device_client.post(CHECKPOINTS, json={"items": [_checkpoint(key, device, 100)]})
    assert first.status_code == 200 and first.json()["accepted"] == 1
    with server_setup.state.database.sessions() as session:
        held = session.get(DeviceAuditKeyRow, device)
        assert held is not None and held.source == "enrolment"
        assert held.key_id == key_id(key.public_key())
    # WHEN a checkpoint comes with a tampered signature, one signed by another key, and one
    # that rewrites a checkpoint already held (validly signed)
    forged = _checkpoint(key, device, 200)
    forged["entry_hash"] = "cd" * 32
    other = _checkpoint(Ed25519PrivateKey.generate(), device, 300)
    rewritten = _checkpoint(key, device, 100, entry_hash="ef" * 32)
    answers = [
        device_client.post(CHECKPOINTS, json={"items": [item]})
        for item in (forged, other, rewritten)
    ]
    # THEN each is refused with a 4xx saying why, and nothing of them is stored
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert "bad_signature" in answers[0].json()["detail"]
    assert "key_changed" in answers[1].json()["detail"]
    assert "history_rewritten" in answers[2].json()["detail"]
    resent = device_client.post(CHECKPOINTS, json={"items": [_checkpoint(key, device, 100)]})
    assert resent.status_code == 200 and resent.json()["duplicates"] == 1
    # AND supervisors see the anomalies, once each however often they are resent
    device_client.post(CHECKPOINTS, json={"items": [forged]})
    supervisor = token_headers(people_client, server_setup.user(Role.SUPERVISOR))
    kinds = sorted((a["seq"], a["kind"]) for a in _anomalies(people_client, supervisor))
    assert kinds == [(100, "history_rewritten"), (200, "bad_signature"), (300, "key_changed")]
    officer = token_headers(people_client, server_setup.user(Role.OFFICER))
    assert people_client.get("/v1/audit/anomalies", headers=officer).status_code == 403


def _as_device(app: Any, cert_pem: str) -> Any:
    """The app as uvicorn calls it for a connection that presented ``cert_pem``."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["extensions"] = {"tls": {"client_cert_chain": [cert_pem]}}
        await app(scope, receive, send)

    return wrapped


def test_a_key_given_at_enrolment_is_the_only_one_accepted(server_setup, asgi_app) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a device enrolled with its audit public key
    enrolled_key = Ed25519PrivateKey.generate()
    state = server_setup.state
    enrolled = enrol_device(
        state.database, state.ca, "gate-with-key", days=1,
        audit_public_key_pem=public_key_pem(enrolled_key.public_key()),
    )  # fmt: skip
    pem = enrolled.certificate.cert_pem.decode()
    with TestClient(_as_device(asgi_app, pem), base_url="https://testserver") as client:
        # WHEN its very first checkpoint is signed by another key, with that key attached
        impostor = _checkpoint(Ed25519PrivateKey.generate(), "gate-with-key", 5)
        refused = client.post(CHECKPOINTS, json={"items": [impostor]})
        accepted = client.post(
            CHECKPOINTS, json={"items": [_checkpoint(enrolled_key, "gate-with-key", 5)]}
        )
    # THEN it is refused (no trust on first use when a key was enrolled); the right one passes
    assert refused.status_code == 422 and "key_changed" in refused.json()["detail"]
    assert accepted.status_code == 200 and accepted.json()["accepted"] == 1
    with state.database.sessions() as session:
        held = session.get(DeviceAuditKeyRow, "gate-with-key")
        assert held is not None and held.source == "enrolment"


def test_enrolment_refuses_a_key_that_is_not_ed25519(server_setup) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    with pytest.raises(AuditKeyError):
        enrol_device(state.database, state.ca, "gate-bad-key", days=1,
                     audit_public_key_pem=NOT_A_KEY)  # fmt: skip


def test_failed_logins_are_throttled_per_user_and_address(server_setup, people_client) -> None:  # type: ignore[no-untyped-def]
    # GIVEN two users
    anna, bob = server_setup.user(Role.OFFICER), server_setup.user(Role.OFFICER)

    def attempt(name: str, password: str) -> Any:
        return people_client.post("/v1/auth/token", json={"username": name, "password": password})

    # WHEN anna's password is guessed three times (the free attempts)
    assert [attempt(anna, "wrong" * 4).status_code for _ in range(3)] == [401] * 3
    # THEN the next attempt from this address must wait, even with the right password, and
    # the answer says the account is throttled and for how long
    throttled = attempt(anna, PASSWORD)
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 2
    assert "throttled" in throttled.json()["detail"]
    # AND bob, from the same address, is not throttled: only the (user, address) pair is
    assert attempt(bob, PASSWORD).status_code == 200
    # AND every outcome is audited, the throttled one included
    with server_setup.state.database.sessions() as session:
        actions = [
            row.action
            for row in session.query(ServerAuditEventRow)
            .filter(ServerAuditEventRow.actor.in_([anna, bob]))
            .all()
        ]
    assert sorted(actions) == sorted(["login.failed"] * 3 + ["login.throttled", "login.success"])


def test_throttle_delays_double_per_user_and_address(server_setup) -> None:  # type: ignore[no-untyped-def]
    policy = login_throttle.ThrottlePolicy(free_attempts=2, delay_s=10, delay_max_s=60,
                                           reset_s=3600)  # fmt: skip
    start = datetime.now(UTC)
    database = server_setup.state.database

    def count(user: str, address: str, after_s: float) -> int | None:
        with database.session() as session:
            return login_throttle.count_attempt(
                session, policy, user, address, now=start + timedelta(seconds=after_s)
            )

    # GIVEN two free failures of anna from 10.0.0.1
    assert count("anna", "10.0.0.1", 0) is None and count("anna", "10.0.0.1", 1) is None
    # THEN the third must wait 10 s after the last, and a throttled attempt is not counted
    assert count("anna", "10.0.0.1", 2) == 9
    assert count("anna", "10.0.0.1", 5) == 6
    # AND anna from another address, and bob from that one, are free
    assert count("anna", "10.0.0.2", 5) is None and count("bob", "10.0.0.1", 5) is None
    # WHEN the wait is over, the attempt counts and the next wait doubles (20 s), capped
    assert count("anna", "10.0.0.1", 11) is None
    assert count("anna", "10.0.0.1", 12) == 19
    assert count("anna", "10.0.0.1", 31) is None
    assert count("anna", "10.0.0.1", 32) == 39
    assert count("anna", "10.0.0.1", 71) is None
    assert count("anna", "10.0.0.1", 72) == 59  # 80 s capped at 60
    # AND a right password clears the pair
    with database.session() as session:
        login_throttle.clear(session, "anna", "10.0.0.1")
    assert count("anna", "10.0.0.1", 73) is None


def test_metrics_need_a_technician_token_away_from_loopback(
    server_setup, people_client, token_headers, running_server
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a client that is not on loopback (the test client's address is "testclient")
    # WHEN it reads /metrics without a token, as an officer, as a technician
    anonymous = people_client.get("/metrics")
    officer = token_headers(people_client, server_setup.user(Role.OFFICER))
    technician = token_headers(people_client, server_setup.user(Role.TECHNICIAN))
    # THEN only the technician gets them
    assert anonymous.status_code == 401
    assert people_client.get("/metrics", headers=officer).status_code == 403
    answer = people_client.get("/metrics", headers=technician)
    assert answer.status_code == 200 and "kiosk_server_requests" in answer.text
    # AND with an empty allow-list even loopback needs the token
    server_setup.state.config.metrics_allow = []
    import httpx

    with httpx.Client(verify=False, base_url=running_server.url) as loopback:
        assert loopback.get("/metrics").status_code == 401


def test_server_run_passes_the_log_level_to_uvicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN `kiosk --log-level DEBUG server run` with the serving replaced by a recorder
    seen: dict[str, Any] = {}

    def fake_run(config: ServerConfig, *, log_level: str = "info") -> None:
        seen["level"] = log_level
        seen["uvicorn"] = uvicorn_config(config, log_level=log_level)

    import server.runner

    monkeypatch.setattr(server.runner, "run_server", fake_run)
    root_handlers = list(logging.getLogger().handlers)
    try:
        code = main(["--log-level", "DEBUG", "server", "--data-dir", str(tmp_path), "run",
                     "--port", "0", "--no-tls"])  # fmt: skip
    finally:
        logging.getLogger().handlers = root_handlers
    # THEN uvicorn is configured with that level, its loggers going to ours
    assert code == 0 and seen["level"] == "debug"
    assert seen["uvicorn"].log_config is None
    assert logging.getLogger("uvicorn.error").level == logging.DEBUG


def test_a_kiosks_own_checkpoints_reach_the_server_and_verify(
    server_setup, running_server, kiosk_database, kiosk_config_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from kiosk.audit.log import AuditLog
    from kiosk.sync.client import ServerClient
    from kiosk.sync.service import SyncService
    from models.server_tables import AuditAnomalyRow, ReceivedCheckpointRow

    # GIVEN a kiosk whose audit log signed three checkpoints into its outbox
    key = load_signing_key(server_setup.audit_key_file)
    audit = AuditLog(key, kiosk_id=server_setup.device, checkpoint_every=2)
    for index in range(6):
        with kiosk_database.write() as session:
            audit.append(session, actor="system", action="test.event", details={"n": index})
    config = kiosk_config_factory(server_setup, tmp_path / "k", running_server.url)
    # WHEN it syncs with the real server
    with ServerClient(config.sync) as client:
        report = SyncService(config, kiosk_database, client).run_once()
    # THEN all three are stored, verified with the key enrolled, none flagged
    assert report.ok, report.relay.errors
    with server_setup.state.database.sessions() as session:
        device = server_setup.device
        stored = session.scalar(
            select(func.count()).where(ReceivedCheckpointRow.kiosk_id == device)
        )
        flagged = session.scalar(select(func.count()).where(AuditAnomalyRow.kiosk_id == device))
        held = session.get(DeviceAuditKeyRow, device)
    assert stored == 3 and flagged == 0
    assert held is not None and held.key_id == key_id(key.public_key())
