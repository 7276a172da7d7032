"""Typed errors of the ICAO 9303 protocol code.

Parse errors (bad bytes from the chip) derive from :class:`models.errors.ParseError`; protocol
failures (status words, secure messaging, authentication) from
:class:`models.errors.ProtocolError`. Messages never carry chip data or personal data.
"""

from __future__ import annotations

from models.errors import ParseError, ProtocolError


class TlvError(ParseError):
    """A BER-TLV structure is malformed (bad tag, bad length, truncated)."""

    code = "icao_tlv_invalid"


class ApduFormatError(ParseError):
    """An APDU is malformed (too short, inconsistent Lc/Le)."""

    code = "icao_apdu_invalid"


class SecurityInfoError(ParseError):
    """EF.CardAccess / SecurityInfos could not be parsed."""

    code = "icao_security_info_invalid"


class TruncatedFileError(ParseError):
    """A file ended before the length its BER-TLV header claims (the chip answered 6B00 or
    nothing more). ``partial`` holds the bytes that were read, for the caller to keep as the
    file's content; the message gives byte counts only."""

    code = "icao_file_truncated"

    def __init__(self, partial: bytes, expected: int) -> None:
        super().__init__(f"file ended after {len(partial)} of {expected} bytes")
        self.partial = partial
        self.expected = expected


class ApduError(ProtocolError):
    """The chip answered a command with an error status word."""

    code = "icao_status_word"

    def __init__(self, message: str = "", *, sw: int = 0, code: str | None = None) -> None:
        super().__init__(message or f"chip answered status word {sw:04X}", code=code)
        self.sw = sw


class WrongLengthError(ApduError):
    """6700 or 6Cxx: the chip rejected the length."""

    code = "icao_wrong_length"


class SecurityStatusNotSatisfiedError(ApduError):
    """6982: access control has not been performed (or was lost)."""

    code = "icao_security_status"


class SmDataObjectsError(ApduError):
    """6987/6988: the chip rejected the secure messaging objects and dropped the session."""

    code = "icao_sm_rejected"


class ChipFileNotFoundError(ApduError):
    """6A82: the file or application does not exist on the chip."""

    code = "icao_file_not_found"


class OffsetOutOfRangeError(ApduError):
    """6B00: the offset lies beyond the end of the file."""

    code = "icao_offset_out_of_range"


class InstructionNotSupportedError(ApduError):
    """6D00 / 6E00: the chip does not know the instruction or class."""

    code = "icao_ins_not_supported"


class VerificationFailedError(ApduError):
    """6300 / 63Cx: the chip rejected the authentication data."""

    code = "icao_verification_failed"

    @property
    def retries_left(self) -> int | None:
        return self.sw & 0x0F if (self.sw & 0xFFF0) == 0x63C0 else None


class SecureMessagingError(ProtocolError):
    """A secure messaging response failed verification; the session is over."""

    code = "icao_sm_failed"


class UnprotectedResponseError(SecureMessagingError):
    """Once secure messaging is up the chip answered without it (a plain status word, even
    6A82): a chip anomaly. The session ends; nothing falls back to plaintext."""

    code = "icao_sm_unprotected_response"


class ChannelClosedError(SecureMessagingError):
    """The secure channel ended after an error; no command may be sent in plaintext now."""

    code = "icao_sm_channel_closed"


class AccessDeniedError(ProtocolError):
    """Access control (BAC or PACE) failed: most often a wrong MRZ or CAN."""

    code = "icao_access_denied"
    user_message = "The passport chip refused access. Please check the document and try again."


class AuthenticationError(ProtocolError):
    """The chip's authentication data was wrong (token, cryptogram, key) - possible forgery."""

    code = "icao_authentication_failed"


class UnsupportedProtocolError(ProtocolError):
    """The chip offers only protocols or parameters this implementation does not support."""

    code = "icao_unsupported_protocol"
