"""The kiosk's one typed configuration tree.

Sources, strongest first: environment variables ``KIOSK_...`` (nested keys joined by ``__``,
e.g. ``KIOSK_DEVICES__CAMERA__TYPE=opencv``), the TOML file named by ``--config`` or
``KIOSK_CONFIG``, then the defaults, which run the whole kiosk on simulated devices with an
embedded SQLite database under the data directory.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from hardware.config import DevicesConfig
from kiosk.policy.config import PolicyConfig
from kiosk.trust.config import TrustPinningConfig
from models.errors import ConfigError

DEFAULT_DATA_DIR = Path(os.environ.get("KIOSK_HOME", "var/kiosk"))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(_Section):
    url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/kiosk.db (WAL mode)"
    )
    echo: bool = False
    schema_name: str | None = Field(
        None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL only: the schema to use (search_path); default the server's",
    )
    busy_timeout_ms: int = Field(
        10_000, ge=0, le=600_000, description="SQLite only: wait this long for a write lock"
    )


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    json_lines: bool = False
    file: Path | None = None


class EncoderConfig(_Section):
    """One side's face encoder (``kiosk.face.sided.EncoderSettings``)."""

    num_jitters: int = Field(
        1, ge=1, le=100, description="encodings of jittered copies averaged per template"
    )
    landmarks: Literal[5, 68] = Field(68, description="landmarks that align the encoder's crop")


class FaceConfig(_Section):
    threshold: float = Field(
        0.5517,
        gt=0,
        lt=1.5,
        description="match when the face distance <= threshold; the default is the threshold "
        "at FMR 0.1 % on faces-lfw-dev with the shipped encoders of both sides (kiosk face "
        "calibrate): calibrate on your own travellers",
    )
    detect_max_side: int = Field(320, ge=80, le=2000)
    # the encoder settings of each side the default threshold was calibrated with: the chip
    # photo with 3 jitters (made once per traveller in its own worker while the traveller is
    # captured, off the critical path), the live frame with 1 (on it); change either and the
    # threshold must be calibrated again (kiosk face calibrate --reference-jitters/--live-jitters)
    reference: EncoderConfig = Field(
        default_factory=lambda: EncoderConfig(num_jitters=3),
        description="the chip photo's encoder",
    )
    live: EncoderConfig = Field(
        default_factory=lambda: EncoderConfig(num_jitters=1),
        description="the live frame's encoder (its time is on the accepted transaction's path)",
    )
    reference_process: bool = Field(
        True,
        description="make the chip photo's template in its own worker process, concurrently "
        "with the live capture (dlib holds the interpreter lock while it encodes, which would "
        "slow the capture of this process); the demo world's short-lived kiosks turn it off",
    )
    max_image_pixels: int = Field(50_000_000, gt=0)
    capture_window_s: float = Field(6.0, gt=0, le=120)
    max_attempts: int = Field(3, ge=1, le=10)
    liveness_required: bool = True
    chip_photo_timeout_s: float = Field(
        3.0,
        gt=0,
        le=30,
        description="the chip photo is decoded in a worker process of its own; a decode "
        "that takes longer is stopped (the worker is replaced) and the traveller referred",
    )
    chip_photo_memory_mb: int = Field(
        512, ge=64, le=4096, description="how much the chip photo decoder may allocate"
    )
    matcher_process: bool = Field(
        False,
        description="compute face templates and detection in worker processes, which keeps "
        "dlib off the interpreter lock of a GUI in the same process; the e-gate launcher "
        "(python -m ui) always turns it on, a headless kiosk runs them in its own process",
    )


