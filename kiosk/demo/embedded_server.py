"""The central server of the demo (`make demo`): the real server on a loopback port, with
TLS and client certificates, an SQLite database and its device CA under the demo's data
directory. Starting it enrols the demo kiosk, creates the demo officer account (if missing)
and gives the kiosk configuration that syncs to it."""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.audit.signing import load_signing_key, public_key_pem
from kiosk.config import KioskConfig
from models.errors import KioskError
from server.accounts import AccountError, add_user, enrol_device, write_device_credentials
from server.app import build_state
from server.config import ServerConfig
from server.runner import ServerThread
from server.security.tokens import Role
from server.state import ServerState

log = logging.getLogger(__name__)

DEMO_OFFICER = ("officer", "officer-demo")
SYNC_INTERVAL_S = 1.0


class EmbeddedServerError(KioskError):
    code = "demo_server"
    user_message = "The demo server could not be started."


class EmbeddedServer:
    """``with EmbeddedServer(dir, kiosk_id) as server: config = server.kiosk_config(config)``."""

    def __init__(
        self, data_dir: Path, kiosk_id: str, *, port: int = 0, audit_key_file: Path | None = None
    ) -> None:
        """``audit_key_file``: the kiosk's audit signing key, enrolled with the kiosk (default
        the kiosk's default, ``audit-signing.pem`` in the directory above ``data_dir``)."""
        self.data_dir = data_dir
        self.kiosk_id = kiosk_id
        self.audit_key_file = audit_key_file or data_dir.parent / "audit-signing.pem"
        self.config = ServerConfig(data_dir=data_dir, host="127.0.0.1", port=port, tls=True)
        self._state: ServerState | None = None
        self._thread: ServerThread | None = None

    @property
    def url(self) -> str:
        if self._thread is None:
            raise EmbeddedServerError("the demo server is not running")
        return self._thread.url

    @property
    def state(self) -> ServerState:
        """The running server's state (its database, for adding accounts)."""
        if self._state is None:
            raise EmbeddedServerError("the demo server is not running")
        return self._state

    @property
    def credentials(self) -> Path:
        return self.data_dir / "kiosk-credentials"

    def start(self) -> EmbeddedServer:
        try:
            self._state = build_state(self.config)
            self._add_officer(self._state)
            audit_key = public_key_pem(load_signing_key(self.audit_key_file).public_key())
            enrolled = enrol_device(
                self._state.database, self._state.ca, self.kiosk_id, days=30,
                audit_public_key_pem=audit_key,
            )  # fmt: skip
            self._thread = ServerThread(self.config, state=self._state).start()
        except (OSError, RuntimeError) as exc:
            self.stop()
            raise EmbeddedServerError(f"demo server: {type(exc).__name__}") from exc
        write_device_credentials(enrolled, self.credentials, self.url)
        log.info("demo server on %s, kiosk %s enrolled", self.url, self.kiosk_id)
        return self

    @staticmethod
    def _add_officer(state: ServerState) -> None:
        try:
            add_user(state.database, DEMO_OFFICER[0], Role.OFFICER, DEMO_OFFICER[1], actor="demo")
        except AccountError:
            pass  # created by an earlier demo run

    def kiosk_config(self, config: KioskConfig) -> KioskConfig:
        """``config`` syncing to this server with the enrolled kiosk's credentials, pinning
        its change-signing and list-signing keys."""
        signing_key = self.credentials / "change-signing.pub.pem"
        list_key = self.credentials / "list-signing.pub.pem"
        if self._state is not None:
            signing_key.write_text(self._state.signer.public_key_pem, encoding="ascii")
            list_key.write_text(self._state.list_signer.public_key_pem, encoding="ascii")
        central = config.central.model_copy(
            update={"signing_public_key": signing_key, "list_signing_public_keys": [list_key]}
        )
        sync = config.sync.model_copy(
            update={
                "server_url": self.url,
                "client_cert": self.credentials / "kiosk.pem",
                "client_key": self.credentials / "kiosk.key",
                "ca_cert": self.credentials / "ca.pem",
                "interval_s": SYNC_INTERVAL_S,
                "backoff_cap_s": 5.0,
            }
        )
        return config.model_copy(update={"sync": sync, "central": central})

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        if self._state is not None:
            self._state.close()
            self._state = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
