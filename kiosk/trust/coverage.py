"""Trust coverage per state of the policy: which CSCAs and CRLs the store holds for each issuer
the gate admits, and whether a chipped passport of that state can pass Passive Authentication
with revocation checked.

Status of a state: ``ok``; ``no_csca`` (no valid CSCA: every chipped passport is referred);
``no_crl`` (a valid CSCA without a CRL: revocation cannot be checked); ``crl_stale`` (a CRL
past its nextUpdate: referred under the default policy); ``not_a_state`` (a code such as UNO
with no country of its own).

:class:`HeartbeatCoverage` is the same computation in the form the heartbeat sends it to the
central server's fleet view (the CSCAs counted, not listed).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.icao.auth.anchors import load_certificate
from kiosk.icao.auth.country_codes import alpha2_of
from kiosk.icao.auth.revocation import load_crl
from kiosk.storage.database import Database
from kiosk.trust.records import CSCA, LINK, name_key
from kiosk.trust.store import StoreSignature, TrustStore, store_signature

OK, NO_CSCA, NO_CRL, CRL_STALE, NOT_A_STATE = "ok", "no_csca", "no_crl", "crl_stale", "not_a_state"
# a state still ``ok`` whose CRL's next update comes within this is flagged "due": fetch a CRL
# before it goes stale and refers travellers (the server's fleet view uses the same window)
CRL_DUE_WITHIN = dt.timedelta(hours=48)


@dataclass(frozen=True)
class StateCoverage:
    code: str
    cscas: list[dict[str, Any]]
    crl_next_update: dt.datetime | None
    status: str

    def crl_due(self, now: dt.datetime | None = None) -> bool:
        """Covered now, but the CRL's next update comes within :data:`CRL_DUE_WITHIN`."""
        moment = now or dt.datetime.now(dt.UTC)
        update = self.crl_next_update
        return self.status == OK and update is not None and update < moment + CRL_DUE_WITHIN

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "cscas": self.cscas,
            "crl_next_update": self.crl_next_update.isoformat() if self.crl_next_update else None,
            "status": self.status,
        }


def _csca_entry(entry: Any, next_update: dt.datetime | None, now: dt.datetime) -> dict[str, Any]:
    return {
        "subject": entry.subject,
        "kind": entry.kind,
        "not_before": entry.not_before.isoformat(),
        "not_after": entry.not_after.isoformat(),
        "valid": entry.not_before <= now <= entry.not_after,
        "crl_next_update": next_update.isoformat() if next_update else None,
    }


def state_coverage(
    store: TrustStore, codes: list[str], now: dt.datetime | None = None
) -> list[StateCoverage]:
    """Coverage of each ICAO code in ``codes`` (the policy's eligible issuers)."""
    now = now or dt.datetime.now(dt.UTC)
    certificates = [c for c in store.certificates() if c.kind in (CSCA, LINK)]
    latest: dict[str, dt.datetime | None] = {}  # issuer name key -> latest CRL next update
    for crl in store.crls():
        key = name_key(_crl_issuer(crl.der))
        current = latest.get(key)
        if crl.next_update is not None and (current is None or crl.next_update > current):
            latest[key] = crl.next_update
        else:
            latest.setdefault(key, current)
    out: list[StateCoverage] = []
    for code in codes:
        alpha2 = alpha2_of(code)
        if alpha2 is None:
            out.append(StateCoverage(code, [], None, NOT_A_STATE))
            continue
        mine = [c for c in certificates if c.country == alpha2]
        entries = []
        updates: list[dt.datetime | None] = []
        for cert in mine:
            update = latest.get(_subject_key(cert.der))
            entries.append(_csca_entry(cert, update, now))
            if cert.kind == CSCA and cert.not_before <= now <= cert.not_after:
                updates.append(update)
        if not updates:
            status, next_update = NO_CSCA, None
        elif any(u is None for u in updates):
            status = NO_CRL
            next_update = min((u for u in updates if u is not None), default=None)
        else:
            next_update = min(u for u in updates if u is not None)
            status = CRL_STALE if next_update < now else OK
        out.append(StateCoverage(code, entries, next_update, status))
    return out


def _crl_issuer(der: bytes) -> Any:
    return load_crl(der)["tbs_cert_list"]["issuer"]


def _subject_key(der: bytes) -> str:
    return name_key(load_certificate(der).subject)


class HeartbeatCoverage:
    """``{"states": [{code, cscas, crl_next_update, status}]}`` for the heartbeat: the
    coverage of ``codes`` computed as :func:`state_coverage` does, again only when the store
    changed or ``refresh_s`` passed (certificates expire and CRLs go stale with time)."""

    def __init__(
        self,
        database: Database,
        codes: list[str],
        *,
        refresh_s: float = 600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.codes = list(codes)
        self.refresh_s = refresh_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._signature: StoreSignature | None = None
        self._at = 0.0
        self._report: dict[str, Any] = {"states": []}
        self.computed = 0

    def __call__(self) -> dict[str, Any]:
        signature = store_signature(self.database)
        with self._lock:
            stale = self._monotonic() - self._at >= self.refresh_s
            if signature != self._signature or stale or not self.computed:
                states = state_coverage(TrustStore(self.database), self.codes)
                self._report = {
                    "states": [
                        {
                            "code": s.code,
                            "cscas": len(s.cscas),
                            "crl_next_update": s.crl_next_update.isoformat()
                            if s.crl_next_update
                            else None,
                            "status": s.status,
                        }
                        for s in states
                    ]
                }
                self._signature, self._at = signature, self._monotonic()
                self.computed += 1
            return self._report