class StorageConfig(_Section):
    key_file: Path | None = Field(
        None,
        description="AES-256 key for biometric data (base64 of 32 bytes), mode 0600; "
        "default <data_dir>/storage.key, created on first use",
    )
    key: SecretStr | None = Field(
        None, description="the storage key as base64 (KIOSK_STORAGE__KEY); wins over key_file"
    )
    retention_hours: float = Field(
        24.0, ge=0, description="purge face images, templates and referral names after this"
    )
    audit_key_file: Path | None = Field(
        None,
        description="Ed25519 key signing audit checkpoints (PEM, mode 0600); "
        "default <data_dir>/audit-signing.pem, created on first use",
    )
    audit_checkpoint_every: int = Field(
        100, ge=1, le=100_000, description="sign an audit checkpoint every N entries"
    )
    min_free_mb: float = Field(
        50.0,
        ge=0,
        description="below this much free space on the database's disk the lane goes out of "
        "service (storage_full) before a traveller starts a transaction it could not record",
    )
    purge_interval_s: float = Field(
        900.0, gt=0, le=86_400, description="how often the running kiosk purges expired data"
    )


class SyncConfig(_Section):
    server_url: str | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    ca_cert: Path | None = None
    batch_size: int = Field(50, ge=1, le=1000)
    interval_s: float = Field(5.0, gt=0)
    timeout_s: float = Field(10.0, gt=0, le=300, description="per HTTP request")
    backoff_base_s: float = Field(1.0, gt=0, description="first retry wait (then doubling)")
    backoff_cap_s: float = Field(300.0, gt=0, description="longest retry wait")
    port: str | None = Field(
        None,
        pattern=r"^[A-Z]{3}$",
        description="IATA code of the kiosk's port: its flights' vetted manifests are pulled "
        "(unset: none are)",
    )


class ScreeningConfig(_Section):
    """Screening of travellers against the lost/stolen, watchlist and manifest lists."""

    watchlist_threshold: float = Field(0.88, gt=0, le=1, description="hit when score >= this")
    dob_partial_penalty: float = Field(0.05, ge=0, le=1)
    dob_mismatch_penalty: float = Field(0.25, ge=0, le=1)
    nationality_mismatch_penalty: float = Field(0.05, ge=0, le=1)
    max_hits: int = Field(10, ge=1, le=1000)
    manifest_name_threshold: float = Field(0.92, gt=0, le=1)
    manifest_window_days: int = Field(1, ge=0, le=30, description="arrival date tolerance")
    require_manifest: bool = False


RequiredList = Literal["lost_stolen", "watchlist", "manifest"]
_REQUIRED_LISTS: tuple[RequiredList, ...] = ("lost_stolen", "watchlist")


class LaneConfig(_Section):
    """When the lane goes out of service by itself (the closed screen sends travellers to the
    staffed desk with ``traveller.officer_directions``)."""

    check_interval_s: float = Field(
        2.0, gt=0, le=300, description="how often devices, trust and lists are checked"
    )
    camera_stall_s: float = Field(
        3.0,
        gt=0,
        le=300,
        description="a camera whose newest frame is older than this is a device fault (a video "
        "file's loop or a short reconnect is not)",
    )
    gate_reset_attempts: int = Field(
        3,
        ge=0,
        le=100,
        description="automatic resets tried on a gate in fault (not in emergency) before the "
        "lane waits for a technician; the count starts again once the gate is healthy",
    )
    gate_reset_interval_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="the least time between two automatic resets of a faulted gate",
    )
    required_lists: list[RequiredList] = Field(
        default_factory=lambda: list(_REQUIRED_LISTS),
        description="lists without which the lane stays closed; each one is stale when its "
        "copy is older than policy.watchlist_max_age_hours (never loaded counts as stale)",
    )
    require_trust_anchors: bool = Field(
        True, description="out of service while the trust store holds no CSCA certificate"
    )
    crl_overdue_hours: float | None = Field(
        168.0,
        ge=0,
        description="out of service (trust_stale) while a CRL is past its next update by more "
        "than this; None: never",
    )


class ListImportConfig(_Section):
    """What ``kiosk screening import`` may do to a live list (see kiosk/screening/import_guard)."""

    max_shrink_share: float = Field(
        0.25,
        ge=0,
        le=1,
        description="largest share of a live list one import may remove without --allow-shrink",
    )


