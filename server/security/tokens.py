"""Short-lived bearer tokens for people (JWT, HS256). The secret comes from the configuration
or a 0600 file under the data directory created on first run."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import jwt

from server.security.ca import write_private_file

ALGORITHM = "HS256"
ISSUER = "kiosk-server"


class Role(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    TECHNICIAN = "technician"
    ADMINISTRATOR = "administrator"
    ANALYST = "analyst"  # pre-arrival vetting: hits, rules, national lists
    GATEWAY = "gateway"  # the airlines' message gateway: submits API/PNR messages only


@dataclass(frozen=True)
class TokenClaims:
    user: str
    role: Role
    expires_at: datetime
    issued_at: datetime


class InvalidTokenError(Exception):
    """The token is missing, malformed, expired or signed with another key."""


def load_or_create_secret(path: Path) -> bytes:
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
    secret = secrets.token_hex(32).encode("ascii")
    write_private_file(path, secret)
    return secret


CLOCK_SKEW_S = 60


class TokenService:
    """Issues and checks tokens; a token whose lifetime (``exp - iat``) is longer than
    ``lifetime_s``, or issued in the future, is refused even with a valid signature."""

    def __init__(
        self,
        secret: bytes,
        lifetime_s: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``clock``: the server's time (tests inject one to expire tokens without waiting)."""
        self._secret = secret
        self.lifetime_s = lifetime_s
        self.clock = clock

    def issue(self, user: str, role: Role, *, now: datetime | None = None) -> tuple[str, datetime]:
        moment = now or self.clock()
        expires = moment + timedelta(seconds=self.lifetime_s)
        claims = {
            "iss": ISSUER,
            "sub": user,
            "role": role.value,
            "iat": int(moment.timestamp()),
            # iat has whole seconds; a reset or disable in the same second must still end
            # the tokens issued before it, so the issue time travels in microseconds too
            "iat_us": int(moment.timestamp() * 1_000_000),
            "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # expiry is checked below against the server's clock
                options={
                    "require": ["exp", "iat", "sub", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            role = Role(str(claims.get("role")))
            issued, expires = int(claims["iat"]), int(claims["exp"])
            issued_us = int(claims.get("iat_us", issued * 1_000_000))
            if issued_us // 1_000_000 != issued:
                raise ValueError("iat and iat_us disagree")
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidTokenError(str(exc)) from exc
        if expires - issued > self.lifetime_s:
            raise InvalidTokenError("the token's lifetime is longer than the server allows")
        now = self.clock().timestamp()
        if expires <= now:
            raise InvalidTokenError("Signature has expired")
        if issued > now + CLOCK_SKEW_S:
            raise InvalidTokenError("the token is issued in the future")
        return TokenClaims(
            user=str(claims["sub"]),
            role=role,
            expires_at=datetime.fromtimestamp(expires, UTC),
            issued_at=datetime.fromtimestamp(issued_us / 1_000_000, UTC),
        )
