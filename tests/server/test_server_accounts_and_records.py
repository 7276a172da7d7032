"""Accounts (disable, reset, remove; administrators kept), tokens (weak secrets refused,
lifetime capped), and kiosk records keyed on (kiosk, transaction id): another kiosk cannot
pre-empt an id, and a "duplicate" that differs is a 409."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from kiosk.audit.signing import public_key_pem
from kiosk.storage.recorder import decision_payload
from models.errors import ConfigError
from server.accounts import enrol_device
from server.config import load_server_config
from server.security.tokens import ALGORITHM, ISSUER, Role

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"


def _login(client: TestClient, name: str, password: str = PASSWORD) -> int:
    return client.post("/v1/auth/token", json={"username": name, "password": password}).status_code


def test_administrators_disable_reset_and_remove_accounts(
    server_setup, people_client, token_headers
) -> None:  # type: ignore[no-untyped-def]
    admin = token_headers(people_client, server_setup.user(Role.ADMINISTRATOR))
    officer = server_setup.user(Role.OFFICER)
    officer_token = token_headers(people_client, officer)
    queue = "/v1/referrals"
    # WHEN the officer is disabled: THEN its token and its logins are refused
    assert (
        people_client.post(f"/v1/admin/users/{officer}/disable", headers=admin).status_code == 200
    )
    assert people_client.get(queue, headers=officer_token).status_code == 401
    assert _login(people_client, officer) == 401
    # WHEN enabled again and given a new password: the old password and token are refused
    assert people_client.post(f"/v1/admin/users/{officer}/enable", headers=admin).status_code == 200
    fresh = "a brand new passphrase"
    reset = people_client.post(
        f"/v1/admin/users/{officer}/password", json={"password": fresh}, headers=admin
    )
    assert reset.status_code == 200
    assert people_client.get(queue, headers=officer_token).status_code == 401
    assert _login(people_client, officer) == 401 and _login(people_client, officer, fresh) == 200
    # AND an administrator's password cannot be reset through the API
    other_admin = server_setup.user(Role.ADMINISTRATOR)
    refused = people_client.post(
        f"/v1/admin/users/{other_admin}/password", json={"password": fresh}, headers=admin
    )
    assert refused.status_code == 403
    # WHEN the officer is removed: gone; removing it again is a 404
    assert people_client.delete(f"/v1/admin/users/{officer}", headers=admin).status_code == 200
    assert people_client.delete(f"/v1/admin/users/{officer}", headers=admin).status_code == 404
    # AND each action is audited under the administrator's name
    supervisor = token_headers(people_client, server_setup.user(Role.SUPERVISOR))
    events = people_client.get("/v1/audit/events?limit=1000", headers=supervisor).json()["items"]
    done = {e["action"] for e in events if e["subject"] == officer}
    assert {"user.disable", "user.enable", "user.reset_password", "user.remove"} <= done


def test_weak_token_secrets_and_long_lived_tokens_are_refused(
    server_setup, people_client, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN configured token secrets that are short or repetitive: THEN refused at start
    for weak in ("short-secret", "a" * 64):
        config = tmp_path / "server.toml"
        config.write_text(f'[server]\ntoken_secret = "{weak}"\n', encoding="utf-8")
        with pytest.raises(ConfigError, match="token_secret"):
            load_server_config(config)
    # WHEN someone holding the secret signs a token valid for ten years
    officer = server_setup.user(Role.OFFICER)
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "sub": officer, "role": "officer", "iat": int(now.timestamp()),
              "exp": int((now + timedelta(days=3650)).timestamp())}  # fmt: skip
    secret = (server_setup.config.data_dir / "token.secret").read_bytes().strip()
    forged = jwt.encode(claims, secret, algorithm=ALGORITHM)
    # THEN it is refused, though its signature is valid
    answer = people_client.get("/v1/referrals", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401


def test_a_kiosk_cannot_preempt_another_kiosks_transaction_id(
    server_setup, device_client, as_device, decided, people_client, token_headers
) -> None:  # type: ignore[no-untyped-def]
    state = server_setup.state
    other = enrol_device(
        state.database, state.ca, f"{server_setup.device}-b", days=1,
        audit_public_key_pem=public_key_pem(Ed25519PrivateKey.generate().public_key()),
    )  # fmt: skip
    pem = other.certificate.cert_pem.decode()
    # GIVEN kiosk B sends a referral with the transaction id kiosk A will use
    record_a = decided(0, server_setup.device)  # a referral
    record_b = decided(0, other.name)
    payload_b = {**decision_payload(record_b), "transaction_id": record_a.transaction_id}
    with as_device(pem) as kiosk_b:
        first = kiosk_b.post("/v1/kiosk/decisions", json={"items": [payload_b]})
    assert first.status_code == 200 and first.json()["accepted"] == 1
    # WHEN kiosk A sends its own
    answer = device_client.post("/v1/kiosk/decisions", json={"items": [decision_payload(record_a)]})
    # THEN it is stored too, not dropped as a duplicate
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    # AND the officer names the kiosk when two hold the id
    officer = token_headers(people_client, server_setup.user(Role.OFFICER))
    path = f"/v1/referrals/{record_a.transaction_id}"
    assert people_client.get(path, headers=officer).status_code == 409
    named = people_client.get(f"{path}?kiosk_id={server_setup.device}", headers=officer)
    assert named.status_code == 200 and named.json()["kiosk_id"] == server_setup.device
    assert named.headers["cache-control"] == "no-store"
    # WHEN kiosk A resends the id with a different decision
    changed = {**decision_payload(record_a), "decision": "reject"}
    conflict = device_client.post("/v1/kiosk/decisions", json={"items": [changed]})
    # THEN that is a 409 naming the transaction; the identical resend is a duplicate
    assert conflict.status_code == 409 and record_a.transaction_id in conflict.json()["detail"]
    same = device_client.post("/v1/kiosk/decisions", json={"items": [decision_payload(record_a)]})
    assert same.status_code == 200 and same.json()["duplicates"] == 1
