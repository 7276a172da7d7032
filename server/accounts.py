"""Enrolling devices and adding users: used by the CLI and the administrator endpoints."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from models.base import utc_now
from models.errors import ConfigError, KioskError
from models.server_tables import DeviceCertificateRow, DeviceRow, ServerAuditEventRow, UserRow
from server.audit_checkpoints import parse_public_key, set_enrolled_key
from server.database import ServerDatabase
from server.security.ca import DeviceCA, IssuedCertificate, write_private_file
from server.security.passwords import hash_password
from server.security.tokens import Role

log = logging.getLogger(__name__)

MIN_PASSWORD = 12
# configuration and trust changes need a proposer and another approver
MIN_ADMINISTRATORS = 2


class AccountError(KioskError):
    code = "server_account"
    user_message = "The account operation was refused."


class AccountNotFoundError(AccountError):
    code = "server_account_not_found"


@dataclass(frozen=True)
class EnrolledDevice:
    name: str
    certificate: IssuedCertificate
    ca_pem: bytes


def enrol_device(
    database: ServerDatabase,
    ca: DeviceCA,
    name: str,
    *,
    days: int,
    audit_public_key_pem: str,
    actor: str = "cli",
    site: str | None = None,
) -> EnrolledDevice:
    """A new key and certificate for ``name`` (re-enrolment revokes the older certificates).

    ``audit_public_key_pem``: the kiosk's audit checkpoint key (Ed25519, PEM, from
    ``kiosk db init-keys`` on the kiosk), required: the server never trusts a kiosk's first
    checkpoint on its word.
    ``site``: the site whose officers see this kiosk's lane and referrals (without it, the
    site the kiosk reports on its first lane event)."""
    parse_public_key(audit_public_key_pem)  # refuse a bad key before issuing anything
    issued = ca.issue(name, days=days, client=True)
    now = utc_now()
    with database.session() as session:
        device = session.get(DeviceRow, name)
        if device is None:
            session.add(DeviceRow(name=name, enrolled_at=now, site=site))
        else:
            device.revoked_at = None
            device.site = site or device.site
            session.execute(
                update(DeviceCertificateRow)
                .where(DeviceCertificateRow.device_name == name)
                .where(DeviceCertificateRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        session.flush()
        session.add(
            DeviceCertificateRow(
                serial=issued.serial_hex,
                device_name=name,
                fingerprint_sha256=issued.fingerprint_sha256,
                issued_at=now,
                not_after=issued.not_after,
            )
        )
        session.add(
            ServerAuditEventRow(
                actor=actor,
                action="device.enrol",
                subject=name,
                details={"serial": issued.serial_hex},
                time=now,
            )
        )
        session.flush()
        set_enrolled_key(session, name, audit_public_key_pem, actor=actor)
    log.info("device %s enrolled (certificate %s)", name, issued.serial_hex)
    return EnrolledDevice(name=name, certificate=issued, ca_pem=ca.cert_pem)


def revoke_device(database: ServerDatabase, name: str, *, actor: str) -> bool:
    now = utc_now()
    with database.session() as session:
        device = session.get(DeviceRow, name)
        if device is None:
            return False
        device.revoked_at = now
        session.execute(
            update(DeviceCertificateRow)
            .where(DeviceCertificateRow.device_name == name)
            .where(DeviceCertificateRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.add(
            ServerAuditEventRow(
                actor=actor, action="device.revoke", subject=name, details={}, time=now
            )
        )
    log.info("device %s revoked", name)
    return True


def write_device_credentials(enrolled: EnrolledDevice, out: Path, server_url: str) -> Path:
    """Write key (0600), certificate, CA and a kiosk configuration snippet into ``out``."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path = out / "kiosk.key"
    cert_path = out / "kiosk.pem"
    ca_path = out / "ca.pem"
    write_private_file(key_path, enrolled.certificate.key_pem)
    cert_path.write_bytes(enrolled.certificate.cert_pem)
    ca_path.write_bytes(enrolled.ca_pem)
    snippet = out / "sync.toml"
    snippet.write_text(
        f'kiosk_id = "{enrolled.name}"\n\n'
        "[sync]\n"
        f'server_url = "{server_url}"\n'
        f'client_cert = "{cert_path.resolve()}"\n'
        f'client_key = "{key_path.resolve()}"\n'
        f'ca_cert = "{ca_path.resolve()}"\n',
        encoding="utf-8",
    )
    return snippet


