"""Attacks on logging in, against the real server on loopback (uvicorn, TLS):

- a flood of 40 concurrent wrong passwords (no credentials needed): argon2 runs on at most
  ``login_concurrency`` threads of its own, the rest is refused at once (503), and a
  kiosk's batch posted meanwhile is stored within the kiosk's timeout;
- concurrent guesses at one account: each is counted before argon2 runs, so no more than the
  free attempts are ever verified;
- lockout as a weapon: the throttle is per (user, address), with the address taken from
  X-Forwarded-For only from a trusted proxy; the booth says the account is throttled and
  for how long instead of "server answered 429"."""

from __future__ import annotations

import dataclasses
import ssl
import threading
import uuid
from ipaddress import IPv4Network
from typing import Any

import httpx
import pytest

import server.api.login_routes as login_routes
from kiosk.officer.referrals import LoginFailedError
from kiosk.officer.remote import (
    HttpReferralSource,
    LoginAddressThrottledError,
    LoginThrottledError,
)
from kiosk.storage.recorder import decision_payload
from kiosk.sync.client import ServerClient
from server.security.tokens import Role

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"


class VerificationProbe:
    """Wraps the real argon2 verification to see how many run at once, and for whom."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.users: list[str] = []
        self.started = threading.Event()

    def __call__(self, password_hash: str | None, password: str) -> bool:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        self.started.set()
        try:
            return bool(self.real(password_hash, password))
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> VerificationProbe:
    wrapper = VerificationProbe(login_routes.verify_password)
    monkeypatch.setattr(login_routes, "verify_password", wrapper)
    return wrapper


def _ca(setup: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(setup.credentials / "ca.pem"))


def _flood(url: str, context: ssl.SSLContext, names: list[str]) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(len(names))

    def guess(name: str) -> None:
        with httpx.Client(base_url=url, verify=context, timeout=60) as client:
            barrier.wait()
            answer = client.post("/v1/auth/token", json={"username": name, "password": "x" * 20})
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_login_flood_neither_exhausts_the_server_nor_delays_kiosks(
    server_setup, running_server, probe, kiosk_config_factory, decided, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a kiosk with a batch to send, with its usual 10 s timeout
    config = kiosk_config_factory(server_setup, tmp_path / "k", running_server.url)
    assert config.sync.timeout_s == 10.0
    batch = [decision_payload(decided(i, server_setup.device)) for i in range(50)]
    answers: list[Any] = []

    def kiosk() -> None:
        probe.started.wait(60)  # once argon2 is busy with the flood
        with ServerClient(config.sync) as client:
            answers.append(client.post_batch("decisions", batch))

    sender = threading.Thread(target=kiosk)
    sender.start()
    # WHEN 40 wrong passwords for 40 names arrive at once
    names = [f"guess-{uuid.uuid4().hex[:8]}" for _ in range(40)]
    statuses = _flood(running_server.url, _ca(server_setup), names)
    sender.join(60)
    # THEN argon2 ran on at most `login_concurrency` threads, the rest was refused at once
    assert probe.peak <= server_setup.config.login_concurrency
    assert sorted(set(statuses)) <= [401, 503] and len(statuses) == 40
    # AND the kiosk's batch was stored (a failure or a 10 s timeout would have raised)
    assert answers and answers[0]["accepted"] == 50


def test_concurrent_guesses_at_one_account_are_counted_before_argon2(
    server_setup, running_server, probe
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN an officer's account
    officer = server_setup.user(Role.OFFICER)
    # WHEN 10 wrong passwords for it arrive at once from one address
    statuses = _flood(running_server.url, _ca(server_setup), [officer] * 10)
    # THEN at most the free attempts reached argon2; the others were throttled (or busy)
    free = server_setup.config.login_free_attempts
    assert 1 <= statuses.count(401) <= free
    assert statuses.count(429) >= 1 and set(statuses) <= {401, 429, 503}


def test_the_booth_says_the_account_is_throttled_and_for_how_long(
    server_setup, running_server
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN the booth's client of the real server and an officer whose password is guessed
    # (a first wait of 50 s: a starved machine must not let the wait lapse before the last try)
    server_setup.state.throttle = dataclasses.replace(server_setup.state.throttle, delay_s=50.0)
    officer = server_setup.user(Role.OFFICER)
    source = HttpReferralSource(running_server.url, verify=str(server_setup.credentials / "ca.pem"))
    for _ in range(server_setup.config.login_free_attempts):
        with pytest.raises(LoginFailedError):
            source.login(officer, "not the password at all")
    # WHEN the officer then types the right password
    with pytest.raises(LoginThrottledError) as throttled:
        source.login(officer, PASSWORD)
    # THEN the booth is told the account (not its address) is throttled, for how many
    # seconds, not "429"
    assert not isinstance(throttled.value, LoginAddressThrottledError)
    assert 1 <= throttled.value.retry_after_s <= 50
    message = throttled.value.user_message
    assert "throttled" in message and f"{throttled.value.retry_after_s} s" in message
    assert "429" not in message
    source.close()  # its keep-alive connection would hold the server's shutdown


def test_the_client_address_comes_from_a_trusted_proxy_only(server_setup, running_server) -> None:  # type: ignore[no-untyped-def]
    anna = server_setup.user(Role.OFFICER)
    context = _ca(server_setup)

    def attempt(client: httpx.Client, forwarded: str, password: str = "wrong" * 4) -> int:
        answer = client.post(
            "/v1/auth/token",
            json={"username": anna, "password": password},
            headers={"X-Forwarded-For": forwarded},
        )
        return answer.status_code

    free = server_setup.config.login_free_attempts
    with httpx.Client(base_url=running_server.url, verify=context) as client:
        # GIVEN no trusted proxy: X-Forwarded-For is ignored, the peer (loopback) is the key
        assert [attempt(client, f"10.0.0.{i}") for i in range(free)] == [401] * free
        assert attempt(client, "10.0.0.99", PASSWORD) == 429
        # AND /metrics stays open to loopback whatever the header claims
        assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
        # WHEN loopback is a trusted proxy, the forwarded address is the key
        server_setup.state.config.trusted_proxies = [IPv4Network("127.0.0.1/32")]
        try:
            # THEN anna from another (real) client address may log in
            assert attempt(client, "198.51.100.7", PASSWORD) == 200
            # AND /metrics from a remote client through the proxy needs a token
            remote = {"X-Forwarded-For": "203.0.113.9"}
            assert client.get("/metrics", headers=remote).status_code == 401
        finally:
            server_setup.state.config.trusted_proxies = []


def test_the_login_gate_admits_a_bounded_rate() -> None:
    import asyncio

    from server.security.login_gate import LoginBusyError, LoginGate

    now = [0.0]
    gate = LoginGate(1, 100, rate_per_s=2.0, burst=3, clock=lambda: now[0])

    async def attempts(count: int) -> list[str]:
        outcomes = []
        for _ in range(count):
            try:
                outcomes.append(await gate.run(lambda: "verified"))
            except LoginBusyError:
                outcomes.append("busy")
        return outcomes

    try:
        # GIVEN a burst of 3 and 2 a second: WHEN 5 attempts come at once, THEN 3 pass
        assert asyncio.run(attempts(5)) == ["verified"] * 3 + ["busy"] * 2
        # AND one second later, two more
        now[0] = 1.0
        assert asyncio.run(attempts(3)) == ["verified"] * 2 + ["busy"]
    finally:
        gate.close()
