"""Selecting and reading elementary files (ICAO 9303 Part 10, ISO/IEC 7816-4).

Files are read in chunks sized to what the reader and secure messaging can carry: short
APDUs give 223 plaintext bytes per READ BINARY under secure messaging; extended length (when
the reader supports it) gives much larger chunks. Offsets beyond 32767 use READ BINARY with
the odd instruction B1 (offset in DO'54', data in DO'53').
"""

from __future__ import annotations

from kiosk.icao import tlv
from kiosk.icao.apdu import SW_END_OF_FILE, SW_OK, CommandApdu, ResponseApdu, status_error
from kiosk.icao.errors import (
    OffsetOutOfRangeError,
    TlvError,
    TruncatedFileError,
    WrongLengthError,
)
from kiosk.icao.transport import ApduChannel
from models.errors import ParseError

MASTER_FILE = 0x3F00
EMRTD_AID = bytes.fromhex("A0000002471001")
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_EVEN_OFFSET = 0x7FFF
SHORT_CHUNK_PLAIN = 0xFF
SHORT_CHUNK_SM = 0xDF  # 223: DO'87' + DO'99' + DO'8E' still fit in 256 bytes
SM_OVERHEAD = 40


class FileReader:
    """Selects and reads files over an :class:`ApduChannel`."""

    def __init__(self, channel: ApduChannel, *, max_extended_chunk: int = 0x1000) -> None:
        self.channel = channel
        self.max_extended_chunk = max_extended_chunk

    def select_master_file(self) -> None:
        self.channel.command(
            CommandApdu(0x00, 0xA4, 0x00, 0x0C, bytes.fromhex("3F00")), "SELECT MF"
        )

    def select_application(self, aid: bytes = EMRTD_AID) -> None:
        self.channel.command(CommandApdu(0x00, 0xA4, 0x04, 0x0C, aid), "SELECT application")

    def select_file(self, fid: int) -> None:
        self.channel.command(
            CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")), "SELECT EF"
        )

    def chunk_size(self) -> int:
        secure = self.channel.secure
        if not self.channel.extended_length:
            return SHORT_CHUNK_SM if secure else SHORT_CHUNK_PLAIN
        room = self.channel.max_response_bytes - 2 - (SM_OVERHEAD if secure else 0)
        size = min(room, self.max_extended_chunk)
        if secure:
            size -= size % 16 + 1
        return max(size, SHORT_CHUNK_SM)

    def read_file(
        self, fid: int | None = None, *, sfi: int | None = None, max_bytes: int = MAX_FILE_BYTES
    ) -> bytes:
        """Read a whole BER-TLV file; with extended length, a wrong-length answer (6700 /
        6Cxx) switches the channel to short APDUs for good and the file is read again."""
        try:
            return self._read_whole(fid, sfi, max_bytes)
        except WrongLengthError:
            if not self.channel.extended_length:
                raise
            self.channel.extended_length = False
            return self._read_whole(fid, sfi, max_bytes)

    def _read_whole(self, fid: int | None, sfi: int | None, max_bytes: int) -> bytes:
        """Read a whole BER-TLV file, by short EF identifier (no SELECT) or after SELECT.

        A file that ends before its header's length (the chip answers 6B00 or no more data)
        raises :class:`TruncatedFileError` holding the bytes read; one whose header claims
        more than ``max_bytes`` raises :class:`ParseError` before it is read.
        """
        if sfi is None:
            if fid is None:
                raise ValueError("give a file identifier or a short EF identifier")
            self.select_file(fid)
        elif not 1 <= sfi <= 30:
            raise ValueError("short EF identifier out of range")
        chunk = self.chunk_size()
        first = self._read_chunk(0, chunk, sfi)
        try:
            total = tlv.total_length(first)
        except TlvError as exc:
            raise TlvError(f"file does not start with a BER-TLV header: {exc}") from exc
        if total > max_bytes:
            raise ParseError(f"file claims {total} bytes, more than {max_bytes}")
        data = bytearray(first[:total])
        while len(data) < total:
            try:
                part = self._read_chunk(len(data), min(chunk, total - len(data)), None)
            except OffsetOutOfRangeError as exc:
                raise TruncatedFileError(bytes(data), total) from exc
            if not part:
                raise TruncatedFileError(bytes(data), total)
            data += part[: total - len(data)]
        return bytes(data)

    def _read_chunk(self, offset: int, length: int, sfi: int | None) -> bytes:
        if offset > MAX_EVEN_OFFSET:
            return self._read_odd(offset, length)
        if sfi is not None:
            p1, p2 = 0x80 | sfi, offset
        else:
            p1, p2 = offset >> 8, offset & 0xFF
        response = self._send_read(CommandApdu(0x00, 0xB0, p1, p2, le=length))
        return response.data

    def _read_odd(self, offset: int, length: int) -> bytes:
        raw_offset = offset.to_bytes((offset.bit_length() + 7) // 8, "big")
        overhead = 4  # DO'53' tag and a length of up to 3 bytes
        if not self.channel.extended_length:
            length = min(length, self.chunk_size() - overhead)
        command = CommandApdu(0x00, 0xB1, 0, 0, tlv.encode(0x54, raw_offset), le=length + overhead)
        response = self._send_read(command)
        if not response.data:
            return b""
        return tlv.decode_one(response.data, 0x53).value

    def _send_read(self, command: CommandApdu) -> ResponseApdu:
        response = self.channel.send(command)
        if response.sw == SW_OK or (response.sw == SW_END_OF_FILE and response.data):
            return response
        if response.sw1 == 0x6C and response.sw2:
            retry = CommandApdu(
                command.cla, command.ins, command.p1, command.p2, command.data, le=response.sw2
            )
            response = self.channel.send(retry)
            if response.sw in (SW_OK, SW_END_OF_FILE):
                return response
            raise WrongLengthError("READ BINARY failed after length retry", sw=response.sw)
        raise status_error(response.sw, "READ BINARY")
