"""ISO/IEC 7816-4 command and response APDUs, short and extended length, and status words."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.icao.errors import (
    ApduError,
    ApduFormatError,
    ChipFileNotFoundError,
    InstructionNotSupportedError,
    OffsetOutOfRangeError,
    SecurityStatusNotSatisfiedError,
    SmDataObjectsError,
    VerificationFailedError,
    WrongLengthError,
)

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # fewer bytes than Le could be read
SW_VERIFICATION_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_STATUS = 0x6982
SW_AUTH_BLOCKED = 0x6983
SW_CONDITIONS = 0x6985
SW_SM_OBJECTS_MISSING = 0x6987
SW_SM_OBJECTS_INCORRECT = 0x6988
SW_WRONG_DATA = 0x6A80
SW_FUNC_NOT_SUPPORTED = 0x6A81
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_REF_NOT_FOUND = 0x6A88
SW_OFFSET_OUT_OF_RANGE = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_UNKNOWN = 0x6F00

SHORT_MAX_LC = 255
SHORT_MAX_LE = 256
EXTENDED_MAX_LE = 65536


@dataclass(frozen=True, slots=True)
class CommandApdu:
    """A command APDU. ``le`` is the expected response length (256 / 65536 = 'maximum')."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    force_extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} out of range")
        if len(self.data) > 65535:
            raise ValueError("command data longer than 65535 bytes")
        if self.le is not None and not 1 <= self.le <= EXTENDED_MAX_LE:
            raise ValueError("le out of range")

    @property
    def extended(self) -> bool:
        return (
            self.force_extended
            or len(self.data) > SHORT_MAX_LC
            or (self.le is not None and self.le > SHORT_MAX_LE)
        )

    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def to_bytes(self) -> bytes:
        out = bytearray(self.header())
        if self.extended:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                if not self.data:
                    out += b"\x00"
                out += (self.le % EXTENDED_MAX_LE).to_bytes(2, "big")
        else:
            if self.data:
                out += bytes([len(self.data)]) + self.data
            if self.le is not None:
                out.append(self.le % SHORT_MAX_LE)
        return bytes(out)

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Parse a command APDU (ISO/IEC 7816-3 cases 1, 2S/E, 3S/E, 4S/E)."""
        n = len(raw)
        if n < 4:
            raise ApduFormatError(f"command APDU of {n} bytes is shorter than a header")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        if n == 4:
            return cls(cla, ins, p1, p2)
        b4 = raw[4]
        if n == 5:
            return cls(cla, ins, p1, p2, le=b4 or SHORT_MAX_LE)
        if b4 != 0:
            if n == 5 + b4:
                return cls(cla, ins, p1, p2, bytes(raw[5:]))
            if n == 6 + b4:
                return cls(cla, ins, p1, p2, bytes(raw[5:-1]), le=raw[-1] or SHORT_MAX_LE)
            raise ApduFormatError("short Lc does not match the command length")
        if n < 7:
            raise ApduFormatError("truncated extended length")
        word = int.from_bytes(raw[5:7], "big")
        if n == 7:
            return cls(cla, ins, p1, p2, le=word or EXTENDED_MAX_LE, force_extended=True)
        if word == 0:
            raise ApduFormatError("extended Lc of zero")
        if n == 7 + word:
            return cls(cla, ins, p1, p2, bytes(raw[7:]), force_extended=True)
        if n == 9 + word:
            le = int.from_bytes(raw[-2:], "big") or EXTENDED_MAX_LE
            return cls(cla, ins, p1, p2, bytes(raw[7:-2]), le=le, force_extended=True)
        raise ApduFormatError("extended Lc does not match the command length")


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise ApduFormatError(f"response of {len(raw)} bytes has no status word")
        sw1 = raw[-2]
        if sw1 & 0xF0 not in (0x60, 0x90):
            raise ApduFormatError(f"invalid SW1 {sw1:02X}")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def check(self, context: str = "command") -> ResponseApdu:
        """Return self when the status word says success, else raise its typed error."""
        if self.sw == SW_OK:
            return self
        raise status_error(self.sw, context)


def status_error(sw: int, context: str = "command") -> ApduError:
    """The typed error for a failing status word."""
    message = f"{context} failed with status word {sw:04X}"
    if sw == SW_VERIFICATION_FAILED or (sw & 0xFFF0) == 0x63C0:
        return VerificationFailedError(message, sw=sw)
    if sw == SW_WRONG_LENGTH or (sw >> 8) == 0x6C:
        return WrongLengthError(message, sw=sw)
    if sw == SW_SECURITY_STATUS:
        return SecurityStatusNotSatisfiedError(message, sw=sw)
    if sw in (SW_SM_OBJECTS_MISSING, SW_SM_OBJECTS_INCORRECT):
        return SmDataObjectsError(message, sw=sw)
    if sw == SW_FILE_NOT_FOUND:
        return ChipFileNotFoundError(message, sw=sw)
    if sw == SW_OFFSET_OUT_OF_RANGE:
        return OffsetOutOfRangeError(message, sw=sw)
    if sw in (SW_INS_NOT_SUPPORTED, SW_CLA_NOT_SUPPORTED):
        return InstructionNotSupportedError(message, sw=sw)
    return ApduError(message, sw=sw)
