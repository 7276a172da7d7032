"""The one exception tree of the project, with stable codes.

Every layer raises subclasses of :class:`KioskError`. ``code`` is stable (tools and the
audit trail read it); ``user_message`` is what a traveller or officer may be shown and never
carries personal data; the ``str()`` of the exception is the internal message for logs, which
must not carry personal data either.
"""

from __future__ import annotations


class KioskError(Exception):
    """Root of every error the kiosk raises on purpose."""

    code: str = "kiosk_error"
    user_message: str = "Please see an officer."

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code is not None:
            self.code = code


class ConfigError(KioskError):
    """The configuration is invalid."""

    code = "config_invalid"


class ParseError(KioskError):
    """Data from outside (MRZ text, chip files, images, requests) could not be parsed."""

    code = "parse_error"
    user_message = "The document could not be read. Please see an officer."


class DeviceError(KioskError):
    """A device failed or is not available."""

    code = "device_error"
    user_message = "This gate is temporarily unavailable. Please see an officer."


class DeviceNotAvailableError(DeviceError):
    """A device driver's library or the device itself is missing."""

    code = "device_not_available"


class ProtocolError(KioskError):
    """A protocol with the chip or the server went wrong."""

    code = "protocol_error"
    user_message = "The passport chip could not be read. Please see an officer."


class StorageError(KioskError):
    """The local database or a file store failed."""

    code = "storage_error"
