"""Logging in: ``POST /v1/auth/token``.

Every attempt runs on the login threads (:class:`server.security.login_gate.LoginGate`):
503 at once when they are all busy. The attempt is counted for its client address and for
its (user, client address) before the user is read or argon2 runs
(:mod:`server.security.login_throttle`), so a throttled attempt is a 429 with
``Retry-After`` and a JSON answer that says what is throttled (``"throttled"``: ``"address"``
or ``"account"``) and for how long (``"retry_after_s"``, and in ``"detail"``). Once the
database has told this process that an address is blocked, its attempts are refused in the
middleware (:class:`server.middleware.LoginShed`) until the block ends. Every outcome
(success, wrong password, unknown or disabled user, throttled, address throttled) is audited
and logged without the password; refusals that come by the hundred (busy, an address
already known to be blocked) are counted and logged at a bounded rate."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse

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


class _CountedLog:
    """Refusals that come by the hundred in a flood (no login slot, an address known to be
    blocked): one log line per ``interval_s`` with the count (the metric
    ``kiosk_server_auth_refused`` counts each); they are not audited one by one, which would
    put the flood on the database."""

    def __init__(self, message: str, interval_s: float = 10.0) -> None:
        self.message = message  # "%d" (the count), then the arguments of warning()
        self.interval_s = interval_s
        self._last = -interval_s
        self._count = 0
        self._lock = threading.Lock()

    def warning(self, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            self._count += 1
            if now - self._last < self.interval_s:
                return
            count, self._count, self._last = self._count, 0, now
        log.warning(self.message, count, *args)


_busy_log = _CountedLog("%d logins refused: every login slot busy (latest from %s)")
_blocked_log = _CountedLog("%d logins refused: address throttled (latest from %s, %d s left)")


def refused_busy(state: ServerState, address: str) -> None:
    """Count (and log, at a bounded rate) a login refused for lack of a slot."""
    state.metrics.refused.labels("login_busy").inc()
    _busy_log.warning(address)


def address_throttled_answer(wait_s: int) -> dict[str, Any]:
    """The JSON answer (429) to an attempt from a blocked address."""
    return {
        "detail": "logins from this address are throttled after too many failed logins "
        f"(whatever the user names); try again in {wait_s} s",
        "throttled": "address",
        "retry_after_s": wait_s,
    }


def blocked_address(state: ServerState, scope: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """For the middleware, before a login is routed: ``(seconds left, the answer)`` when
    this process knows the client's address to be blocked; counted and logged (at a bounded
    rate: the block itself was audited when the database reported it)."""
    address = client_address(Request(scope), state.config)
    wait = state.address_blocks.wait_s(address)
    if wait is None:
        return None
    state.metrics.refused.labels("login_address_throttled").inc()
    _blocked_log.warning(address, wait)
    return wait, address_throttled_answer(wait)


@dataclass(frozen=True)
class _Outcome:
    kind: str  # success | failed | throttled | address_throttled
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


def _count(state: ServerState, username: str, address: str, moment: datetime) -> _Outcome | None:
    """Count the attempt for its address, then for its (user, address), in one transaction
    (in that order, always: the rows are locked in that order); the refusal, if any. An
    attempt refused for its account is not held against its address."""
    with state.database.session() as session:
        wait = login_throttle.count_address_attempt(session, state.address_budget, address, moment)
        if wait is not None:
            return _Outcome("address_throttled", wait_s=wait)
        wait = login_throttle.count_attempt(session, state.throttle, username, address, moment)
        if wait is not None:
            login_throttle.uncount_address_attempt(session, address, moment)
            return _Outcome("throttled", wait_s=wait)
    return None


def _attempt(state: ServerState, username: str, password: str, address: str) -> _Outcome:
    """On a login thread: count, verify, audit."""
    moment = utc_now()
    refused = _count(state, username, address, moment)
    if refused is not None:
        _audit(state, username, address, refused.kind, retry_after_s=refused.wait_s)
        return refused
    with state.database.sessions() as session:
        user = session.get(UserRow, username)
    state.metrics.verifications.inc()
    valid = verify_password(user.password_hash if user else None, password)
    if not valid or user is None or user.disabled_at is not None:
        reason = "unknown_user" if user is None else "disabled" if valid else "wrong_password"
        _audit(state, username, address, "failed", reason=reason)
        return _Outcome("failed")
    with state.database.session() as session:
        # the address row first, as when counting; only this attempt is taken back
        login_throttle.uncount_address_attempt(session, address, moment)
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


def _throttled(state: ServerState, outcome: _Outcome, username: str, address: str) -> JSONResponse:
    """The 429 of a throttled account or address (the address's block is remembered here)."""
    if outcome.kind == "address_throttled":
        state.address_blocks.note(address, outcome.wait_s)
        state.metrics.refused.labels("login_address_throttled").inc()
        log.warning("logins from %s throttled for %d s", address, outcome.wait_s)
        answer = address_throttled_answer(outcome.wait_s)
    else:
        state.metrics.refused.labels("login_throttled").inc()
        log.warning("login of %s from %s throttled for %d s", username, address, outcome.wait_s)
        answer = {
            "detail": throttled_message(outcome.wait_s),
            "throttled": "account",
            "retry_after_s": outcome.wait_s,
        }
    return JSONResponse(
        answer,
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(outcome.wait_s)},
    )


@auth.post("/token", response_model=TokenOut, summary="log in")
async def login(
    body: LoginIn, request: Request, state: ServerState = Depends(server_state)
) -> TokenOut | JSONResponse:
    """A short-lived bearer token for a user name and password. After
    ``login_free_attempts`` failures of this user from this address, each attempt waits a
    doubling delay; after ``login_address_failures`` failures from this address in
    ``login_address_window_s``, whatever the names, the address is blocked: 429 with
    ``Retry-After``, ``"throttled"`` (``"account"`` or ``"address"``) and ``"retry_after_s"``.
    503 when every login slot is busy."""
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
    if outcome.kind in ("throttled", "address_throttled"):
        return _throttled(state, outcome, body.username, address)
    if outcome.user is None:
        state.metrics.refused.labels("login_failed").inc()
        log.warning("failed login for %s from %s", body.username, address)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong user name or password")
    user = outcome.user
    token, expires = state.tokens.issue(user.name, Role(user.role))
    log.info("user %s logged in from %s", user.name, address)
    return TokenOut(access_token=token, role=user.role, expires_at=expires)
