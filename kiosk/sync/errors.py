"""Typed errors of the sync with the server."""

from __future__ import annotations

from models.errors import KioskError


class SyncError(KioskError):
    code = "sync_failed"
    user_message = "The central server could not be reached; records are kept and resent."


class ServerUnreachableError(SyncError):
    """Connection refused or dropped, timeout, or a 5xx: retry later."""

    code = "sync_unreachable"


class ServerCertificateTimeError(ServerUnreachableError):
    """TLS failed on a certificate's validity period: the kiosk clock, or an expired
    certificate. Retried like an unreachable server; the message says which."""

    code = "sync_certificate_time"


class ServerRefusedError(SyncError):
    """A 4xx answer: the request itself (or our credentials) is wrong; retrying the same
    request soon will not help."""

    code = "sync_refused"

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class SyncNotConfiguredError(SyncError):
    code = "sync_not_configured"
    user_message = "No central server is configured."


class ListApplyError(SyncError):
    """A list delta could not be applied locally (storage, file system, malformed change); its
    version is not recorded, so the next cycle tries again."""

    code = "sync_list_apply"
