"""Basic Access Control, chip side (GET CHALLENGE and EXTERNAL AUTHENTICATE).

Randomness drawn, in order: RND.IC (8 bytes) at GET CHALLENGE, K.IC (16 bytes) on success.
"""

from __future__ import annotations

from hardware.sim.chip.secure_messaging import ChipSecureMessaging
from kiosk.icao.apdu import (
    SW_CONDITIONS,
    SW_OK,
    SW_VERIFICATION_FAILED,
    SW_WRONG_LENGTH,
    CommandApdu,
)
from kiosk.icao.bac import bac_cryptogram, bac_key_seed, derive_bac_keys, open_bac_cryptogram
from kiosk.icao.crypto import CipherKind
from kiosk.icao.rng import RandomBytes


class BacResponder:
    def __init__(self, mrz_information: str, rng: RandomBytes) -> None:
        self._keys = derive_bac_keys(bac_key_seed(mrz_information))
        self._rng = rng
        self._rnd_ic: bytes | None = None

    def reset(self) -> None:
        self._rnd_ic = None

    def get_challenge(self, command: CommandApdu) -> tuple[bytes, int]:
        if command.le != 8:
            return b"", SW_WRONG_LENGTH
        self._rnd_ic = self._rng(8)
        return self._rnd_ic, SW_OK

    def external_authenticate(
        self, command: CommandApdu
    ) -> tuple[bytes, int, ChipSecureMessaging | None]:
        rnd_ic, self._rnd_ic = self._rnd_ic, None  # a challenge is good for one try only
        if rnd_ic is None:
            return b"", SW_CONDITIONS, None
        if len(command.data) != 40:
            return b"", SW_WRONG_LENGTH, None
        k_enc, k_mac = self._keys
        plain = open_bac_cryptogram(k_enc, k_mac, command.data)
        if plain is None or plain[8:16] != rnd_ic:
            return b"", SW_VERIFICATION_FAILED, None
        rnd_ifd, k_ifd = plain[:8], plain[16:32]
        k_ic = self._rng(16)
        answer = bac_cryptogram(k_enc, k_mac, rnd_ic + rnd_ifd + k_ic)
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
        ks_enc, ks_mac = derive_bac_keys(seed)
        ssc = int.from_bytes(rnd_ic[4:8] + rnd_ifd[4:8], "big")
        return answer, SW_OK, ChipSecureMessaging(CipherKind.TDES, ks_enc, ks_mac, ssc)