def add_user(
    database: ServerDatabase,
    name: str,
    role: Role,
    password: str,
    *,
    actor: str = "cli",
    site: str | None = None,
) -> None:
    """``site``: the officer sees only that site's lanes and referrals (None: every site)."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"password must have at least {MIN_PASSWORD} characters")
    password_hash = hash_password(password)
    now = utc_now()
    with database.session() as session:
        if session.scalar(select(UserRow.name).where(UserRow.name == name)) is not None:
            raise AccountError(f"user {name} exists already")
        session.add(UserRow(name=name, role=role.value, password_hash=password_hash, site=site))
        session.add(
            ServerAuditEventRow(
                actor=actor,
                action="user.add",
                subject=name,
                details={"role": role.value, "site": site},
                time=now,
            )
        )
    log.info("user %s added with role %s", name, role.value)


def _audit(session: Any, actor: str, action: str, subject: str, **details: Any) -> None:
    session.add(
        ServerAuditEventRow(
            actor=actor, action=action, subject=subject, details=details, time=utc_now()
        )
    )


def _other_active_administrators(session: Any, name: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(UserRow)
            .where(UserRow.role == Role.ADMINISTRATOR.value)
            .where(UserRow.disabled_at.is_(None))
            .where(UserRow.name != name)
        )
        or 0
    )


def _user_for_update(session: Any, name: str) -> UserRow:
    user: UserRow | None = session.get(UserRow, name, with_for_update=True)
    if user is None:
        raise AccountNotFoundError(f"no user {name}")
    return user


def _keep_an_administrator(session: Any, user: UserRow) -> None:
    others = _other_active_administrators(session, user.name)
    if user.role == Role.ADMINISTRATOR.value and others < MIN_ADMINISTRATORS:
        raise AccountError(
            f"{user.name} is one of the last {MIN_ADMINISTRATORS} active administrators "
            "(two are needed to approve configuration and trust changes): add another first"
        )


def disable_user(database: ServerDatabase, name: str, *, actor: str) -> None:
    """Refuse the user's logins and end its tokens now."""
    with database.session() as session:
        user = _user_for_update(session, name)
        _keep_an_administrator(session, user)
        now = utc_now()
        user.disabled_at = now
        user.tokens_valid_after = now
        _audit(session, actor, "user.disable", name, role=user.role)
    log.info("user %s disabled", name)


def enable_user(database: ServerDatabase, name: str, *, actor: str) -> None:
    with database.session() as session:
        user = _user_for_update(session, name)
        user.disabled_at = None
        _audit(session, actor, "user.enable", name, role=user.role)
    log.info("user %s enabled", name)


def reset_password(database: ServerDatabase, name: str, password: str, *, actor: str) -> None:
    """A new password; the tokens issued before it stop working."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"password must have at least {MIN_PASSWORD} characters")
    password_hash = hash_password(password)
    with database.session() as session:
        user = _user_for_update(session, name)
        user.password_hash = password_hash
        user.tokens_valid_after = utc_now()
        _audit(session, actor, "user.reset_password", name, role=user.role)
    log.info("password of user %s reset", name)


def remove_user(database: ServerDatabase, name: str, *, actor: str) -> None:
    """Delete the account (its name stays in the audit); never the last administrators."""
    with database.session() as session:
        user = _user_for_update(session, name)
        _keep_an_administrator(session, user)
        role = user.role
        session.delete(user)
        _audit(session, actor, "user.remove", name, role=role)
    log.info("user %s removed", name)
