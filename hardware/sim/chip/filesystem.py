"""The chip's file system: master file, eMRTD application, selection and READ BINARY."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.sim.chip_image import EMRTD_AID, FID_EF_ATR_INFO, SFI_OF_FID, ChipImage
from kiosk.icao import tlv
from kiosk.icao.apdu import (
    SW_END_OF_FILE,
    SW_FILE_NOT_FOUND,
    SW_OFFSET_OUT_OF_RANGE,
    SW_OK,
    SW_WRONG_DATA,
    SW_WRONG_P1P2,
    CommandApdu,
)
from kiosk.icao.errors import TlvError

MF_FID = 0x3F00
SFI_CARD_ACCESS = 0x1C
FID_CARD_ACCESS = 0x011C

Answer = tuple[bytes, int]


@dataclass
class Selection:
    application: bool = False  # False: master file
    fid: int | None = None


class FileSystem:
    """Selection state and file contents; access rules are enforced by the emulator."""

    def __init__(self, image: ChipImage) -> None:
        self.image = image
        self.selection = Selection()
        self._mf_sfi = {fid & 0x1F: fid for fid in image.master_files}
        self._app_sfi = {SFI_OF_FID.get(fid, -1): fid for fid in image.application_files}

    def reset(self) -> None:
        self.selection = Selection()

    def _files(self) -> dict[int, bytes]:
        if self.selection.application:
            return self.image.application_files
        return self.image.master_files

    def current_is_public(self) -> bool:
        """Whether the selected file is readable before access control (EF.CardAccess,
        EF.ATR/INFO)."""
        return not self.selection.application and self.selection.fid in (
            FID_CARD_ACCESS,
            FID_EF_ATR_INFO,
        )

    def select(self, command: CommandApdu) -> Answer:
        p1, data = command.p1, command.data
        if p1 == 0x04:
            if data != EMRTD_AID:
                return b"", SW_FILE_NOT_FOUND
            self.selection = Selection(application=True)
            return b"", SW_OK
        if p1 == 0x00 and data in (b"", bytes.fromhex("3F00")):
            self.selection = Selection()
            return b"", SW_OK
        if p1 in (0x00, 0x02) and len(data) == 2:
            fid = int.from_bytes(data, "big")
            if fid == MF_FID:
                self.selection = Selection()
                return b"", SW_OK
            if fid not in self._files():
                return b"", SW_FILE_NOT_FOUND
            self.selection = Selection(self.selection.application, fid)
            return b"", SW_OK
        return b"", SW_WRONG_P1P2

    def select_sfi(self, sfi: int) -> bool:
        table = self._app_sfi if self.selection.application else self._mf_sfi
        fid = table.get(sfi)
        if fid is None:
            return False
        self.selection = Selection(self.selection.application, fid)
        return True

    def file_for_sfi(self, sfi: int) -> int | None:
        table = self._app_sfi if self.selection.application else self._mf_sfi
        return table.get(sfi)

    def read(self, offset: int, le: int) -> Answer:
        if self.selection.fid is None:
            return b"", 0x6986  # command not allowed: no current EF
        content = self._files()[self.selection.fid]
        if offset >= len(content):
            return b"", SW_OFFSET_OUT_OF_RANGE
        chunk = content[offset : offset + le]
        return chunk, (SW_OK if len(chunk) == le else SW_END_OF_FILE)

    @staticmethod
    def odd_offset(command: CommandApdu) -> int | None:
        """The offset of READ BINARY B1 (DO'54'), or None when malformed."""
        try:
            item = tlv.decode_one(command.data, 0x54)
        except TlvError:
            return None
        if not 1 <= len(item.value) <= 3:
            return None
        return int.from_bytes(item.value, "big")


def wrap_odd(data: bytes, sw: int) -> Answer:
    if not data:
        return b"", sw
    return tlv.encode(0x53, data), sw


__all__ = ["SW_WRONG_DATA", "Answer", "FileSystem", "wrap_odd"]
