"""Client certificates for the application: uvicorn does not pass the peer certificate of a
TLS connection to the ASGI app, so this h11 protocol reads it from the SSL object when the
connection is made (after the handshake) and adds the ASGI TLS extension to every request's
scope: ``scope["extensions"]["tls"]["client_cert_chain"]`` (PEM strings, leaf first).

The TLS layer has already verified the chain against the device CA; the app still checks the
certificate against the database (known device, not revoked) on every request."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def _tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    der = ssl_object.getpeercert(binary_form=True)
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": None,
        "cipher_suite": None,
        "tls_protocol": ssl_object.version(),
        "tls_cipher": cipher[0] if cipher else None,
    }


class ClientCertH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the ASGI TLS extension."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        extension = _tls_extension(ssl_object)
        inner = self.app

        async def app_with_tls(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] in ("http", "websocket"):
                scope["extensions"] = {**scope.get("extensions", {}), "tls": extension}
            await inner(scope, receive, send)

        self.app = app_with_tls
