"""Biometric data encrypted at rest: AES-GCM round trip, typed failures, key handling."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from kiosk.config import KioskConfig, load_config
from kiosk.storage.crypto_store import BlobCipher, SealedBlob, load_storage_key
from kiosk.storage.errors import DecryptionError, KeyFilePermissionError, StorageKeyError
from kiosk.storage.key_setup import init_keys


def test_round_trip_with_a_fresh_nonce_each_time(cipher: BlobCipher) -> None:
    # GIVEN a face template
    template = os.urandom(512)
    # WHEN it is sealed twice for the same transaction
    first = cipher.encrypt(template, "txn-1")
    second = cipher.encrypt(template, "txn-1")
    # THEN each decrypts, and nonces and ciphertexts differ
    assert cipher.decrypt(first, "txn-1") == template
    assert cipher.decrypt(second, "txn-1") == template
    assert first.nonce != second.nonce and first.ciphertext != second.ciphertext
    assert len(first.nonce) == 12 and len(first.ciphertext) == len(template) + 16


def test_wrong_key_transaction_or_altered_bytes_fail_typed(cipher: BlobCipher) -> None:
    # GIVEN a sealed blob
    sealed = cipher.encrypt(b"face image", "txn-1")
    other_key = BlobCipher(os.urandom(32))
    # WHEN it is opened with another key, for another transaction, or after a bit flip
    # THEN each fails with DecryptionError, never another exception
    with pytest.raises(DecryptionError, match="another storage key"):
        other_key.decrypt(sealed, "txn-1")
    with pytest.raises(DecryptionError, match="authenticate"):
        cipher.decrypt(sealed, "txn-2")
    flipped = bytearray(sealed.ciphertext)
    flipped[0] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt(SealedBlob(sealed.key_id, sealed.nonce, bytes(flipped)), "txn-1")
    # AND a wrong key that claims the right key id still fails the tag check
    with pytest.raises(DecryptionError):
        other_key.decrypt(SealedBlob(other_key.key_id, sealed.nonce, sealed.ciphertext), "txn-1")


def test_default_key_file_is_created_private_and_reused(kiosk_config: KioskConfig) -> None:
    # GIVEN no key configured: loading it is an error naming the file, nothing is created
    with pytest.raises(StorageKeyError, match="storage.key does not exist"):
        load_storage_key(kiosk_config)
    assert not kiosk_config.storage_key_file.exists()
    # WHEN init-keys created it and the key is loaded twice
    init_keys(kiosk_config)
    first = load_storage_key(kiosk_config)
    second = load_storage_key(kiosk_config)
    # THEN a 0600 key file was created once and the same key comes back
    mode = stat.S_IMODE(kiosk_config.storage_key_file.stat().st_mode)
    assert mode == 0o600
    assert first == second and len(first) == 32


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    # GIVEN a valid key in a file readable by group or others
    path = tmp_path / "storage.key"
    path.write_bytes(base64.b64encode(os.urandom(32)))
    path.chmod(mode)
    config = load_config(data_dir=tmp_path, storage={"key_file": str(path)})
    # WHEN it is loaded THEN it is refused with the typed permission error
    with pytest.raises(KeyFilePermissionError) as caught:
        load_storage_key(config)
    assert caught.value.code == "key_file_permissions"
    # AND once chmod 600 it is accepted
    path.chmod(0o600)
    assert len(load_storage_key(config)) == 32


def test_a_configured_key_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    config = load_config(data_dir=tmp_path, storage={"key_file": str(tmp_path / "nope.key")})
    with pytest.raises(StorageKeyError, match="does not exist"):
        load_storage_key(config)
    assert not (tmp_path / "nope.key").exists()


def test_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN KIOSK_STORAGE__KEY holds a base64 key
    key = os.urandom(32)
    monkeypatch.setenv("KIOSK_STORAGE__KEY", base64.b64encode(key).decode())
    # WHEN the key is loaded THEN it is that key and no key file is created
    config = load_config(data_dir=tmp_path)
    assert load_storage_key(config) == key
    assert not config.storage_key_file.exists()


@pytest.mark.parametrize("value", ["not base64!!", base64.b64encode(b"short").decode(), ""])
def test_a_malformed_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("KIOSK_STORAGE__KEY", value)
    with pytest.raises(StorageKeyError):
        load_storage_key(load_config(data_dir=tmp_path))


def test_document_tokens_are_keyed_and_normalised(cipher: BlobCipher) -> None:
    token = cipher.document_token("UTO", "L898902C3")
    # THEN equal for the same document however written, different per key and issuer
    assert token == cipher.document_token("uto", "L898902C3<<")
    assert len(token) == 64 and "L898902C3" not in token
    assert token != cipher.document_token("D", "L898902C3")
    assert token != BlobCipher(os.urandom(32)).document_token("UTO", "L898902C3")
