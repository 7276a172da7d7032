"""The device CA (EC P-256): created on first run, it issues each kiosk's certificate and the
server's own TLS certificate. Keys are written with mode 0600."""

from __future__ import annotations

import ipaddress
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from models.errors import ConfigError

log = logging.getLogger(__name__)

CA_CERT = "device-ca.pem"
CA_KEY = "device-ca.key"
SERVER_CERT = "server.pem"
SERVER_KEY = "server.key"


@dataclass(frozen=True)
class IssuedCertificate:
    key_pem: bytes
    cert_pem: bytes
    serial_hex: str
    fingerprint_sha256: str
    not_after: datetime


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


class DeviceCA:
    """The CA of one server, kept in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.cert_path = directory / CA_CERT
        self.key_path = directory / CA_KEY
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._cert: x509.Certificate | None = None

    @classmethod
    def open_or_create(cls, directory: Path, *, name: str = "Kiosk device CA") -> DeviceCA:
        ca = cls(directory)
        if not ca.cert_path.exists():
            ca._create(name)
        ca._load()
        return ca

    def _create(self, name: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_path, _key_pem(key))
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        log.info("device CA created in %s", self.directory)

    def _load(self) -> None:
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"device CA in {self.directory} cannot be read") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError("device CA key is not an EC key")
        self._key, self._cert = key, cert

    @property
    def certificate(self) -> x509.Certificate:
        assert self._cert is not None
        return self._cert

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        common_name: str,
        *,
        days: int,
        client: bool = True,
        names: list[str] | None = None,
    ) -> IssuedCertificate:
        """A new key pair and a certificate for a device (client) or the server."""
        assert self._key is not None
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        not_after = now + timedelta(days=days)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(name) for name in names]),
                critical=False,
            )
        cert = builder.sign(self._key, hashes.SHA256())
        return IssuedCertificate(
            key_pem=_key_pem(key),
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            serial_hex=format(cert.serial_number, "x"),
            fingerprint_sha256=fingerprint(cert),
            not_after=not_after,
        )

    def server_credentials(self, names: list[str], *, days: int = 825) -> tuple[Path, Path]:
        """The server's TLS certificate and key (issued once, re-issued when names change)."""
        cert_path = self.directory / SERVER_CERT
        key_path = self.directory / SERVER_KEY
        if cert_path.exists() and key_path.exists():
            current = x509.load_pem_x509_certificate(cert_path.read_bytes())
            try:
                san = current.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                have = {str(getattr(n, "value", "")) for n in san.value}
            except x509.ExtensionNotFound:
                have = set()
            if have == set(names) and current.not_valid_after_utc > datetime.now(UTC):
                return cert_path, key_path
        issued = self.issue(names[0], days=days, client=False, names=names)
        _write_private(key_path, issued.key_pem)
        cert_path.write_bytes(issued.cert_pem)
        return cert_path, key_path


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (keys, secrets)."""
    _write_private(path, data)
