"""Referrals from the central server's officer API (the booth of a site with a server).

    POST {base}/v1/auth/token                       {"username", "password"} -> bearer token
                                                    (429 + Retry-After: throttled account)
    GET  {base}/v1/referrals?status=open            -> {"items": [ReferralOut...]}
    GET  {base}/v1/referrals/{transaction_id}       -> ReferralDetailOut (checks, document)
    POST {base}/v1/referrals/{id}/resolution        {"outcome", "note"}; 409 when resolved

The server audits every look and every resolution under the token's user. The kiosk never
sends the chip photo or the live capture to the server, so a referral seen here has none and
says so. Network failures and unexpected answers become :class:`SourceUnavailableError`, an
expired token :class:`SessionExpiredError`; answers are bounded and checked.
"""

from __future__ import annotations

import logging
import ssl
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from kiosk.officer.referrals import (
    CheckLine,
    LoginFailedError,
    OfficerSession,
    ReferralClosedError,
    ReferralDetail,
    ReferralNotFoundError,
    ReferralSummary,
    SessionExpiredError,
    SourceUnavailableError,
    clean_note,
    face_score,
    screening_hits,
)
from models.errors import ConfigError
from models.records import ReferralOutcome

log = logging.getLogger(__name__)

LOGIN_PATH = "/v1/auth/token"
REFERRALS_PATH = "/v1/referrals"
MAX_ITEMS = 500  # the server's largest page
MAX_CHECKS = 64
IMAGES_AT_KIOSK = "Photos stay at the kiosk: they are not sent to the server."
DOCUMENT_LABELS = (
    ("doc_type", "Document type"),
    ("issuer", "Issuing state"),
    ("nationality", "Nationality"),
    ("expiry_date", "Expiry date"),
)


class LoginThrottledError(LoginFailedError):
    """The server throttles this account from this booth after failed logins (429)."""

    code = "officer_login_throttled"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"login throttled for {retry_after_s} s")
        self.retry_after_s = retry_after_s
        minutes, seconds = divmod(retry_after_s, 60)
        wait = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
        self.user_message = (
            f"This account is throttled after failed logins: try again in {wait}. "
            "The server is working."
        )


def _retry_after(response: httpx.Response) -> int:
    try:
        return max(1, min(86_400, int(response.headers.get("retry-after", "60"))))
    except ValueError:
        return 60


class HttpReferralSource:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str | ssl.SSLContext = True,
        face_threshold: float | None = None,
    ) -> None:
        """``verify``: True (system CAs), a CA file (the server's own CA) or a context."""
        self.face_threshold = face_threshold
        if isinstance(verify, str):
            try:
                verify = ssl.create_default_context(cafile=verify)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"the server CA {verify} cannot be read") from exc
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
        if response.status_code == 401:
            raise SessionExpiredError("the server refused the token")
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
        if response.status_code == 429:
            raise LoginThrottledError(_retry_after(response))
        data = self._json(response)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise SourceUnavailableError("server answer has no token")
        return OfficerSession(officer_id=username, token=token, role=str(data.get("role", "")))

    def open_referrals(self, session: OfficerSession) -> list[ReferralSummary]:
        data = self._json(
            self._call(
                "GET", REFERRALS_PATH, session, params={"status": "open", "limit": MAX_ITEMS}
            )
        )
        items = data.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise SourceUnavailableError("server answer has no list of referrals")
        return [_summary(item) for item in items]

    def referral(self, session: OfficerSession, transaction_id: str) -> ReferralDetail:
        response = self._call("GET", _path(transaction_id), session)
        if response.status_code == 404:
            raise ReferralNotFoundError(f"no referral {transaction_id}")
        data = self._json(response)
        summary = _summary(data)
        raw_checks = data.get("checks")
        if not isinstance(raw_checks, list) or len(raw_checks) > MAX_CHECKS:
            raise SourceUnavailableError("server answer has no list of checks")
        checks = tuple(_check(c) for c in raw_checks)
        return ReferralDetail(
            summary=summary,
            checks=checks,
            document=_document(summary, data.get("document")),
            face_score=face_score(checks),
            face_threshold=self.face_threshold,
            screening_hits=screening_hits(checks),
            complete=bool(checks),
            images_note=IMAGES_AT_KIOSK,
        )

    def resolve(
        self,
        session: OfficerSession,
        transaction_id: str,
        outcome: ReferralOutcome,
        note: str,
    ) -> None:
        body = {"outcome": outcome.value, "note": clean_note(note)}
        response = self._call("POST", f"{_path(transaction_id)}/resolution", session, json=body)
        if response.status_code == 404:
            raise ReferralNotFoundError(f"no referral {transaction_id}")
        if response.status_code == 409:
            raise ReferralClosedError(f"referral {transaction_id} is already resolved")
        self._json(response)
        log.info("referral %s resolved on the server: %s", transaction_id, outcome.value)

    def close(self) -> None:
        self._client.close()


def _path(transaction_id: str) -> str:
    return f"{REFERRALS_PATH}/{quote(transaction_id, safe='')}"


def _text(item: dict[str, Any], key: str, limit: int = 200) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise SourceUnavailableError(f"server answer has a bad {key}")
    return value


def _document(summary: ReferralSummary, raw: Any) -> dict[str, str]:
    data: dict[str, str] = {}
    if summary.surname or summary.given_names:
        data["Name"] = summary.display_name
    if summary.birth_date is not None:
        data["Date of birth"] = summary.birth_date.isoformat()
    if raw is None:
        return data
    if not isinstance(raw, dict):
        raise SourceUnavailableError("server answer has a bad document")
    for key, label in DOCUMENT_LABELS:
        data[label] = _text(raw, key, 16) or "-"
    chip_read = raw.get("chip_read")
    if isinstance(chip_read, bool):
        data["Chip read"] = "yes" if chip_read else "no"
    return data


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
