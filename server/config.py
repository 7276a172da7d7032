"""The central server's configuration.

Sources, strongest first: environment variables ``KIOSK_SERVER_...`` (nested keys joined by
``__``), the ``[server]`` table of the TOML file given with ``--config`` (or a file holding
only server keys), then the defaults: an embedded SQLite database and the device CA under
``data_dir``, listening on 127.0.0.1:8443 with TLS.
"""

from __future__ import annotations

import os
import tomllib
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from models.errors import ConfigError
from server.vetting.config import VettingConfig

DEFAULT_SERVER_DIR = Path(os.environ.get("KIOSK_SERVER_HOME", "var/server"))


MAX_TOKEN_LIFETIME_S = 12 * 3600
MIN_SECRET_CHARS = 32


def weak_secret(secret: str) -> str | None:
    """Why ``secret`` is too weak to sign tokens; None when it will do."""
    if len(secret) < MIN_SECRET_CHARS:
        return f"the token secret must have at least {MIN_SECRET_CHARS} characters"
    if len(set(secret)) < 10:
        return "the token secret is too repetitive (fewer than 10 different characters)"
    return None


def _loopback() -> list[IPv4Network | IPv6Network]:
    return [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]


class ServerConfig(BaseSettings):
    """Everything the server reads at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="KIOSK_SERVER_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = DEFAULT_SERVER_DIR
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/server.db"
    )
    database_schema: str | None = Field(
        None, pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="PostgreSQL schema (search_path)"
    )
    pool_size: int = Field(8, ge=1, le=100)
    # threads that run the synchronous endpoints (kiosk ingestion, booths): more than the
    # pooled connections (pool_size, as many again in overflow) only queue for the pool and
    # contend for the interpreter lock, which delays every statement's answer
    worker_threads: int = Field(16, ge=1, le=200)
    # what this process serves: "all"; "kiosks" (the /v1/kiosk endpoints only: an ingestion
    # process behind the balancer's kiosk port, which never sees a login); "people" (all
    # but the kiosk endpoints: logins, booths, analysts, administrators). Anything else is
    # answered 421 before it is routed or its body read.
    serves: Literal["all", "kiosks", "people"] = "all"
    host: str = "127.0.0.1"
    port: int = Field(8443, ge=0, le=65535)
    tls: bool = Field(True, description="serve HTTPS with client certificates (mutual TLS)")
    tls_cert: Path | None = Field(None, description="server certificate; default issued by the CA")
    tls_key: Path | None = None
    server_names: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1"],
        description="DNS names / IP addresses in the generated server certificate",
    )
    token_lifetime_s: int = Field(900, ge=30, le=MAX_TOKEN_LIFETIME_S)
    token_secret: SecretStr | None = Field(
        None,
        description="HS256 secret (at least 32 characters, not repetitive); default "
        "<data_dir>/token.secret, created on first run",
    )
    max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    max_batch_items: int = Field(500, ge=1, le=10_000)
    max_clock_skew_s: float = Field(300.0, ge=0, description="refuse times this far in future")
    device_cert_days: int = Field(825, ge=1, le=3650)
    # logins: argon2 verifications at once (each takes 64 MiB and ~140 ms of CPU) on their
    # own threads, away from the ingestion workers, at most login_rate_per_s a second (a
    # burst of login_burst); an attempt beyond the queue or the rate: 503 at once
    login_concurrency: int = Field(1, ge=1, le=64)
    login_queue: int = Field(8, ge=0, le=1000)
    login_rate_per_s: float = Field(2.0, gt=0, le=1000)
    login_burst: int = Field(10, ge=1, le=10_000)
    login_shed_delay_s: float = Field(1.0, ge=0, le=30, description="503s of a flood wait this")
    # failed logins per (user name, client address): the first login_free_attempts cost
    # nothing, then each further attempt waits login_delay_s, doubling, at most
    # login_delay_max_s; a success or login_reset_s without failure clears the count
    login_free_attempts: int = Field(3, ge=1, le=100)
    login_delay_s: float = Field(2.0, gt=0, le=3600)
    login_delay_max_s: float = Field(900.0, gt=0, le=86_400)
    login_reset_s: float = Field(3600.0, gt=0, le=7 * 86_400)
    # failed logins per client address, whatever the user names (made up or real): at most
    # login_address_failures in any login_address_window_s; the next attempt from the
    # address is then refused (429) before a user is read or argon2 runs, for
    # login_address_block_s, doubled for each further block up to login_address_block_max_s
    # (the doubling starts again once the address has had no block for that long); a success
    # does not count and clears nothing
    login_address_failures: int = Field(20, ge=1, le=1000)
    login_address_window_s: float = Field(300.0, gt=0, le=86_400)
    login_address_block_s: float = Field(300.0, gt=0, le=86_400)
    login_address_block_max_s: float = Field(3600.0, gt=0, le=7 * 86_400)
    # the client address is taken from X-Forwarded-For only when the connection comes from
    # one of these proxies (a TLS-terminating proxy); empty: the peer address, always
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    # TCP balancers (HAProxy ``send-proxy-v2``) whose connections begin with a PROXY v2
    # header naming the client: required from these addresses, believed from no other
    proxy_protocol_from: list[IPvAnyNetwork] = Field(default_factory=list)
    # connections: a request's headers within header_timeout_s, its body within
    # read_timeout_s, idle keep-alive for keep_alive_s, at most max_connections held (then
    # the longest idle one is closed); the unit's LimitNOFILE must be above max_connections
    header_timeout_s: float = Field(10.0, gt=0, le=300)
    handshake_timeout_s: float = Field(10.0, gt=0, le=300)
    read_timeout_s: float = Field(30.0, gt=0, le=600)
    keep_alive_s: int = Field(5, ge=1, le=300)
    max_connections: int = Field(4000, ge=10, le=1_000_000)
    # the database: connecting, each statement, waiting for a pooled connection; a pool
    # timeout is 503; /healthz answers within health_timeout_s whatever the database does
    db_connect_timeout_s: int = Field(3, ge=2, le=60)
    db_statement_timeout_s: float = Field(15.0, gt=0, le=600)
    db_pool_timeout_s: float = Field(2.0, gt=0, le=60)
    health_timeout_s: float = Field(0.8, gt=0, le=10)
    # personal data (names, birth dates of referrals; document summaries of decisions) is
    # purged this long after the referral or decision, checked every purge_interval_s
    retention_hours: float = Field(720.0, gt=0, le=24 * 3650)
    purge_interval_s: float = Field(3600.0, gt=0, le=86_400)
    # the Ed25519 key that signs approved configuration and trust changes; kiosks pin its
    # public key (kiosk central.signing_public_key); default <data_dir>/change-signing.pem
    change_signing_key: Path | None = None
    # the Ed25519 key that signs each lost/stolen, watchlist and manifest version as it is
    # written; kiosks pin its public key (kiosk central.list_signing_public_keys); default
    # <data_dir>/list-signing.pem
    list_signing_key: Path | None = None
    # /metrics: the Prometheus scraper usually runs on the server host itself, so clients
    # from these networks read it without credentials; any other client must present the
    # bearer token of a technician or an administrator. An empty list makes the token
    # mandatory for everyone. Behind a reverse proxy the proxy is the client: list it only
    # if it restricts /metrics itself.
    metrics_allow: list[IPvAnyNetwork] = Field(
        default_factory=_loopback,
        description="networks that read /metrics without a token (default loopback only)",
    )

    vetting: VettingConfig = Field(default_factory=VettingConfig)
    # the officer control room (issue 15)
    photo_retention_hours: float = Field(
        24.0,
        ge=0,
        le=24 * 90,
        description="referral photos are deleted this long after the referral is resolved",
    )
    photo_purge_interval_s: float = Field(300.0, gt=0, description="how often the purge runs")
    four_eyes_reasons: list[str] = Field(
        default_factory=lambda: ["watchlist_hit", "lost_or_stolen"],
        description="reason codes whose admission needs a second officer's approval",
    )
    photos_required_reasons: list[str] = Field(
        default_factory=lambda: ["biometric_mismatch"],
        description="reason codes that may be admitted only after the officer saw the photos",
    )
    claim_timeout_s: float = Field(
        600.0, gt=0, description="a claim not acted on for this long lapses"
    )
    approval_timeout_s: float = Field(
        1800.0,
        gt=0,
        description="an admission awaiting a second officer's approval this long expires "
        "(the referral reopens)",
    )
    lapse_interval_s: float = Field(
        30.0, gt=0, description="how often lapsed claims and expired approvals are released"
    )
    lane_offline_s: float = Field(
        30.0, gt=0, description="a lane silent this long shows as offline on the wall"
    )

    @field_validator("token_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            weak = weak_secret(value.get_secret_value())
            if weak:
                raise ValueError(weak)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'server.db'}"

    @property
    def ca_dir(self) -> Path:
        return self.data_dir / "ca"

    @property
    def change_signing_key_file(self) -> Path:
        return self.change_signing_key or self.data_dir / "change-signing.pem"

    @property
    def list_signing_key_file(self) -> Path:
        return self.list_signing_key or self.data_dir / "list-signing.pem"


def load_server_config(path: Path | str | None = None, **overrides: Any) -> ServerConfig:
    """The ``[server]`` table of ``path`` (if any) with ``overrides`` (None values ignored)."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            parsed = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: file not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
        section = parsed.get("server", {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [server] must be a table")
        data = dict(section)
    data.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return ServerConfig(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise ConfigError(f"server.{key}: {first['msg']}") from exc
