"""Throttling password guessing, in the database so that every server process counts the
same attempts: per (user name, client address), and per client address whatever the names.

An attempt is counted BEFORE the password is verified (so concurrent guesses cannot all slip
through while argon2 runs); a right password then takes it back.

- **(user, address).** The first ``login_free_attempts`` failures cost nothing; after them
  each attempt must wait ``login_delay_s``, doubled for each further failure up to
  ``login_delay_max_s``, since the last one. A throttled attempt is not counted, so the wait
  never grows while the user waits. Only the pair is throttled: another address, or another
  user from the same address, is not, so guessing at one account cannot lock its owner out
  elsewhere; a success clears the pair.
- **Address.** A flood of made-up names is a new pair every time, and each one cost an
  argon2 verification. So an address has a budget: at most ``login_address_failures``
  attempts that did not succeed in any ``login_address_window_s`` (a sliding window of
  their times). The attempt after that blocks the address for ``login_address_block_s``,
  doubled for each block in a row (up to ``login_address_block_max_s``); while blocked,
  attempts from it are refused before the user is read or a password verified, and are not
  counted. A success takes back its own attempt only: it never clears the other failures
  of the address, so an attacker's own valid login does not buy more guesses. The key is
  the real client address (:mod:`server.security.client_address`, PROXY v2): an attacker
  blocks only the address it sends from.

:class:`AddressBlocks` remembers, in one process, the blocks the database reported, so that
a flood from a blocked address is refused before its body is read or a login slot taken."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from models.base import utc_now
from models.server_tables import LoginAddressRow, LoginThrottleRow
from server.config import ServerConfig
from server.ingest import insert_new

THROTTLE: Table = LoginThrottleRow.__table__  # type: ignore[assignment]
ADDRESSES: Table = LoginAddressRow.__table__  # type: ignore[assignment]
# a key column holds at most this much of a user name or an address
KEY_CHARS = 64

Row = TypeVar("Row", LoginThrottleRow, LoginAddressRow)


def _doubled(base_s: float, max_s: float, doublings: int) -> float:
    """``base_s`` doubled ``doublings`` times, at most ``max_s`` (both throttles' waits)."""
    return float(min(max_s, base_s * 2.0**doublings))


@dataclass(frozen=True)
class ThrottlePolicy:
    free_attempts: int
    delay_s: float
    delay_max_s: float
    reset_s: float

    @classmethod
    def from_config(cls, config: ServerConfig) -> ThrottlePolicy:
        return cls(
            config.login_free_attempts,
            config.login_delay_s,
            config.login_delay_max_s,
            config.login_reset_s,
        )

    def delay(self, failures: int) -> float:
        """The wait imposed after ``failures`` counted failures."""
        if failures < self.free_attempts:
            return 0.0
        return _doubled(self.delay_s, self.delay_max_s, failures - self.free_attempts)


@dataclass(frozen=True)
class AddressPolicy:
    failures: int
    window_s: float
    block_s: float
    block_max_s: float

    @classmethod
    def from_config(cls, config: ServerConfig) -> AddressPolicy:
        return cls(
            config.login_address_failures,
            config.login_address_window_s,
            config.login_address_block_s,
            config.login_address_block_max_s,
        )

    def block(self, blocks: int) -> float:
        """How long the ``blocks``-th block in a row lasts."""
        return _doubled(self.block_s, self.block_max_s, blocks - 1)


def _seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


def _locked(session: Session, model: type[Row], table: Table, key: dict[str, str],
            fresh: dict[str, Any]) -> Row:  # fmt: skip
    """The row of ``key`` (inserted with ``fresh`` values if missing), locked until the end
    of the transaction: concurrent attempts of every server process take turns on it."""
    insert_new(session, table, [{**key, **fresh}], list(key), next(iter(key)))
    query = select(model)
    for column, value in key.items():
        query = query.where(getattr(model, column) == value)
    return session.execute(query.with_for_update()).scalar_one()


def count_attempt(
    session: Session, policy: ThrottlePolicy, user: str, address: str, now: datetime | None = None
) -> int | None:
    """Count an attempt of ``user`` from ``address``; or, when it must wait, count nothing and
    return the seconds left to wait."""
    moment = now or utc_now()
    key = {"user_name": user[:KEY_CHARS], "address": address[:KEY_CHARS]}
    row = _locked(session, LoginThrottleRow, THROTTLE, key,
                  {"failures": 0, "last_failure_at": moment})  # fmt: skip
    if moment - row.last_failure_at > timedelta(seconds=policy.reset_s):
        row.failures = 0
    wait = row.last_failure_at + timedelta(seconds=policy.delay(row.failures)) - moment
    if row.failures and wait.total_seconds() > 0:
        return _seconds(wait)
    row.failures += 1
    row.last_failure_at = moment
    return None


def clear(session: Session, user: str, address: str) -> None:
    row = session.get(LoginThrottleRow, (user[:KEY_CHARS], address[:KEY_CHARS]))
    if row is not None:
        session.delete(row)


def count_address_attempt(
    session: Session, policy: AddressPolicy, address: str, now: datetime | None = None
) -> int | None:
    """Count an attempt from ``address`` at ``now``; or, when the address is blocked (or
    this attempt is over its budget, which blocks it), count nothing and return the seconds
    left of the block."""
    moment = now or utc_now()
    row = _locked(session, LoginAddressRow, ADDRESSES, {"address": address[:KEY_CHARS]},
                  {"attempts": [], "blocked_until": None, "blocks": 0})  # fmt: skip
    if row.blocked_until is not None and row.blocked_until > moment:
        return _seconds(row.blocked_until - moment)
    stamp = moment.timestamp()
    recent = [t for t in row.attempts if isinstance(t, int | float) and stamp - t < policy.window_s]
    if len(recent) >= policy.failures:
        ended = row.blocked_until
        again = ended is not None and (moment - ended).total_seconds() <= policy.block_max_s
        row.blocks = row.blocks + 1 if again else 1
        row.blocked_until = moment + timedelta(seconds=policy.block(row.blocks))
        row.attempts = []  # a fresh budget once the block is over
        return _seconds(row.blocked_until - moment)
    row.attempts = [*recent, stamp]
    return None


def uncount_address_attempt(session: Session, address: str, moment: datetime) -> None:
    """Take back the attempt counted at ``moment`` (it succeeded, or was never verified);
    the address's other attempts stay counted."""
    row = session.get(LoginAddressRow, address[:KEY_CHARS], with_for_update=True)
    if row is None:
        return
    stamp = moment.timestamp()
    attempts = list(row.attempts)
    for index, value in enumerate(attempts):
        if isinstance(value, int | float) and abs(value - stamp) < 1e-6:
            del attempts[index]
            row.attempts = attempts
            return


class AddressBlocks:
    """The blocks this process heard of from the database, until they end: a flood from a
    blocked address is then refused before its body is read, a login slot is taken or the
    database is asked. At most ``size`` addresses are remembered (the block ending first is
    forgotten first: the database is then asked again). Touched on the event loop only."""

    def __init__(self, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self._clock = clock
        self._until: dict[str, float] = {}

    def note(self, address: str, wait_s: int) -> None:
        now = self._clock()
        self._until[address] = now + wait_s
        if len(self._until) > self.size:
            self._until = {a: t for a, t in self._until.items() if t > now}
            while len(self._until) > self.size:
                del self._until[min(self._until, key=self._until.__getitem__)]

    def wait_s(self, address: str) -> int | None:
        """The seconds left of the block of ``address``, if this process knows of one."""
        until = self._until.get(address)
        if until is None:
            return None
        left = until - self._clock()
        if left <= 0:
            del self._until[address]
            return None
        return max(1, math.ceil(left))
