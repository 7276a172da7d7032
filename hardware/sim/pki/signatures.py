"""Signature schemes of the test PKI: RSA PKCS #1 v1.5, RSA-PSS and ECDSA with SHA-2."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import algos
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from hardware.sim.pki.keys import SigningKey
from models.errors import ConfigError

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
KINDS = ("pkcs1v15", "pss", "ecdsa")


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    if name not in HASHES:
        raise ConfigError(f"unknown hash algorithm {name!r}")
    return HASHES[name]()


CertificateHash = hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512


def certificate_hash(name: str) -> CertificateHash:
    """The hash for certificates and CRLs (SHA-1 is not accepted there)."""
    algorithm = hash_algorithm(name)
    if not isinstance(algorithm, hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512):
        raise ConfigError(f"{name} cannot sign certificates")
    return algorithm


@dataclass(frozen=True)
class SignatureScheme:
    kind: str  # one of KINDS
    hash: str = "sha256"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown signature scheme {self.kind!r}")
        hash_algorithm(self.hash)

    def rsa_padding(self) -> padding.PSS | padding.PKCS1v15 | None:
        if self.kind == "pss":
            return padding.PSS(
                mgf=padding.MGF1(hash_algorithm(self.hash)), salt_length=self.salt_length
            )
        if self.kind == "pkcs1v15":
            return padding.PKCS1v15()
        return None

    @property
    def salt_length(self) -> int:
        return hash_algorithm(self.hash).digest_size

    def sign(self, key: SigningKey, data: bytes) -> bytes:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if self.kind != "ecdsa":
                raise ConfigError("EC key with an RSA scheme")
            return key.sign(data, ec.ECDSA(hash_algorithm(self.hash)))
        if not isinstance(key, rsa.RSAPrivateKey) or self.kind == "ecdsa":
            raise ConfigError("RSA scheme needs an RSA key")
        pad = self.rsa_padding()
        assert pad is not None
        return key.sign(data, pad, hash_algorithm(self.hash))

    def cms_algorithm(self) -> algos.SignedDigestAlgorithm:
        """The AlgorithmIdentifier of a CMS SignerInfo signature."""
        if self.kind == "pss":
            digest = algos.DigestAlgorithm({"algorithm": self.hash})
            params = algos.RSASSAPSSParams(
                {
                    "hash_algorithm": digest,
                    "mask_gen_algorithm": algos.MaskGenAlgorithm(
                        {"algorithm": "mgf1", "parameters": digest}
                    ),
                    "salt_length": self.salt_length,
                    "trailer_field": 1,
                }
            )
            return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})
        suffix = "ecdsa" if self.kind == "ecdsa" else "rsa"
        return algos.SignedDigestAlgorithm({"algorithm": f"{self.hash}_{suffix}"})


def parse_scheme(text: str) -> SignatureScheme:
    """``"ecdsa-sha256"``, ``"pss-sha384"``, ``"pkcs1v15-sha256"``."""
    kind, _, digest = text.partition("-")
    return SignatureScheme(kind, digest or "sha256")
