"""Fixtures of the server tests: a private PostgreSQL schema for the session (dropped after),
a server state with an enrolled kiosk, the real server on a loopback port, a kiosk database.

When ``CI=true`` and PostgreSQL is unreachable the tests FAIL (they are not skipped)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.exc import OperationalError

from kiosk.audit.signing import load_signing_key, public_key_pem
from kiosk.config import KioskConfig, load_config
from kiosk.officer.remote import HttpReferralSource
from kiosk.storage.crypto_store import BlobCipher
from kiosk.storage.database import Database, open_database
from kiosk.sync.client import ServerClient
from kiosk.sync.service import SyncService
from models.records import (
    CheckResult,
    CheckStatus,
    DecidedTransaction,
    Decision,
    DocumentSummary,
    ReasonCode,
    ReferralSubject,
)
from models.server_tables import LoginAddressRow
from server.accounts import add_user, enrol_device, write_device_credentials
from server.app import build_state, create_app
from server.config import ServerConfig
from server.runner import ServerThread
from server.security.tokens import Role
from server.state import ServerState
from tests.server.browser import Browser
from tests.server.region import Region

POSTGRES_URL = os.environ.get(
    "KIOSK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_kiosk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KIOSK_") and name != "KIOSK_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@contextmanager
def private_schema(prefix: str) -> Iterator[str]:
    """A schema of its own in the machine's PostgreSQL, dropped afterwards; PostgreSQL
    unreachable fails the test in CI and skips it elsewhere."""
    engine = create_engine(POSTGRES_URL)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as exc:
        engine.dispose()
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {exc.__class__.__name__}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield schema
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A schema of its own for this test session in the machine's PostgreSQL."""
    with private_schema("kiosk_server_test") as schema:
        yield schema


@dataclass
class ServerSetup:
    config: ServerConfig
    state: ServerState
    device: str
    credentials: Path
    audit_key_file: Path

    @property
    def signing_public_key(self) -> Path:
        """The server's change-signing public key, as a kiosk pins it."""
        path = self.credentials / "change-signing.pub.pem"
        if not path.exists():
            path.write_text(self.state.signer.public_key_pem, encoding="ascii")
        return path

    @property
    def list_signing_public_key(self) -> Path:
        """The server's list-signing public key, as a kiosk pins it."""
        path = self.credentials / "list-signing.pub.pem"
        if not path.exists():
            path.write_text(self.state.list_signer.public_key_pem, encoding="ascii")
        return path

    def user(self, role: Role) -> str:
        """A fresh user with ``role``; its name."""
        name = f"{role.value}-{uuid.uuid4().hex[:6]}"
        add_user(self.state.database, name, role, PASSWORD)
        return name


@pytest.fixture(scope="session")
def list_signing_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """One list-signing key for the session's schema, as one region has one: the lists
    that tests leave in the schema verify at every later test's kiosk."""
    path = tmp_path_factory.mktemp("list-key") / "list-signing.pem"
    load_signing_key(path)
    return path.read_bytes()


