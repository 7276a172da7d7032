"""Throttling password guessing per (user name, client address), in the database so that
every server process counts the same attempts.

An attempt is counted BEFORE the password is verified (so concurrent guesses cannot all slip
through while argon2 runs), and a right password then clears the count. The first
``login_free_attempts`` failures cost nothing; after them each attempt must wait
``login_delay_s``, doubled for each further failure up to ``login_delay_max_s``, since the
last one. A throttled attempt is not counted, so the wait never grows while the user waits.
Only the (user, address) pair is throttled: another address, or another user from the same
address, is not, so guessing at one account cannot lock its owner out elsewhere."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from models.base import utc_now
from models.server_tables import LoginThrottleRow
from server.config import ServerConfig
from server.ingest import insert_new

THROTTLE: Table = LoginThrottleRow.__table__  # type: ignore[assignment]


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
        return float(min(self.delay_max_s, self.delay_s * 2.0 ** (failures - self.free_attempts)))


def count_attempt(
    session: Session, policy: ThrottlePolicy, user: str, address: str, now: datetime | None = None
) -> int | None:
    """Count an attempt of ``user`` from ``address``; or, when it must wait, count nothing and
    return the seconds left to wait."""
    moment = now or utc_now()
    key = {"user_name": user[:64], "address": address[:64]}
    insert_new(session, THROTTLE, [{**key, "failures": 0, "last_failure_at": moment}],
               ["user_name", "address"], "user_name")  # fmt: skip
    row = session.execute(
        select(LoginThrottleRow)
        .where(LoginThrottleRow.user_name == key["user_name"])
        .where(LoginThrottleRow.address == key["address"])
        .with_for_update()
    ).scalar_one()
    if moment - row.last_failure_at > timedelta(seconds=policy.reset_s):
        row.failures = 0
    wait = row.last_failure_at + timedelta(seconds=policy.delay(row.failures)) - moment
    if row.failures and wait.total_seconds() > 0:
        return max(1, math.ceil(wait.total_seconds()))
    row.failures += 1
    row.last_failure_at = moment
    return None


def clear(session: Session, user: str, address: str) -> None:
    row = session.get(LoginThrottleRow, (user[:64], address[:64]))
    if row is not None:
        session.delete(row)
