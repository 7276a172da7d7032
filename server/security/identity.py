"""Who is calling: a kiosk (its TLS client certificate, checked against the enrolled devices
and the revocation list on every request) or a person (a bearer token and a role)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from models.server_tables import DeviceCertificateRow, DeviceRow, UserRow
from server.security.tokens import InvalidTokenError, Role, TokenClaims
from server.state import ServerState, server_state

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="token from POST /v1/auth/token")


@dataclass(frozen=True)
class DeviceIdentity:
    name: str
    serial: str


def _refuse(state: ServerState, kind: str, message: str, code: int = 401) -> HTTPException:
    state.metrics.refused.labels(kind).inc()
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 and kind == "token" else None
    return HTTPException(status_code=code, detail=message, headers=headers)


def _peer_certificate(request: Request) -> x509.Certificate | None:
    tls = request.scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    try:
        return x509.load_pem_x509_certificate(str(chain[0]).encode("ascii"))
    except ValueError:
        return None


def _signed_by_ca(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Checked again here (the TLS layer did it already) so that the app never trusts a
    certificate that did not come from its CA, whatever server runs it."""
    public_key = ca.public_key()
    if cert.issuer != ca.subject or not isinstance(public_key, ec.EllipticCurvePublicKey):
        return False
    algorithm = cert.signature_hash_algorithm
    if algorithm is None:
        return False
    try:
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
    except InvalidSignature:
        return False
    now = datetime.now(UTC)
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def require_device(request: Request, state: ServerState = Depends(server_state)) -> DeviceIdentity:
    """The enrolled, unrevoked device that presented its certificate, or 401/403."""
    cert = _peer_certificate(request)
    if cert is None:
        raise _refuse(state, "device", "a device client certificate is required")
    if not _signed_by_ca(cert, state.ca.certificate):
        raise _refuse(state, "device", "the client certificate is not from the device CA")
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = str(names[0].value) if names else ""
    serial = format(cert.serial_number, "x")
    with state.database.sessions() as session:
        row = session.execute(
            select(DeviceCertificateRow.revoked_at, DeviceRow.revoked_at)
            .join(DeviceRow, DeviceRow.name == DeviceCertificateRow.device_name)
            .where(DeviceCertificateRow.serial == serial, DeviceRow.name == name)
        ).first()
    if row is None:
        raise _refuse(state, "device", "unknown device certificate", 403)
    if row[0] is not None or row[1] is not None:
        log.warning("revoked device certificate refused (serial %s)", serial)
        raise _refuse(state, "device", "the device or its certificate is revoked", 403)
    return DeviceIdentity(name=name, serial=serial)


def current_user(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    state: ServerState = Depends(server_state),
) -> TokenClaims:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _refuse(state, "token", "a bearer token is required")
    try:
        claims = state.tokens.verify(credentials.credentials)
    except InvalidTokenError as exc:
        raise _refuse(state, "token", "the token is invalid or expired") from exc
    with state.database.sessions() as session:
        user = session.get(UserRow, claims.user)
        active = user is not None and user.disabled_at is None and user.role == claims.role
        # a password reset or a disable ends the tokens issued before it (to the microsecond)
        if active and user is not None and user.tokens_valid_after is not None:
            active = claims.issued_at >= user.tokens_valid_after
    if not active:
        raise _refuse(state, "token", "the user is unknown or disabled")
    return claims


def require_role(*roles: Role) -> Callable[..., TokenClaims]:
    """A dependency admitting only people with one of ``roles`` (403 for the others)."""
    allowed = frozenset(roles)

    def dependency(
        claims: TokenClaims = Depends(current_user), state: ServerState = Depends(server_state)
    ) -> TokenClaims:
        if claims.role not in allowed:
            raise _refuse(state, "role", "this role may not use this endpoint", 403)
        return claims

    return dependency
