"""Referrals from the central server's officer API (the booth of a site with a server).

    POST   {base}/v1/auth/token                  {"username", "password"} -> bearer token
                                                 (429 + Retry-After: throttled account,
                                                 or {"throttled": "address"}: this booth's
                                                 address, after failed logins of any names)
    GET    {base}/v1/referrals?status=open&offset=&limit=&kiosk=   -> {"items", "total"}
    GET    {base}/v1/referrals/{id}?kiosk_id=    -> ReferralDetailOut (checks, document)
    GET    {base}/v1/referrals/{id}/photos       -> chip photo and best live frame (base64)
    POST   {base}/v1/referrals/{id}/claim        (DELETE releases); 409 when taken
    POST   {base}/v1/referrals/{id}/resolution   {"outcome", "note"}; 409 when resolved
    POST   {base}/v1/referrals/{id}/approval     {"approve", "note"} by a second officer
    GET    {base}/v1/reports/shift, /v1/reports/admit-rates
    GET    {base}/v1/lanes, POST {base}/v1/lanes/{lane}/actions

Every call on one referral names it by ``?kiosk_id=`` and its transaction id: two kiosks of
a site may use the same transaction id. The server audits every look (lists included), every
view of the photos and every action under the token's user. Network failures and unexpected
answers become :class:`SourceUnavailableError`, an expired token :class:`SessionExpiredError`;
answers are bounded and checked.
"""

from __future__ import annotations

import base64
import binascii
import logging
import ssl
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from kiosk.officer.referrals import (
    ApprovalRefusedError,
    CheckLine,
    LoginFailedError,
    OfficerSession,
    PhotosNotShownError,
    ReferralAmbiguousError,
    ReferralClaimedError,
    ReferralClosedError,
    ReferralDetail,
    ReferralNotFoundError,
    ReferralPage,
    ReferralSummary,
    Resolution,
    SessionExpiredError,
    SourceUnavailableError,
    clean_note,
    face_score,
    screening_hits,
)
from kiosk.officer.wall import WallCallback, WallStream
from models.errors import ConfigError
from models.family import FamilyTag, family_message, parse_family
from models.records import ListedPerson, ReferralOutcome

log = logging.getLogger(__name__)

LOGIN_PATH = "/v1/auth/token"
REFERRALS_PATH = "/v1/referrals"
MAX_ITEMS = 500  # the server's largest page
MAX_CHECKS = 64
MAX_IMAGE_B64 = 2_100_000
NO_PHOTOS_YET = "The photos have not reached the server yet."
PHOTOS_PURGED = "The photos were deleted after the retention period."
DOCUMENT_LABELS = (
    ("doc_type", "Document type"),
    ("issuer", "Issuing state"),
    ("nationality", "Nationality"),
    ("expiry_date", "Expiry date"),
)


def _wait_text(retry_after_s: int) -> str:
    minutes, seconds = divmod(retry_after_s, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class LoginThrottledError(LoginFailedError):
    """The server throttles this account from this booth after failed logins (429)."""

    code = "officer_login_throttled"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"login throttled for {retry_after_s} s")
        self.retry_after_s = retry_after_s
        self.user_message = (
            f"This account is throttled after failed logins: try again in "
            f"{_wait_text(retry_after_s)}. The server is working."
        )


class LoginAddressThrottledError(LoginThrottledError):
    """The server throttles every login from this booth's network address after too many
    failed logins from it, whatever the accounts (429, ``"throttled": "address"``)."""

    code = "officer_login_address_throttled"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.user_message = (
            "Logins from this booth's network address are throttled after too many failed "
            f"logins (of any account): try again in {_wait_text(retry_after_s)}. Another "
            "account will not help. The server is working."
        )


def _retry_after(response: httpx.Response) -> int:
    try:
        return max(1, min(86_400, int(response.headers.get("retry-after", "60"))))
    except ValueError:
        return 60


