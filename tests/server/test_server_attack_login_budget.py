"""A login flood of made-up names from one address, against two real server processes
behind HAProxy (TCP mode, TLS passed through, PROXY v2) on one PostgreSQL.

Every made-up name is a new (user, address) pair, so the per-account throttle never saw a
second attempt and each guess cost an argon2 verification (64 MiB) on the cores the kiosks'
ingestion shares. The address now has a budget of failed logins, counted in the database
before the user is read or argon2 runs: past it, the address is blocked and answered 429
(what is throttled and for how long) by every process, without verifying anything; a real
officer at another address still logs in, and the booth tells the officer at the blocked
address why and for how long."""

from __future__ import annotations

import dataclasses
import ssl
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kiosk.officer.remote import HttpReferralSource, LoginAddressThrottledError
from models.server_tables import ServerAuditEventRow
from server.security import login_throttle
from server.security.tokens import Role
from tests.server.conftest import PASSWORD
from tests.server.region import Region, login_from, metric

ATTACKER = "127.0.2.1"
BOOTH = "127.0.2.2"
BUDGET = 5
# a window and a block that outlast any slow machine: no assertion depends on the clock
LONG_S = 3600
VERIFIED = "kiosk_server_password_verifications_total"
REFUSED = "kiosk_server_auth_refused_total"


@pytest.fixture
def budget_region(server_setup, tmp_path: Path) -> Iterator[Region]:  # type: ignore[no-untyped-def]
    region = Region(
        server_setup,
        tmp_path,
        settings={
            "KIOSK_SERVER_LOGIN_ADDRESS_FAILURES": str(BUDGET),
            "KIOSK_SERVER_LOGIN_ADDRESS_WINDOW_S": str(LONG_S),
            "KIOSK_SERVER_LOGIN_ADDRESS_BLOCK_S": str(LONG_S),
            # the login gate's rate is another defence (503): out of this test's way
            "KIOSK_SERVER_LOGIN_BURST": "100",
        },
    )
    try:
        yield region.start()
    finally:
        region.stop()


def _guess(url: str, ca: Path) -> httpx.Response:
    return login_from(url, ca, ATTACKER, f"guess-{uuid.uuid4().hex[:8]}", "not the password at all")


