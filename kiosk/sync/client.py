"""HTTP client of the central server: httpx with the kiosk's client certificate (mutual
TLS), verifying the server against the CA from enrolment. Errors become typed sync errors."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from typing import Any

import httpx

from kiosk.config import SyncConfig
from kiosk.sync.errors import (
    ServerCertificateTimeError,
    ServerRefusedError,
    ServerUnreachableError,
    SyncNotConfiguredError,
)

API = "/v1/kiosk"


def ssl_context(config: SyncConfig) -> ssl.SSLContext:
    if config.ca_cert is None:
        context = ssl.create_default_context()
    else:
        context = ssl.create_default_context(cafile=str(config.ca_cert))
    if config.client_cert is not None:
        context.load_cert_chain(
            str(config.client_cert), str(config.client_key) if config.client_key else None
        )
    return context


class ServerClient:
    """One connection pool to the server; :meth:`close` it (or use ``with``)."""

    def __init__(self, config: SyncConfig, *, timeout_s: float | None = None) -> None:
        if not config.server_url:
            raise SyncNotConfiguredError("sync.server_url is not set")
        verify: ssl.SSLContext | bool = (
            ssl_context(config) if config.server_url.startswith("https") else False
        )
        self._http = httpx.Client(
            base_url=config.server_url.rstrip("/"),
            verify=verify,
            timeout=httpx.Timeout(timeout_s or config.timeout_s),
            headers={"user-agent": "kiosk-sync"},
        )
        self._port = config.port

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """JSON answer of a request; typed errors for the network, 4xx and 5xx."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            time_error = certificate_time_error(exc)
            if time_error is not None:
                raise ServerCertificateTimeError(f"{method} {path}: {time_error}") from exc
            raise ServerUnreachableError(f"{method} {path}: {exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise ServerUnreachableError(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ServerRefusedError(
                f"{method} {path}: HTTP {response.status_code}: {_detail(response)}",
                response.status_code,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ServerUnreachableError(f"{method} {path}: answer is not JSON") from exc

    def post_batch(self, kind_path: str, items: list[dict[str, Any]]) -> Any:
        return self.request("POST", f"{API}/{kind_path}", json={"items": items})

    def list_delta(self, name: str, since: int) -> Any:
        params: dict[str, Any] = {"since": since}
        if name == "manifest" and self._port:
            params["port"] = self._port  # only this port's vetted manifests
        return self.request("GET", f"{API}/lists/{name}", params=params)

    def resolutions(self) -> Any:
        return self.request("GET", f"{API}/resolutions")

    def ack_resolutions(self, transaction_ids: list[str]) -> Any:
        return self.request(
            "POST", f"{API}/resolutions/ack", json={"transaction_ids": transaction_ids}
        )

    def heartbeat(self, body: dict[str, Any]) -> Any:
        return self.request("POST", f"{API}/heartbeat", json=body)


_NOT_YET_VALID, _EXPIRED = 9, 10  # OpenSSL X509_V_ERR_CERT_NOT_YET_VALID, ..._HAS_EXPIRED


def certificate_time_error(exc: BaseException) -> str | None:
    """A clear message when TLS failed because a certificate's validity does not cover the
    kiosk's clock (a clock far behind or ahead fails every sync), else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            code = current.verify_code
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            if code == _NOT_YET_VALID:
                return (
                    f"a certificate of the server is not valid yet at this kiosk's time ({now}):"
                    " the kiosk clock is probably behind; check its time source (NTP)"
                )
            if code == _EXPIRED:
                return (
                    f"a certificate of the server has expired at this kiosk's time ({now}): "
                    "the certificate must be renewed, or the kiosk clock is ahead"
                )
            return None
        current = current.__cause__ or current.__context__
    return None


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:200]
    return str(detail)[:300]