def _throttled(response: httpx.Response) -> LoginThrottledError:
    """What a 429 to a login says is throttled: this booth's address, or the account (an
    answer without a readable ``"throttled"`` is the account's, as older servers sent)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    scope = data.get("throttled") if isinstance(data, dict) else None
    if scope == "address":
        return LoginAddressThrottledError(_retry_after(response))
    return LoginThrottledError(_retry_after(response))


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
        self.base_url = base_url.rstrip("/")
        if isinstance(verify, str):
            try:
                verify = ssl.create_default_context(cafile=verify)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"the server CA {verify} cannot be read") from exc
        self.verify = verify
        self._client = httpx.Client(
            base_url=self.base_url, timeout=timeout_s, transport=transport, verify=verify
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
            raise _throttled(response)
        data = self._json(response)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise SourceUnavailableError("server answer has no token")
        return OfficerSession(officer_id=username, token=token, role=str(data.get("role", "")))

    def open_referrals(self, session: OfficerSession) -> list[ReferralSummary]:
        return list(self.page(session, limit=MAX_ITEMS).items)

    def page(
        self,
        session: OfficerSession,
        *,
        status: str = "open",
        kiosk: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> ReferralPage:
        """One page of the queue (hits first, newest first) or of the history (``resolved``)."""
        params: dict[str, Any] = {"status": status, "offset": offset, "limit": limit}
        if kiosk:
            params["kiosk"] = kiosk
        data = self._json(self._call("GET", REFERRALS_PATH, session, params=params))
        items = data.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise SourceUnavailableError("server answer has no list of referrals")
        total = data.get("total", len(items))
        if not isinstance(total, int) or total < 0:
            raise SourceUnavailableError("server answer has a bad total")
        return ReferralPage(tuple(_summary(item) for item in items), total, offset)

    def referral(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> ReferralDetail:
        response = self._call("GET", _path(transaction_id), session, params=_kiosk(kiosk_id))
        if response.status_code == 404:
            raise ReferralNotFoundError(f"no referral {transaction_id}")
        if response.status_code == 409:
            raise ReferralAmbiguousError(_detail(response))
        data = self._json(response)
        summary = _summary(data)
        raw_checks = data.get("checks")
        if not isinstance(raw_checks, list) or len(raw_checks) > MAX_CHECKS:
            raise SourceUnavailableError("server answer has no list of checks")
        checks = tuple(_check(c) for c in raw_checks)
        photos = data.get("photos") or []
        portrait = capture = None
        note: str | None = PHOTOS_PURGED if data.get("photos_purged") else NO_PHOTOS_YET
        if isinstance(photos, list) and photos:
            portrait, capture = self.photos(session, transaction_id, kiosk_id=summary.kiosk_id)
            note = None if portrait or capture else NO_PHOTOS_YET
        return ReferralDetail(
            summary=summary,
            checks=checks,
            document=_document(summary, data.get("document")),
            face_score=face_score(checks),
            face_threshold=self.face_threshold,
            chip_portrait=portrait,
            live_capture=capture,
            screening_hits=screening_hits(checks),
            complete=bool(checks),
            images_note=note,
            document_number=_text(data, "document_number_full", 20),
        )

    def photos(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> tuple[bytes | None, bytes | None]:
        """The chip photo and the best live frame (the server audits this view)."""
        response = self._call(
            "GET", f"{_path(transaction_id)}/photos", session, params=_kiosk(kiosk_id)
        )
        if response.status_code == 404:
            return None, None
        data = self._json(response)
        return _image(data, "chip_portrait"), _image(data, "live_frame")

    def claim(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> None:
        path = f"{_path(transaction_id)}/claim"
        self._checked(self._call("POST", path, session, params=_kiosk(kiosk_id)))

    def release(
        self, session: OfficerSession, transaction_id: str, *, kiosk_id: str | None = None
    ) -> None:
        path = f"{_path(transaction_id)}/claim"
        response = self._call("DELETE", path, session, params=_kiosk(kiosk_id))
        if response.status_code != 409:  # not ours (any more): nothing to release
            self._checked(response)

    def _checked(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code == 404:
            raise ReferralNotFoundError("no such referral")
        if response.status_code == 403:
            raise ApprovalRefusedError(_detail(response))
        if response.status_code == 409:
            detail = _detail(response)
            if "several kiosks" in detail:
                raise ReferralAmbiguousError(detail)
            if "claimed" in detail:
                raise ReferralClaimedError(detail)
            if "photos" in detail:
                raise PhotosNotShownError(detail)
            raise ReferralClosedError(detail)
        return self._json(response)

    def resolve(
        self,
        session: OfficerSession,
        transaction_id: str,
        outcome: ReferralOutcome,
        note: str,
        *,
        kiosk_id: str | None = None,
    ) -> Resolution:
        body = {"outcome": outcome.value, "note": clean_note(note)}
        response = self._call("POST", f"{_path(transaction_id)}/resolution", session,
                              json=body, params=_kiosk(kiosk_id))  # fmt: skip
        data = self._checked(response)
        log.info("referral %s resolved on the server: %s", transaction_id, outcome.value)
        return _resolution(transaction_id, data)

    def approve(
        self,
        approver: OfficerSession,
        transaction_id: str,
        approve: bool,
        note: str,
        *,
        kiosk_id: str | None = None,
    ) -> Resolution:
        """The second officer's answer, with their own token."""
        body = {"approve": approve, "note": clean_note(note)}
        response = self._call("POST", f"{_path(transaction_id)}/approval", approver,
                              json=body, params=_kiosk(kiosk_id))  # fmt: skip
        return _resolution(transaction_id, self._checked(response))

    def shift_report(self, session: OfficerSession, hours: float = 8.0) -> dict[str, object]:
        return self._json(self._call("GET", "/v1/reports/shift", session, params={"hours": hours}))

    def admit_rates(self, session: OfficerSession, days: float = 30.0) -> dict[str, object]:
        return self._json(
            self._call("GET", "/v1/reports/admit-rates", session, params={"days": days})
        )

    def lanes(self, session: OfficerSession) -> list[dict[str, Any]]:
        items = self._json(self._call("GET", "/v1/lanes", session)).get("items")
        if not isinstance(items, list):
            raise SourceUnavailableError("server answer has no list of lanes")
        return [item for item in items if isinstance(item, dict)]

    def lane_action(self, session: OfficerSession, lane: str, action: str, note: str = "") -> None:
        path = f"/v1/lanes/{quote(lane, safe='')}/actions"
        response = self._call("POST", path, session, json={"action": action, "note": note})
        if response.status_code == 404:
            raise ReferralNotFoundError("no such lane at your site")
        self._json(response)

    def wall_stream(
        self,
        token: Callable[[], str | None],
        on_event: WallCallback,
        on_expired: Callable[[], None] | None = None,
    ) -> WallStream:
        """The running reader of the server's wall events (server-sent events);
        ``on_expired`` when the officer must sign in again."""
        stream = WallStream(self.base_url, token, on_event, verify=self.verify,
                            on_expired=on_expired)  # fmt: skip
        return stream.start()

    def close(self) -> None:
        self._client.close()


