"""Private keys of the test PKI and of simulated chips, generated once and cached on disk.

Keys are unencrypted PKCS #8 DER files ``<directory>/<name>.<spec>.p8``: test keys only.

A key is named by the caller (``"LCA-csca-2"``) and described by a spec string:
``rsa:2048``, ``ec:brainpoolP256r1``, ``dh:modp2048-224``. The same name always returns the same
key, so certificates and chip images can be rebuilt in milliseconds.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hardware.sim.pki.dh_groups import DhPrivateKey, generate_dh_key, load_dh_pkcs8
from models.errors import ConfigError

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | DhPrivateKey

CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1,
}
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")


def generate_key(spec: str) -> PrivateKey:
    kind, _, arg = spec.partition(":")
    if kind == "rsa" and arg.isdigit() and 1024 <= int(arg) <= 4096:
        return rsa.generate_private_key(public_exponent=65537, key_size=int(arg))
    if kind == "ec" and arg in CURVES:
        return ec.generate_private_key(CURVES[arg]())
    if kind == "dh":
        return generate_dh_key(arg)
    raise ConfigError(f"unknown key spec {spec!r}")


class KeyCache:
    """Keys of one directory, generated on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def get(self, name: str, spec: str) -> PrivateKey:
        """The key called ``name``; generated with ``spec`` the first time."""
        if not _NAME.fullmatch(name):
            raise ConfigError(f"bad key name {name!r}")
        path = self.directory / f"{name}.{spec.replace(':', '-')}.p8"
        with self._lock:
            if path.exists():
                return _load(path.read_bytes(), spec)
            key = generate_key(spec)
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(pkcs8_der(key))
            tmp.replace(path)
            return key

    def signing_key(self, name: str, spec: str) -> SigningKey:
        key = self.get(name, spec)
        if isinstance(key, DhPrivateKey):
            raise ConfigError(f"{spec} cannot sign")
        return key


def _load(der: bytes, spec: str) -> PrivateKey:
    if spec.startswith("dh:"):
        return load_dh_pkcs8(der)
    # Our own keys: skip the slow RSA consistency check on every load.
    loaded = serialization.load_der_private_key(
        der, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError("cached key of an unexpected type")
    return loaded


def pkcs8_der(key: PrivateKey) -> bytes:
    if isinstance(key, DhPrivateKey):
        return key.pkcs8_der()
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def spki_der(key: PrivateKey) -> bytes:
    if isinstance(key, DhPrivateKey):
        return key.spki_der()
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