class ClockConfig(_Section):
    """The wall-clock watch (kiosk/clock_watch.py)."""

    step_threshold_s: float = Field(
        30.0, gt=0, le=86_400, description="a wall-clock jump larger than this is a clock step"
    )
    settle_s: float = Field(
        300.0, ge=0, le=86_400, description="the lane stays out of service this long after a step"
    )
    check_interval_s: float = Field(5.0, gt=0, le=600)


class PassageConfig(_Section):
    """The walk through the two-door gate after an accept (``kiosk.session.passage``)."""

    enter_s: float = Field(20.0, gt=0, le=300, description="to step in once the entry opens")
    leave_s: float = Field(20.0, gt=0, le=300, description="to leave once the exit opens")
    door_s: float = Field(5.0, gt=0, le=60, description="for a door to reach its position")


class TravellerConfig(_Section):
    """What the traveller screens say and how: spoken prompts, language, site directions."""

    speech: bool = Field(True, description="speak every instruction (espeak-ng, offline)")
    volume: int = Field(80, ge=0, le=100, description="speech loudness, percent")
    words_per_minute: int = Field(150, ge=80, le=300)
    voices: dict[str, str] = Field(
        default_factory=lambda: {"en": "en-gb", "fr": "fr-fr", "es": "es", "nl": "nl"},
        description="espeak-ng voice of each screen language",
    )
    speech_cache_dir: Path | None = Field(None, description="default <data_dir>/speech")
    language_by_nationality: dict[str, str] = Field(
        default_factory=lambda: {
            "HTI": "fr",
            "SUR": "nl",
            "FRA": "fr",
            "NLD": "nl",
            "ESP": "es",
            "DOM": "es",
            "CUB": "es",
            "VEN": "es",
        },
        description="screen language offered once the MRZ is read (ISO 3166 alpha-3)",
    )
    read_attempts: int = Field(
        2, ge=1, le=5, description="reads of an unreadable MRZ or chip before a referral"
    )
    officer_directions: dict[str, str] = Field(
        default_factory=dict,
        description="per language: where the staffed desk is at this site",
    )


class WallConfig(_Section):
    """The lane's link to the officers' live wall (over the sync server's mutual TLS)."""

    enabled: bool = Field(True, description="report the lane and take remote actions")
    heartbeat_s: float = Field(10.0, gt=0, le=300, description="lane report when idle")
    commands_wait_s: int = Field(5, ge=1, le=30, description="long poll for remote actions")


class CentralChangesConfig(_Section):
    """What this kiosk accepts of the central server's configuration and trust changes: only
    versions signed with the pinned key (after two administrators approved them), and never
    values outside the bounds set here, locally. Liveness can never be turned off centrally."""

    signing_public_key: Path | None = Field(
        None,
        description="the server's change-signing public key (PEM, `kiosk server "
        "signing-key`); without it no configuration or trust change is applied",
    )
    list_signing_public_keys: list[Path] = Field(
        default_factory=list,
        max_length=4,
        description="the server's list-signing public keys (PEM, `kiosk server "
        "list-signing-key`; two while a key is rotated): lost/stolen, watchlist and manifest "
        "versions are applied only when one of them verifies; with none, none are",
    )
    face_threshold_max: float = Field(
        0.6, gt=0, lt=1.5, description="the largest face distance threshold the server may set"
    )
    watchlist_threshold_max: float = Field(
        0.95, gt=0, le=1, description="the largest watchlist score threshold the server may set"
    )
    face_max_attempts_max: int = Field(3, ge=1, le=10)


