"""GIVEN the officer booth's referral sources WHEN used rightly and wrongly THEN the local
one stores, audits and refuses what it must, and the HTTP one speaks the server's API and
turns every bad answer into a typed error."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from kiosk.audit.log import AuditLog
from kiosk.config import load_config
from kiosk.officer.accounts import OfficerAccounts
from kiosk.officer.local import RESOLUTION_MESSAGE, LocalReferralSource
from kiosk.officer.referrals import (
    LoginFailedError,
    NoteRequiredError,
    OfficerSession,
    ReferralClosedError,
    ReferralNotFoundError,
    SessionExpiredError,
    SourceUnavailableError,
)
from kiosk.officer.remote import (
    HttpReferralSource,
    LoginAddressThrottledError,
    LoginThrottledError,
)
from kiosk.officer.samples import seed_sample_referrals
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database, open_database
from models.records import ReferralOutcome
from models.tables import AuditEntryRow, OutboxMessageRow


@pytest.fixture(autouse=True)
def _no_kiosk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KIOSK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(load_config(data_dir=tmp_path, kiosk_id="kiosk-off"))
    yield db
    db.close()


@pytest.fixture
def source(database: Database, tmp_path: Path) -> LocalReferralSource:
    accounts = OfficerAccounts.load(tmp_path / "officers.json")
    accounts.add("officer1", "a good password")
    cipher = BlobCipher(base64.b64decode(base64.b64encode(bytes(range(32)))))
    audit = AuditLog(Ed25519PrivateKey.generate(), kiosk_id="kiosk-off")
    seed_sample_referrals(database, cipher, audit, "kiosk-off")
    return LocalReferralSource(database, accounts, cipher=cipher, audit=audit)


def test_accounts_are_stored_hashed_in_a_private_file(tmp_path: Path) -> None:
    accounts = OfficerAccounts.load(tmp_path / "officers.json")
    accounts.add("officer1", "a good password")
    path = tmp_path / "officers.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "a good password" not in path.read_text()
    reloaded = OfficerAccounts.load(path)
    assert reloaded.verify("officer1", "a good password").officer_id == "officer1"
    with pytest.raises(LoginFailedError):
        reloaded.verify("officer1", "wrong")
    with pytest.raises(LoginFailedError):
        reloaded.verify("nobody", "a good password")


def test_a_resolution_needs_a_note_and_happens_once(
    source: LocalReferralSource, database: Database
) -> None:
    officer = source.login("officer1", "a good password")
    queue = source.open_referrals(officer)
    assert [r.hit for r in queue] == [True, False]  # the watchlist hit first
    first = queue[1].transaction_id
    detail = source.referral(officer, first)
    assert detail.chip_portrait and detail.live_capture and detail.face_score == 0.71
    assert detail.document["Issuing state"] == "LCA"
    with pytest.raises(NoteRequiredError):
        source.resolve(officer, first, ReferralOutcome.REFUSED, "  \n ")
    source.resolve(officer, first, ReferralOutcome.SECONDARY_INSPECTION, "to the back office")
    with pytest.raises(ReferralClosedError):
        source.resolve(officer, first, ReferralOutcome.ADMITTED, "again")
    with pytest.raises(ReferralNotFoundError):
        source.referral(officer, "no-such-transaction")
    assert [r.transaction_id for r in source.open_referrals(officer)] != [first]
    with database.read() as session:
        audited = session.scalars(select(AuditEntryRow)).all()
        outbox = session.scalars(
            select(OutboxMessageRow).where(OutboxMessageRow.kind == RESOLUTION_MESSAGE)
        ).all()
        resolved = [e for e in audited if e.action == "referral.resolved"]
        assert len(resolved) == 1 and resolved[0].actor == "officer:officer1"
        assert "back office" not in json.dumps(resolved[0].details)  # the note is not audited
        assert len(outbox) == 1 and outbox[0].payload["outcome"] == "secondary_inspection"


REFERRAL = {
    "transaction_id": "k1-0001",
    "kiosk_id": "k1",
    "status": "open",
    "reasons": ["watchlist_hit"],
    "created_at": "2026-11-22T08:00:00+00:00",
    "surname": "JOSEPH",
    "given_names": "MARIE ANGELA",
    "birth_date": "1987-03-14",
    "resolved_at": None,
    "officer": None,
    "outcome": None,
    "note": None,
}


def server(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/v1/auth/token":
        body = json.loads(request.content)
        if body["password"] != "pw":
            return httpx.Response(401, json={"detail": "login failed"})
        return httpx.Response(200, json={"access_token": "tok", "role": "officer"})
    if request.headers.get("Authorization") != "Bearer tok":
        return httpx.Response(401)
    if path == "/v1/referrals":
        return httpx.Response(200, json={"items": [REFERRAL]})
    if path == "/v1/referrals/k1-0001":
        checks = [
            {
                "name": "watchlist",
                "status": "failed",
                "reason": "watchlist_hit",
                "message": "score 0.93",
            }
        ]
        return httpx.Response(200, json={**REFERRAL, "checks": checks})
    if path == "/v1/referrals/k1-0001/resolution":
        return httpx.Response(200, json={"stored": True})
    if path == "/v1/referrals/k1-0002/resolution":
        return httpx.Response(409)
    return httpx.Response(404)


def test_the_http_source_speaks_the_officer_api() -> None:
    remote = HttpReferralSource("https://server", transport=httpx.MockTransport(server))
    try:
        with pytest.raises(LoginFailedError):
            remote.login("officer1", "nope")
        officer = remote.login("officer1", "pw")
        queue = remote.open_referrals(officer)
        assert [r.display_name for r in queue] == ["JOSEPH, MARIE ANGELA"]
        detail = remote.referral(officer, "k1-0001")
        assert detail.screening_hits[0].source == "Watchlist"
        remote.resolve(officer, "k1-0001", ReferralOutcome.ADMITTED, "ok")
        with pytest.raises(ReferralClosedError):
            remote.resolve(officer, "k1-0002", ReferralOutcome.ADMITTED, "ok")
        with pytest.raises(ReferralNotFoundError):
            remote.referral(officer, "nope")
        with pytest.raises(SessionExpiredError):
            remote.open_referrals(OfficerSession("officer1", token="stale"))
    finally:
        remote.close()


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, content=b"not json"),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"items": [{"transaction_id": "x"}]}),
        httpx.Response(200, json={"items": [{**REFERRAL, "surname": "X" * 500}]}),
        # a family field that names no family: a bad answer, never a made-up family
        httpx.Response(200, json={"items": [{**REFERRAL, "family_id": "f1"}]}),
        httpx.Response(
            200,
            json={
                "items": [{**REFERRAL, "family_id": "f1", "family_position": 3, "family_size": 2}]
            },  # fmt: skip
        ),
        httpx.Response(
            200,
            json={
                "items": [
                    {**REFERRAL, "family_id": "f 1; x", "family_position": 1, "family_size": 2}
                ]
            },  # fmt: skip
        ),
        httpx.Response(500),
    ],
)
def test_bad_server_answers_are_typed_errors(answer: httpx.Response) -> None:
    remote = HttpReferralSource("https://server", transport=httpx.MockTransport(lambda r: answer))
    try:
        with pytest.raises(SourceUnavailableError):
            remote.open_referrals(OfficerSession("officer1", token="tok"))
    finally:
        remote.close()


def test_an_unreachable_server_is_a_typed_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    remote = HttpReferralSource("https://server", transport=httpx.MockTransport(refuse))
    try:
        with pytest.raises(SourceUnavailableError):
            remote.login("officer1", "pw")
    finally:
        remote.close()


@pytest.mark.parametrize(
    ("answer", "address"),
    [
        ({"detail": "...", "throttled": "address", "retry_after_s": 300}, True),
        ({"detail": "...", "throttled": "account", "retry_after_s": 300}, False),
        ({"detail": "this account is throttled ..."}, False),  # a server before the field
        ("not json", False),
    ],
)
def test_a_throttled_login_says_what_is_throttled_and_for_how_long(
    answer: object, address: bool
) -> None:
    def throttled(_request: httpx.Request) -> httpx.Response:
        headers = {"Retry-After": "300"}
        if isinstance(answer, dict):
            return httpx.Response(429, json=answer, headers=headers)
        return httpx.Response(429, text=str(answer), headers=headers)

    remote = HttpReferralSource("https://server", transport=httpx.MockTransport(throttled))
    try:
        with pytest.raises(LoginThrottledError) as raised:
            remote.login("officer1", "pw")
    finally:
        remote.close()
    # the officer reads what is throttled, and for how long (5 min), never "429"
    assert isinstance(raised.value, LoginAddressThrottledError) is address
    message = raised.value.user_message
    assert "5 min 0 s" in message and "429" not in message
    assert ("network address" in message) is address
    assert raised.value.code == (
        "officer_login_address_throttled" if address else "officer_login_throttled"
    )
