"""A family transaction: several passports read and faces matched one after another, decided
together, one passage through the gate.

The traveller announces the family's size on the screen (``SessionEngine.start_family``); the
first passport placed starts the transaction. Each member goes through the same steps as a
single traveller (``SessionEngine.gather``: document, chip, face, screening) and hands forward
their own step records; between members the screen asks for the next passport
(:attr:`State.FAMILY_NEXT`, with a :class:`FamilyProgress` event "2 of 3"). A passport that
cannot be read is placed again for the same member. A member refused from the MRZ alone (a
minor below the accompanied age, an expired passport) ends the reading at once: the family goes
to the officer. The family is decided by the pure functions of
``kiosk.session.family_decided``; every member's record is stored in one database transaction
before the gate moves; when all are accepted the entry and the exit open once for the group,
whose size the gate's people counter checks (``kiosk.session.passage``); a passage that fails
refers every member.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hardware.executor import CancelToken
from kiosk.session.decided import build_passage_referral, referral_subject
from kiosk.session.events import Decided, FamilyProgress, Finished, State
from kiosk.session.family_decided import (
    FamilyMember,
    build_family_records,
    decide_family,
    member_id,
)
from kiosk.session.steps import PASSAGE_OUTCOMES, Outcome, PassageResult
from kiosk.session.transaction import TransactionOutcome
from models.records import DecidedTransaction, Decision, ReasonCode

if TYPE_CHECKING:
    from kiosk.session.engine import SessionEngine

log = logging.getLogger(__name__)


class FamilyIntake:
    """What the traveller announced for the next transaction (its number of passports) and the
    hand-over of the next member's passport to the transaction waiting for it."""

    def __init__(self, max_members: Callable[[], int], engine: SessionEngine) -> None:
        self._max_members = max_members
        self._engine = engine
        self.size = 1
        self._documents: queue.Queue[list[str]] = queue.Queue(maxsize=1)
        self._awaiting = threading.Event()

    @property
    def limit(self) -> int:
        """The most passports one family transaction may have here (0: no families): the
        policy's ``family_max_members``, and only on a gate that counts persons."""
        limit = self._max_members()
        return limit if limit >= 2 and self._engine.group_passage else 0

    def announce(self, members: int) -> bool:
        if not 2 <= members <= self.limit:
            return False
        self.size = members
        log.info("family transaction of %d announced", members)
        return True

    def reset(self) -> None:
        self.size = 1

    def awaiting(self) -> bool:
        return self._awaiting.is_set()

    def offer(self, lines: list[str]) -> bool:
        """A passport placed while the family waits for its next member."""
        try:
            self._documents.put_nowait(list(lines))
        except queue.Full:
            return False
        return True

    def next_document(self, token: CancelToken, timeout_s: float) -> list[str] | None:
        """The next member's MRZ lines, placed within ``timeout_s``; None on time-out or
        cancel. Only a document presented while waiting counts."""
        while not self._documents.empty():
            self._documents.get_nowait()
        self._awaiting.set()
        deadline = time.monotonic() + timeout_s
        try:
            while not token.is_set() and time.monotonic() < deadline:
                try:
                    return self._documents.get(timeout=0.05)
                except queue.Empty:
                    continue
            return None
        finally:
            self._awaiting.clear()


def run_family(
    engine: SessionEngine, txn: str, lines: list[str], token: CancelToken, size: int
) -> TransactionOutcome:
    """Read, match and screen ``size`` members, then decide and pass them together."""
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    members: list[FamilyMember] = []
    log.info("family transaction of %d", size)
    next_lines: list[str] | None = lines
    while len(members) < size:
        if next_lines is None:  # the next passport never came: nobody is decided
            log.info("family: passport %d of %d not placed in time", len(members) + 1, size)
            return engine._ended_early(txn, Outcome.CANCELLED, timings)
        position = len(members) + 1
        engine.bus.publish(FamilyProgress(txn, position, size))
        own: dict[str, float] = {}
        gathered = engine.gather(
            txn, member_id(txn, position), next_lines, token, own, in_family=True
        )
        timings.update({f"m{position}_{step}": ms for step, ms in own.items()})
        if gathered is Outcome.PLACE_AGAIN:  # the same member places the passport again
            engine._enter(txn, State.PLACE_AGAIN)
        elif isinstance(gathered, Outcome):
            return engine._ended_early(txn, gathered, timings)
        else:
            evidence, early = gathered
            members.append(FamilyMember(evidence, early))
            if early is not None and evidence.fault is None:
                log.info("family: member %d refused at the passport step", position)
                break
            if len(members) == size:
                break
            engine._enter(txn, State.FAMILY_NEXT)
        next_lines = engine.family.next_document(token, engine.timeouts.family_next_s)
        if token.is_set():
            return engine._ended_early(txn, Outcome.CANCELLED, timings)
    return _decide(engine, txn, members, size, timings, token, t_all)


