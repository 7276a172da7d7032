"""Logging in: ``POST /v1/auth/token``.

Every attempt runs on the login threads (:class:`server.security.login_gate.LoginGate`):
503 at once when they are all busy; the attempt is counted for its (user, client address)
before argon2 runs (:mod:`server.security.login_throttle`), so a throttled attempt is a
429 with ``Retry-After`` and a message that says the account is throttled and for how long;
every outcome (success, wrong password, unknown or disabled user, throttled, busy) is
audited and logged without the password."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException, Request, status

from models.base import utc_now
from models.server_tables import ServerAuditEventRow, UserRow
from server.api.schemas import LoginIn, TokenOut, error_responses
from server.security import login_throttle
from server.security.client_address import client_address
from server.security.login_gate import LoginBusyError
from server.security.passwords import verify_password
from server.security.tokens import Role
from server.state import ServerState, server_state

log = logging.getLogger(__name__)

auth = APIRouter(prefix="/v1/auth", tags=["people"], responses=error_responses(401, 422, 429, 503))


class _BusyLog:
    """Refusals for lack of a login slot come by the hundred in a flood: one log line per
    ``interval_s`` with the count (the metric ``kiosk_server_auth_refused{kind="login_busy"}``
    counts each); they are not audited one by one, which would put the flood on the
    database."""

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self._last = -interval_s
        self._count = 0
        self._lock = threading.Lock()

    def warning(self, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._count += 1
            if now - self._last < self.interval_s:
                return
            count, self._count, self._last = self._count, 0, now
        log.warning("%d logins refused: every login slot busy (latest from %s)", count, address)


_busy_log = _BusyLog()


def refused_busy(state: ServerState, address: str) -> None:
    """Count (and log, at a bounded rate) a login refused for lack of a slot."""
    state.metrics.refused.labels("login_busy").inc()
    _busy_log.warning(address)


@dataclass(frozen=True)
class _Outcome:
    kind: str  # success | failed | throttled
    user: UserRow | None = None
    wait_s: int = 0


def _audit(state: ServerState, user: str, address: str, outcome: str, **details: object) -> None:
    with state.database.session() as session:
        session.add(
            ServerAuditEventRow(
                actor=user[:64],
                action=f"login.{outcome}",
                subject=user[:128],
                details={"address": address, **details},
                time=utc_now(),
            )
        )


def _attempt(state: ServerState, username: str, password: str, address: str) -> _Outcome:
    """On a login thread: count, verify, audit."""
    with state.database.session() as session:
        wait = login_throttle.count_attempt(session, state.throttle, username, address)
    if wait is not None:
        _audit(state, username, address, "throttled", retry_after_s=wait)
        return _Outcome("throttled", wait_s=wait)
    with state.database.sessions() as session:
        user = session.get(UserRow, username)
    valid = verify_password(user.password_hash if user else None, password)
    if not valid or user is None or user.disabled_at is not None:
        reason = "unknown_user" if user is None else "disabled" if valid else "wrong_password"
        _audit(state, username, address, "failed", reason=reason)
        return _Outcome("failed")
    with state.database.session() as session:
        login_throttle.clear(session, username, address)
        session.add(
            ServerAuditEventRow(
                actor=user.name, action="login.success", subject=user.name,
                details={"address": address, "role": user.role}, time=utc_now(),
            )
        )  # fmt: skip
    return _Outcome("success", user=user)


def throttled_message(wait_s: int) -> str:
    return (
        f"this account is throttled after failed logins from this address; try again in {wait_s} s"
    )


@auth.post("/token", response_model=TokenOut, summary="log in")
async def login(
    body: LoginIn, request: Request, state: ServerState = Depends(server_state)
) -> TokenOut:
    """A short-lived bearer token for a user name and password. After
    ``login_free_attempts`` failures of this user from this address, each attempt waits a
    doubling delay: 429 with ``Retry-After``. 503 when every login slot is busy."""
    address = client_address(request, state.config)
    try:
        outcome = await state.login_gate.run(
            lambda: _attempt(state, body.username, body.password, address)
        )
    except LoginBusyError as exc:
        refused_busy(state, address)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="the server is busy with other logins; try again in a moment",
            headers={"Retry-After": "1"},
        ) from exc
    if outcome.kind == "throttled":
        state.metrics.refused.labels("login_throttled").inc()
        log.warning("login of %s from %s throttled for %d s", body.username, address,
                    outcome.wait_s)  # fmt: skip
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=throttled_message(outcome.wait_s),
            headers={"Retry-After": str(outcome.wait_s)},
        )
    if outcome.user is None:
        state.metrics.refused.labels("login_failed").inc()
        log.warning("failed login for %s from %s", body.username, address)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong user name or password")
    user = outcome.user
    token, expires = state.tokens.issue(user.name, Role(user.role))
    log.info("user %s logged in from %s", user.name, address)
    return TokenOut(access_token=token, role=user.role, expires_at=expires)
