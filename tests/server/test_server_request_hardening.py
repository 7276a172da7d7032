"""The smaller holes: max_batch_items enforced (413, which the relay splits on), a chunked
oversized body is 413, credentials are checked before a body is parsed, TLS offers only
AEAD suites, no /docs page with CDN scripts, personal-data answers are not cached."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from kiosk.storage.recorder import decision_payload, record_transaction
from kiosk.sync.backoff import Backoff
from kiosk.sync.client import ServerClient
from kiosk.sync.relay import OutboxRelay
from server.security.tokens import Role

pytestmark = pytest.mark.postgres


def test_max_batch_items_is_enforced_and_the_relay_splits(
    server_setup, running_server, kiosk_database, decided, kiosk_config_factory, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a server that takes at most 4 items per batch, and a kiosk sending 10 at once
    server_setup.state.config.max_batch_items = 4
    for index in range(10):
        record_transaction(kiosk_database, decided(index, server_setup.device))
    config = kiosk_config_factory(server_setup, tmp_path / "k", running_server.url)
    with ServerClient(config.sync) as client:
        # WHEN the batch is posted as is: THEN 413 naming the limit
        batch = [decision_payload(decided(i, server_setup.device)) for i in range(10)]
        answer = client._http.post("/v1/kiosk/decisions", json={"items": batch})
        assert answer.status_code == 413 and "max_batch_items" in answer.json()["detail"]
        # AND the relay, which splits on 413, still delivers everything
        relay = OutboxRelay(kiosk_database, client, batch_size=10, backoff=Backoff())
        assert relay.drain().sent == 10


def test_a_chunked_oversized_body_is_413_and_credentials_come_first(
    server_setup, running_server
) -> None:  # type: ignore[no-untyped-def]
    limit = server_setup.config.max_body_bytes
    context = ssl.create_default_context(cafile=str(server_setup.credentials / "ca.pem"))
    with httpx.Client(base_url=running_server.url, verify=context) as client:
        # GIVEN an administrator's token; WHEN a body larger than the limit is streamed
        # (chunked: no Content-Length)
        name = server_setup.user(Role.ADMINISTRATOR)
        token = client.post(
            "/v1/auth/token", json={"username": name, "password": "correct horse battery staple"}
        ).json()["access_token"]

        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(limit // 65536 + 2):
                yield b" " * 65536

        streamed = client.post(
            "/v1/admin/lists/watchlist", content=chunks(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        # THEN 413, which the kiosk's relay splits on (not 400)
        assert streamed.status_code == 413
        # WHEN a body that is not even JSON comes without credentials, to a person's and a
        # kiosk's endpoint: THEN 401, the body is never parsed
        garbage = b"{" * 1000
        assert client.post("/v1/admin/lists/watchlist", content=garbage).status_code == 401
        assert client.post("/v1/kiosk/decisions", content=garbage).status_code == 401
        forged = {"Authorization": "Bearer not.a.token"}
        assert client.post("/v1/admin/users", content=garbage, headers=forged).status_code == 401


def test_tls_offers_aead_suites_only(server_setup, running_server) -> None:  # type: ignore[no-untyped-def]
    ca = str(server_setup.credentials / "ca.pem")

    def handshake(ciphers: str) -> str | None:
        context = ssl.create_default_context(cafile=ca)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(ciphers)
        with socket.create_connection(("127.0.0.1", running_server.port)) as raw:
            try:
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    cipher = tls.cipher()
                    return cipher[0] if cipher else None
            except ssl.SSLError:
                return None

    # GIVEN a TLS 1.2 client that offers only CBC suites: THEN no handshake
    assert handshake("ECDHE+AES256+SHA384:ECDHE+AES128+SHA256:AES128-SHA:AES256-SHA") is None
    # AND with AES-GCM on offer, that is what is agreed
    assert "GCM" in (handshake("ECDHE+AESGCM") or "")


def test_no_cdn_docs_and_no_caching_of_personal_data(
    people_client, server_setup, token_headers
) -> None:  # type: ignore[no-untyped-def]
    assert people_client.get("/docs").status_code == 404
    assert people_client.get("/redoc").status_code == 404
    assert people_client.get("/openapi.json").status_code == 200
    officer = token_headers(people_client, server_setup.user(Role.OFFICER))
    answer = people_client.get("/v1/referrals", headers=officer)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