def _decide(
    engine: SessionEngine,
    txn: str,
    members: list[FamilyMember],
    size: int,
    timings: dict[str, float],
    token: CancelToken,
    t_all: float,
) -> TransactionOutcome:
    engine._enter(txn, State.DECISION)
    engine._read_failures = 0
    threshold = engine.pipeline.face_threshold()
    family = decide_family(
        engine.policy, members, today=engine._day(), face_threshold=threshold, expected=size
    )
    records = build_family_records(
        txn,
        members,
        family,
        face_threshold=threshold,
        decided_at=datetime.now(UTC),
        expected=size,
    )
    decision = family.decision
    reasons = family.reason_codes
    try:
        engine.pipeline.record_all(records)
    except Exception as exc:
        log.error("family records failed: %s", getattr(exc, "code", type(exc).__name__))
        decision = Decision.REFER
        reasons = (*reasons, ReasonCode.SYSTEM_MALFUNCTION.value)
    timings["total_before_gate"] = round((time.perf_counter() - t_all) * 1000, 2)
    engine.bus.publish(Decided(txn, decision.value, reasons, dict(timings)))
    log.info("family decision %s reasons=%s", decision.value, ",".join(reasons) or "-")
    if decision is Decision.ACCEPT:
        return _passage(engine, txn, members, records, timings, token)
    engine._enter(txn, State.REFER)
    outcome = Outcome.REFERRED if decision is Decision.REFER else Outcome.REJECTED
    engine.bus.publish(Finished(txn, outcome))
    return TransactionOutcome(txn, decision, reasons, outcome, timings, members=len(members))


def _passage(
    engine: SessionEngine,
    txn: str,
    members: list[FamilyMember],
    accepted: tuple[DecidedTransaction, ...],
    timings: dict[str, float],
    token: CancelToken,
) -> TransactionOutcome:
    """The whole family through the gate at once; a failed passage refers every member."""
    persons = len(accepted)
    t0 = time.perf_counter()
    try:
        passage = PassageResult(
            engine._step(
                txn,
                State.GATE,
                engine.timeouts.gate_s,
                engine.pipeline.pass_gate,
                txn,
                token,
                persons,
            )
        )
        timings["gate"] = round((time.perf_counter() - t0) * 1000, 2)
    except Exception as exc:
        log.warning("gate failed: %s", getattr(exc, "code", type(exc).__name__))
        passage = PassageResult.GATE_FAULT
    log.info("family passage %s (%d persons)", passage.value, persons)
    outcome = PASSAGE_OUTCOMES[passage]
    if passage is PassageResult.PASSED:
        engine._enter(txn, State.DONE)
        engine.bus.publish(Finished(txn, outcome))
        return TransactionOutcome(
            txn, Decision.ACCEPT, (), outcome, timings, passage=passage, members=persons
        )
    referrals = tuple(
        build_passage_referral(
            record,
            passage,
            referral_subject(member.evidence.document, member.evidence.screening),
            decided_at=datetime.now(UTC),
            timings_ms=timings,
        )
        for record, member in zip(accepted, members, strict=True)
    )
    try:
        engine.pipeline.record_all(referrals)
    except Exception as exc:  # the gate is closed; the log and the event still say why
        log.error("family passage referral not stored: %s", getattr(exc, "code", "error"))
    reasons = tuple(dict.fromkeys(r.value for referral in referrals for r in referral.reasons))
    engine.bus.publish(Decided(txn, Decision.REFER.value, reasons, dict(timings)))
    engine._enter(txn, State.REFER)
    engine.bus.publish(Finished(txn, outcome))
    return TransactionOutcome(
        txn, Decision.REFER, reasons, outcome, timings, passage=passage, members=persons
    )