def _with_list_key(data_dir: Path, key: bytes) -> Path:
    """``data_dir`` holding the region's list-signing key where a server process looks for
    it (``<data_dir>/list-signing.pem``), as the operator copies it to each host."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / "list-signing.pem"
    path.write_bytes(key)
    path.chmod(0o600)
    return data_dir


@pytest.fixture
def server_setup(pg_schema: str, tmp_path: Path, list_signing_key: bytes) -> Iterator[ServerSetup]:
    config = ServerConfig(
        data_dir=_with_list_key(tmp_path / "server", list_signing_key),
        database_url=POSTGRES_URL,
        database_schema=pg_schema,
        port=0,
        pool_size=4,
    )
    state = build_state(config)
    # every test logs in from loopback: each starts with the whole budget of failed logins
    # per address (the schema is the session's)
    with state.database.session() as session:
        session.execute(delete(LoginAddressRow))
    device = f"kiosk-{uuid.uuid4().hex[:8]}"
    # the kiosk's audit key exists before enrolment, which requires its public half
    audit_key_file = tmp_path / "kiosk-audit-signing.pem"
    audit_key = public_key_pem(load_signing_key(audit_key_file).public_key())
    enrolled = enrol_device(state.database, state.ca, device, days=30,
                            audit_public_key_pem=audit_key)  # fmt: skip
    credentials = tmp_path / "credentials"
    write_device_credentials(enrolled, credentials, "https://127.0.0.1")
    try:
        yield ServerSetup(config, state, device, credentials, audit_key_file)
    finally:
        state.close()


@pytest.fixture
def running_server(server_setup: ServerSetup) -> Iterator[ServerThread]:
    with ServerThread(server_setup.config, state=server_setup.state) as server:
        yield server


def kiosk_config_for(
    setup: ServerSetup, home: Path, server_url: str, **sync: object
) -> KioskConfig:
    return load_config(
        data_dir=home,
        kiosk_id=setup.device,
        storage={"audit_key_file": str(setup.audit_key_file)},
        central={
            "signing_public_key": str(setup.signing_public_key),
            "list_signing_public_keys": [str(setup.list_signing_public_key)],
        },
        sync={
            "server_url": server_url,
            "client_cert": str(setup.credentials / "kiosk.pem"),
            "client_key": str(setup.credentials / "kiosk.key"),
            "ca_cert": str(setup.credentials / "ca.pem"),
            **sync,
        },
    )


@pytest.fixture
def kiosk_database(tmp_path: Path, server_setup: ServerSetup) -> Iterator[Database]:
    config = load_config(
        data_dir=tmp_path / "kiosk",
        kiosk_id=server_setup.device,
        storage={"audit_key_file": str(server_setup.audit_key_file)},
    )
    database = open_database(config)
    try:
        yield database
    finally:
        database.close()


def make_decided(index: int, kiosk_id: str, *, now: datetime | None = None) -> DecidedTransaction:
    """Transaction ``index`` of a kiosk: every third one referred, the others accepted."""
    decided = (now or datetime.now(UTC)) - timedelta(minutes=5)
    refer = index % 3 == 0
    return DecidedTransaction(
        transaction_id=f"{kiosk_id}-{index:06d}",
        kiosk_id=kiosk_id,
        started_at=decided - timedelta(seconds=8),
        decided_at=decided,
        decision=Decision.REFER if refer else Decision.ACCEPT,
        reasons=(ReasonCode.BIOMETRIC_MISMATCH,) if refer else (),
        checks=(
            CheckResult("sod_signature", CheckStatus.PASSED),
            CheckResult("face_match", CheckStatus.FAILED if refer else CheckStatus.PASSED),
        ),
        document=DocumentSummary("P", "UTO", "UTO", date(2031, 1, 1), "ab" * 32, True),
        referral_subject=ReferralSubject("ERIKSSON", "ANNA", date(1974, 8, 12)) if refer else None,
        timings_ms={"chip": 800.0, "face": 1200.0},
        policy="caricom",
    )


MakeDecided = Callable[[int, str], DecidedTransaction]


@pytest.fixture
def decided() -> MakeDecided:
    return make_decided


@pytest.fixture
def kiosk_config_factory() -> Callable[..., KioskConfig]:
    return kiosk_config_for


def with_client_certificate(app: Any, cert_pem: str) -> Any:
    """The app as uvicorn with :class:`server.tls.ClientCertH11Protocol` would call it for a
    connection that presented ``cert_pem`` (for in-process tests)."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["extensions"] = {"tls": {"client_cert_chain": [cert_pem]}}
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
def asgi_app(server_setup: ServerSetup) -> Any:
    return create_app(server_setup.config, state=server_setup.state)


@pytest.fixture
def device_client(server_setup: ServerSetup, asgi_app: Any) -> Iterator[TestClient]:
    """An in-process client presenting the enrolled kiosk's certificate."""
    pem = (server_setup.credentials / "kiosk.pem").read_text()
    with TestClient(
        with_client_certificate(asgi_app, pem), base_url="https://testserver"
    ) as client:
        yield client


@pytest.fixture
def as_device(asgi_app: Any) -> Callable[[str], TestClient]:
    """An in-process client presenting another device's certificate (use ``with``)."""
    return lambda pem: TestClient(
        with_client_certificate(asgi_app, pem), base_url="https://testserver"
    )


@pytest.fixture
def people_client(asgi_app: Any) -> Iterator[TestClient]:
    """An in-process client without a certificate (people log in with tokens)."""
    with TestClient(asgi_app, base_url="https://testserver") as client:
        yield client