def _flood_until_refused(url: str, ca: Path, clients: int = 6, cap: int = 200) -> list[int]:
    """``clients`` threads guessing made-up names back to back until one is told 429 (or
    ``cap`` answers in all); every answer's status."""
    statuses: list[int] = []
    refused = threading.Event()
    lock = threading.Lock()

    def guess() -> None:
        while not refused.is_set():
            status = _guess(url, ca).status_code
            with lock:
                statuses.append(status)
                if status == 429 or len(statuses) >= cap:
                    refused.set()

    threads = [threading.Thread(target=guess) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return statuses


def _verified(region: Region, ca: Path) -> float:
    return sum(metric(server, ca, VERIFIED) for server in region.servers)


@pytest.mark.postgres
def test_a_flood_of_made_up_names_is_refused_past_the_address_budget_without_argon2(
    server_setup, budget_region
) -> None:  # type: ignore[no-untyped-def]
    region, ca = budget_region, server_setup.credentials / "ca.pem"
    url = region.balancer.url
    officer = server_setup.user(Role.OFFICER)
    # WHEN an attacker floods both processes with wrong passwords for made-up names, from
    # one address, until it is refused
    statuses = _flood_until_refused(url, ca)
    # THEN argon2 ran for the budget's attempts and no more, whichever process took them
    assert 429 in statuses and set(statuses) <= {401, 429, 503}
    assert statuses.count(401) == BUDGET
    assert _verified(region, ca) == BUDGET
    # AND every further attempt from that address, at either process, is refused without
    # verifying a password, and says that the address is throttled and for how long
    for _ in range(6):
        answer = _guess(url, ca)
        assert answer.status_code == 429
        body, wait = answer.json(), int(answer.headers["Retry-After"])
        assert body["throttled"] == "address" and body["retry_after_s"] == wait
        assert 1 <= wait <= LONG_S and f"try again in {wait} s" in body["detail"]
    assert _verified(region, ca) == BUDGET
    for server in region.servers:  # the block is in the database: both processes refuse
        assert metric(server, ca, REFUSED, 'kind="login_address_throttled"') >= 1
    # AND the officer at another address logs in (one verification, the officer's own)
    assert login_from(url, ca, BOOTH, officer, PASSWORD).status_code == 200
    assert _verified(region, ca) == BUDGET + 1
    # AND a booth at the blocked address is told so, even with the right password (not
    # verified either), with the wait, and not "server answered 429"
    context = ssl.create_default_context(cafile=str(ca))
    booth = HttpReferralSource(
        url, transport=httpx.HTTPTransport(local_address=ATTACKER, verify=context)
    )
    try:
        with pytest.raises(LoginAddressThrottledError) as throttled:
            booth.login(officer, PASSWORD)
    finally:
        booth.close()
    message = throttled.value.user_message
    assert "address" in message and "throttled" in message and "429" not in message
    assert 1 <= throttled.value.retry_after_s <= LONG_S
    assert _verified(region, ca) == BUDGET + 1
    # AND the block is audited with the attacker's address (never the balancer's)
    with server_setup.state.database.sessions() as session:
        blocks = session.scalars(
            select(ServerAuditEventRow).where(
                ServerAuditEventRow.action == "login.address_throttled"
            )
        ).all()
    assert blocks and {row.details["address"] for row in blocks} == {ATTACKER}


def test_a_success_takes_back_its_own_attempt_only(server_setup, people_client) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a budget of 3 failed logins per address, and an officer at that address
    state = server_setup.state
    state.address_budget = dataclasses.replace(state.address_budget, failures=3)
    officer = server_setup.user(Role.OFFICER)

    def attempt(name: str, password: str = "not the password at all") -> int:
        answer = people_client.post("/v1/auth/token", json={"username": name, "password": password})
        return answer.status_code

    # WHEN two made-up names fail, the officer logs in, and made-up names go on failing
    statuses = [attempt("guess-a"), attempt("guess-b"), attempt(officer, PASSWORD)]
    statuses += [attempt("guess-c"), attempt("guess-d")]
    # THEN the success neither counted against the address nor cleared its failures: the
    # third failure is the last of the budget
    assert statuses == [401, 401, 200, 401, 429]
    # AND the officer, at the blocked address, is refused too (the address, not the account)
    assert attempt(officer, PASSWORD) == 429


def test_the_address_budget_slides_and_its_blocks_double(server_setup) -> None:  # type: ignore[no-untyped-def]
    policy = login_throttle.AddressPolicy(failures=3, window_s=60, block_s=100, block_max_s=400)
    start = datetime.now(UTC)
    database = server_setup.state.database

    def count(address: str, after_s: float) -> int | None:
        with database.session() as session:
            return login_throttle.count_address_attempt(
                session, policy, address, start + timedelta(seconds=after_s)
            )

    # GIVEN three failures from 10.1.0.1 within a minute
    assert [count("10.1.0.1", t) for t in (0, 10, 20)] == [None, None, None]
    # THEN the first has left the window at 60 s: one more attempt counts, the next blocks
    assert count("10.1.0.1", 61) is None
    assert count("10.1.0.1", 62) == 100
    # AND while blocked nothing counts; another address is untouched
    assert count("10.1.0.1", 150) == 12
    assert count("10.1.0.2", 150) is None
    # WHEN the block is over, the address has its whole budget again
    assert [count("10.1.0.1", t) for t in (162, 163, 164)] == [None, None, None]
    # AND the next block, soon after the first, lasts twice as long, then at most 400 s
    assert count("10.1.0.1", 165) == 200
    assert [count("10.1.0.1", t) for t in (365, 366, 367)] == [None, None, None]
    assert count("10.1.0.1", 368) == 400
    assert [count("10.1.0.1", t) for t in (768, 769, 770)] == [None, None, None]
    assert count("10.1.0.1", 771) == 400
    # AND after a quiet block_max_s since the last block, the doubling starts again
    later = 771 + 400 + 401
    assert [count("10.1.0.1", t) for t in (later, later + 1, later + 2)] == [None, None, None]
    assert count("10.1.0.1", later + 3) == 100
    # AND an attempt taken back (a success, an account throttled) frees its place only
    assert [count("10.1.0.3", t) for t in (0, 1, 2)] == [None, None, None]
    with database.session() as session:
        login_throttle.uncount_address_attempt(session, "10.1.0.3", start + timedelta(seconds=1))
    assert count("10.1.0.3", 3) is None
    assert count("10.1.0.3", 4) == 100


def test_an_attempt_refused_for_its_account_is_not_held_against_its_address(
    server_setup, people_client
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN an address budget larger than an account's free attempts, and one account
    state = server_setup.state
    state.address_budget = dataclasses.replace(state.address_budget, failures=5)
    state.throttle = dataclasses.replace(state.throttle, delay_s=600.0)
    officer = server_setup.user(Role.OFFICER)

    def attempt(name: str) -> Any:
        return people_client.post(
            "/v1/auth/token", json={"username": name, "password": "not the password at all"}
        )

    free = state.throttle.free_attempts
    assert [attempt(officer).status_code for _ in range(free)] == [401] * free
    # WHEN the throttled account is tried again and again (within the login gate's burst)
    retries = [attempt(officer) for _ in range(4)]
    # THEN each is refused for the account, not counted against the address
    assert {r.status_code for r in retries} == {429}
    assert {r.json()["throttled"] for r in retries} == {"account"}
    remaining = state.address_budget.failures - free
    assert [attempt(f"guess-{n}").status_code for n in range(remaining)] == [401] * remaining
    assert attempt("guess-last").json()["throttled"] == "address"


def test_a_process_remembers_a_block_until_it_ends() -> None:
    now = [0.0]
    blocks = login_throttle.AddressBlocks(size=2, clock=lambda: now[0])
    blocks.note("10.2.0.1", 30)
    now[0] = 10.5
    assert blocks.wait_s("10.2.0.1") == 20 and blocks.wait_s("10.2.0.2") is None
    now[0] = 30.0
    assert blocks.wait_s("10.2.0.1") is None
    # AND it holds at most `size` addresses, forgetting the block that ends first
    blocks.note("10.2.0.1", 100)
    blocks.note("10.2.0.2", 50)
    blocks.note("10.2.0.3", 200)
    assert blocks.wait_s("10.2.0.2") is None
    assert blocks.wait_s("10.2.0.1") == 100 and blocks.wait_s("10.2.0.3") == 200
