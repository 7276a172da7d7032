"""Referrals from the central server's officer API (the booth of a site with a server).

    POST {base}/api/v1/auth/login                       {"username", "password"} -> token
    GET  {base}/api/v1/referrals?status=open            -> {"items": [ReferralOut...]}
    GET  {base}/api/v1/referrals/{transaction_id}       -> ReferralOut (+ checks when offered)
    POST {base}/api/v1/referrals/{id}/resolution        {"outcome", "note"}

The server audits every call it serves under the token's officer. Network failures and
unexpected answers become :class:`SourceUnavailableError`; answers are bounded and checked.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import httpx

from kiosk.officer.referrals import (
    CheckLine,
    LoginFailedError,
    OfficerSession,
    ReferralClosedError,
    ReferralDetail,
    ReferralNotFoundError,
    ReferralSummary,
    SourceUnavailableError,
    clean_note,
    face_score,
    screening_hits,
)
from models.records import ReferralOutcome

log = logging.getLogger(__name__)

LOGIN_PATH = "/api/v1/auth/login"
REFERRALS_PATH = "/api/v1/referrals"
MAX_ITEMS = 1000


class HttpReferralSource:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport, verify=verify
        )

    def _call(
        self,
        method: str,
        path: str,
        session: OfficerSession | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {session.token}"} if session else {}
        try:
            return self._client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise SourceUnavailableError(f"server unreachable ({type(exc).__name__})") from exc

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise SourceUnavailableError(f"server answered {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise SourceUnavailableError("server answer is not JSON") from exc
        if not isinstance(data, dict):
            raise SourceUnavailableError("server answer is not an object")
        return data

    def login(self, username: str, password: str) -> OfficerSession:
        response = self._call("POST", LOGIN_PATH, json={"username": username, "password": password})
        if response.status_code in (401, 403, 422):
            raise LoginFailedError("login failed")
        data = self._json(response)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise SourceUnavailableError("server answer has no token")
        return OfficerSession(officer_id=username, token=token, role=str(data.get("role", "")))

    def open_referrals(self, session: OfficerSession) -> list[ReferralSummary]:
        data = self._json(self._call("GET", REFERRALS_PATH, session, params={"status": "open"}))
        items = data.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise SourceUnavailableError("server answer has no list of referrals")
        return [_summary(item) for item in items]

    def referral(self, session: OfficerSession, transaction_id: str) -> ReferralDetail:
        response = self._call("GET", f"{REFERRALS_PATH}/{transaction_id}", session)
        if response.status_code == 404:
            raise ReferralNotFoundError(f"no referral {transaction_id}")
        data = self._json(response)
        summary = _summary(data)
        raw_checks = data.get("checks")
        checks = tuple(_check(c) for c in raw_checks) if isinstance(raw_checks, list) else ()
        document = {"Name": summary.display_name}
        if summary.birth_date:
            document["Date of birth"] = summary.birth_date.isoformat()
        return ReferralDetail(
            summary=summary,
            checks=checks,
            document=document,
            face_score=face_score(checks),
            screening_hits=screening_hits(checks),
            complete=bool(checks),
        )

    def resolve(
        self,
        session: OfficerSession,
        transaction_id: str,
        outcome: ReferralOutcome,
        note: str,
    ) -> None:
        body = {"outcome": outcome.value, "note": clean_note(note)}
        response = self._call(
            "POST", f"{REFERRALS_PATH}/{transaction_id}/resolution", session, json=body
        )
        if response.status_code == 404:
            raise ReferralNotFoundError(f"no referral {transaction_id}")
        if response.status_code == 409:
            raise ReferralClosedError(f"referral {transaction_id} is already resolved")
        if response.status_code >= 400:
            raise SourceUnavailableError(f"server answered {response.status_code}")
        log.info("referral %s resolved on the server: %s", transaction_id, outcome.value)

    def close(self) -> None:
        self._client.close()


def _text(item: dict[str, Any], key: str, limit: int = 200) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise SourceUnavailableError(f"server answer has a bad {key}")
    return value


def _summary(item: Any) -> ReferralSummary:
    if not isinstance(item, dict):
        raise SourceUnavailableError("server answer has a bad referral")
    try:
        created = datetime.fromisoformat(str(item["created_at"]))
        birth = _text(item, "birth_date", 10)
        reasons = item.get("reasons") or []
        if not isinstance(reasons, list) or len(reasons) > 32:
            raise ValueError("reasons")
        return ReferralSummary(
            transaction_id=str(_text(item, "transaction_id", 64)),
            kiosk_id=_text(item, "kiosk_id", 64) or "-",
            created_at=created,
            reasons=tuple(str(r)[:64] for r in reasons),
            surname=_text(item, "surname", 120),
            given_names=_text(item, "given_names", 120),
            birth_date=date.fromisoformat(birth) if birth else None,
            status=_text(item, "status", 16) or "open",
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SourceUnavailableError("server answer has a bad referral") from exc


def _check(item: Any) -> CheckLine:
    if not isinstance(item, dict):
        raise SourceUnavailableError("server answer has a bad check")
    return CheckLine(
        name=_text(item, "name", 64) or "?",
        status=_text(item, "status", 16) or "?",
        reason=_text(item, "reason", 64),
        message=_text(item, "message", 500) or "",
    )