class KioskConfig(BaseSettings):
    """Everything a kiosk reads at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="KIOSK_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    kiosk_id: str = Field("kiosk-01", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    site: str = "SIM"
    data_dir: Path = DEFAULT_DATA_DIR
    devices: DevicesConfig = Field(default_factory=DevicesConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    face: FaceConfig = Field(default_factory=FaceConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    sync: SyncConfig = Field(default_factory=SyncConfig)
    screening: ScreeningConfig = Field(default_factory=ScreeningConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    lane: LaneConfig = Field(default_factory=LaneConfig)
    list_import: ListImportConfig = Field(default_factory=ListImportConfig)
    clock: ClockConfig = Field(default_factory=ClockConfig)
    trust_pinning: TrustPinningConfig = Field(default_factory=TrustPinningConfig)
    traveller: TravellerConfig = Field(default_factory=TravellerConfig)
    passage: PassageConfig = Field(default_factory=PassageConfig)
    wall: WallConfig = Field(default_factory=WallConfig)
    central: CentralChangesConfig = Field(default_factory=CentralChangesConfig)

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
    def face_threshold(self) -> float:
        """The one face threshold: the policy's when it sets one, else the face section's."""
        return self.policy.face_threshold or self.face.threshold

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'kiosk.db'}"

    @property
    def storage_key_file(self) -> Path:
        return self.storage.key_file or self.data_dir / "storage.key"

    @property
    def audit_key_file(self) -> Path:
        return self.storage.audit_key_file or self.data_dir / "audit-signing.pem"

    @property
    def speech_cache_dir(self) -> Path:
        return self.traveller.speech_cache_dir or self.data_dir / "speech"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# What the central server may set (configuration deltas that ``kiosk/sync`` applies, kept in
# <data_dir>/central-config.json and merged over the TOML file at start; environment
# variables still win): the decision policy, screening thresholds and the face match
# settings below. Never devices, storage, keys, database or sync.
CENTRAL_CONFIG_FILE = "central-config.json"
CENTRAL_FIELDS: dict[str, frozenset[str] | None] = {
    "policy": None,  # every field
    "screening": None,
    "face": frozenset({"threshold", "liveness_required", "max_attempts", "capture_window_s"}),
}


def central_sections(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The sections of the central configuration file in ``data_dir`` ({} when none)."""
    path = data_dir / CENTRAL_CONFIG_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from exc
    sections = document.get("sections") if isinstance(document, dict) else None
    if not isinstance(sections, dict):
        raise ConfigError(f"{path}: no sections table")
    for name, values in sections.items():
        allowed = CENTRAL_FIELDS.get(name, frozenset())
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: {name} must be a table")
        refused = [k for k in values if allowed is not None and k not in allowed]
        if refused:
            raise ConfigError(f"{path}: {name}.{refused[0]} may not be set centrally")
    return sections


def _validated(data: dict[str, Any], origin: str = "") -> KioskConfig:
    try:
        return KioskConfig(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise ConfigError(f"{origin}{key}: {first['msg']}") from exc


def load_config(path: Path | str | None = None, **overrides: Any) -> KioskConfig:
    """Load the configuration; raise :class:`ConfigError` naming the key and the problem.

    The central configuration of the data directory (see :data:`CENTRAL_FIELDS`) is merged
    over the file and ``overrides``."""
    if path is None:
        env_path = os.environ.get("KIOSK_CONFIG")
        path = Path(env_path) if env_path else None
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: file not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    data = _merge(data, overrides)
    config = _validated(data)
    central = central_sections(config.data_dir)
    if not central:
        return config
    return _validated(_merge(data, central), f"{CENTRAL_CONFIG_FILE}: ")


def masked_dump(config: KioskConfig) -> dict[str, Any]:
    """The effective configuration as plain data, secrets masked."""
    dumped: dict[str, Any] = _mask_secrets(config.model_dump(mode="json"), config)
    return dumped


def _mask_secrets(node: Any, model: Any) -> Any:
    if isinstance(model, SecretStr):
        return "********" if model.get_secret_value() else ""
    if isinstance(model, BaseModel) and isinstance(node, dict):
        return {key: _mask_secrets(node.get(key), getattr(model, key)) for key in node}
    return node