def _path(transaction_id: str) -> str:
    return f"{REFERRALS_PATH}/{quote(transaction_id, safe='')}"


def _kiosk(kiosk_id: str | None) -> dict[str, str]:
    """The kiosk that names the referral with its transaction id (``?kiosk_id=``)."""
    return {"kiosk_id": kiosk_id} if kiosk_id else {}


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
            hit=item.get("hit") is True,
            document_number=_text(item, "document_number", 20),
            listed=_listed(item.get("listed")),
            claimed_by=_text(item, "claimed_by", 64),
            pending_by=_text(item, "pending_by", 64),
            pending_at=datetime.fromisoformat(str(item["pending_at"]))
            if item.get("pending_at")
            else None,
            outcome=_text(item, "outcome", 32),
            officer=_text(item, "officer", 64),
            approved_by=_text(item, "approved_by", 64),
            resolved_at=datetime.fromisoformat(str(item["resolved_at"]))
            if item.get("resolved_at")
            else None,
            site=_text(item, "site", 64),
            family=_family(item),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SourceUnavailableError("server answer has a bad referral") from exc


def _family(item: dict[str, Any]) -> FamilyTag | None:
    """The member's place in a family transaction, if the server names one (a bad value is
    a bad answer, not a family)."""
    family_id = _text(item, "family_id", 120)
    if family_id is None:
        return None
    position, size = item.get("family_position"), item.get("family_size")
    if not isinstance(position, int) or not isinstance(size, int):
        raise ValueError("family")
    tag = parse_family(family_message(family_id, position, size))
    if tag is None:
        raise ValueError("family")
    return tag


def _check(item: Any) -> CheckLine:
    if not isinstance(item, dict):
        raise SourceUnavailableError("server answer has a bad check")
    return CheckLine(
        name=_text(item, "name", 64) or "?",
        status=_text(item, "status", 16) or "?",
        reason=_text(item, "reason", 64),
        message=_text(item, "message", 500) or "",
    )


def _listed(raw: Any) -> tuple[ListedPerson, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 10:
        raise ValueError("listed")
    people = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise ValueError("listed entry")
        agreeing = entry.get("agreeing") or []
        people.append(
            ListedPerson(
                list_name=str(entry.get("list_name", ""))[:64] or "?",
                reference=str(entry.get("reference", ""))[:128],
                surname=str(entry.get("surname", ""))[:120],
                given_names=str(entry.get("given_names", ""))[:120],
                birth_date=str(entry.get("birth_date", ""))[:10],
                nationality=str(entry.get("nationality", ""))[:3],
                score=min(1.0, max(0.0, float(entry.get("score", 0.0)))),
                agreeing=tuple(str(a)[:32] for a in agreeing[:8]),
            )
        )
    return tuple(people)


def _image(data: dict[str, Any], key: str) -> bytes | None:
    value = data.get(key)
    if not isinstance(value, str) or len(value) > MAX_IMAGE_B64:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return f"server answered {response.status_code}"
    return str(detail)[:200]


def _resolution(transaction_id: str, data: dict[str, Any]) -> Resolution:
    return Resolution(
        transaction_id=transaction_id,
        status=str(data.get("status", "")),
        needs_approval=data.get("needs_approval") is True,
    )