def login(client: TestClient, name: str) -> dict[str, str]:
    answer = client.post("/v1/auth/token", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def token_headers() -> Callable[[TestClient, str], dict[str, str]]:
    return login


# --- the officer control room: the real server on SQLite or PostgreSQL, a syncing kiosk ------


@dataclass
class ControlRoom:
    """A running server, one enrolled kiosk (database, cipher, sync) and its site."""

    state: ServerState
    server: ServerThread
    device: str
    credentials: Path
    kiosk_config: KioskConfig
    kiosk_db: Database
    cipher: BlobCipher
    dialect: str
    site: str  # unique per test: the PostgreSQL schema is shared by the session's tests

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ca(self) -> str:
        return str(self.credentials / "ca.pem")

    def officer(self, role: Role = Role.OFFICER, site: str | None = "") -> str:
        name = f"{role.value}-{uuid.uuid4().hex[:6]}"
        add_user(self.state.database, name, role, PASSWORD, site=self.site if site == "" else site)
        return name

    def booth(self) -> HttpReferralSource:
        return HttpReferralSource(self.url, verify=self.ca, face_threshold=0.6)

    def sync(self) -> None:
        with ServerClient(self.kiosk_config.sync) as client:
            report = SyncService(
                self.kiosk_config, self.kiosk_db, client, cipher=self.cipher
            ).run_once()
        assert report.ok, report


def _public_key_file(state: ServerState, directory: Path) -> Path:
    path = directory / "list-signing.pub.pem"
    path.write_text(state.list_signer.public_key_pem, encoding="ascii")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def room(
    request: pytest.FixtureRequest, tmp_path: Path, list_signing_key: bytes
) -> Iterator[ControlRoom]:
    if request.param == "postgresql":
        schema = request.getfixturevalue("pg_schema")
        database = {"database_url": POSTGRES_URL, "database_schema": schema}
    else:
        database = {"database_url": f"sqlite:///{tmp_path / 'server.db'}"}
    config = ServerConfig(
        data_dir=_with_list_key(tmp_path / "server", list_signing_key),
        port=0,
        pool_size=8,
        **database,
    )
    state = build_state(config)
    device = f"gate-{uuid.uuid4().hex[:8]}"
    site = f"S{uuid.uuid4().hex[:8]}"
    # the kiosk's own audit key (its default place under its data directory), enrolled
    (tmp_path / "kiosk").mkdir(parents=True, exist_ok=True)
    audit_key = public_key_pem(
        load_signing_key(tmp_path / "kiosk" / "audit-signing.pem").public_key()
    )
    enrolled = enrol_device(state.database, state.ca, device, days=30,
                            audit_public_key_pem=audit_key, site=site)  # fmt: skip
    credentials = tmp_path / "credentials"
    write_device_credentials(enrolled, credentials, "https://127.0.0.1")
    server = ServerThread(config, state=state).start()
    kiosk_config = load_config(
        data_dir=tmp_path / "kiosk",
        kiosk_id=device,
        site=site,
        sync={
            "server_url": server.url,
            "client_cert": str(credentials / "kiosk.pem"),
            "client_key": str(credentials / "kiosk.key"),
            "ca_cert": str(credentials / "ca.pem"),
        },
        wall={"commands_wait_s": 1, "heartbeat_s": 5},
        central={"list_signing_public_keys": [str(_public_key_file(state, credentials))]},
    )
    kiosk_db = open_database(kiosk_config)
    try:
        yield ControlRoom(
            state,
            server,
            device,
            credentials,
            kiosk_config,
            kiosk_db,
            BlobCipher(bytes(range(32))),
            request.param,
            site,
        )
    finally:
        kiosk_db.close()
        server.stop()
        state.close()


@pytest.fixture
def region(server_setup, tmp_path: Path) -> Iterator[Region]:  # type: ignore[no-untyped-def]
    started = Region(server_setup, tmp_path)
    try:
        yield started.start()
    finally:
        started.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Debian's headless chromium on a profile of its own (tests/server/browser.py)."""
    chromium = Browser(tmp_path / "chromium-profile")
    try:
        yield chromium
    finally:
        chromium.close()
