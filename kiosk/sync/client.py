"""HTTP client of the central server: httpx with the kiosk's client certificate (mutual
TLS), verifying the server against the CA from enrolment. Errors become typed sync errors."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from kiosk.config import SyncConfig
from kiosk.sync.errors import ServerRefusedError, ServerUnreachableError, SyncNotConfiguredError

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


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:200]
    return str(detail)[:300]
