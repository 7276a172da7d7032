"""Active Authentication signatures, signature schemes and legacy SOD content types."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from hardware.sim.passports import PassportFactory
from hardware.sim.pki.cms_signing import sign_content
from kiosk.icao.auth.active import verify_active_authentication
from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.sod_signature import verify_sod_signature
from kiosk.icao.lds import encode_lds_security_object, encode_sod, oids, parse_sod
from models.records import CheckStatus

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)


def sign_9796_2(key: rsa.RSAPrivateKey, challenge: bytes, hash_name: str, two_byte: bool) -> bytes:
    size = key.key_size // 8
    digest_size = hashlib.new(hash_name).digest_size
    trailer = {"sha1": b"\x33\xcc", "sha256": b"\x34\xcc"}[hash_name] if two_byte else b"\xbc"
    m1 = os.urandom(size - 1 - digest_size - len(trailer))
    message = b"\x6a" + m1 + hashlib.new(hash_name, m1 + challenge).digest() + trailer
    numbers = key.private_numbers()
    s = pow(int.from_bytes(message, "big"), numbers.d, numbers.public_numbers.n)
    return s.to_bytes(size, "big")


@pytest.mark.parametrize(
    ("hash_name", "two_byte"), [("sha1", False), ("sha1", True), ("sha256", True)]
)
def test_rsa_9796_2_message_recovery(hash_name: str, two_byte: bool) -> None:
    challenge = os.urandom(8)
    signature = sign_9796_2(RSA_KEY, challenge, hash_name, two_byte)
    assert verify_active_authentication(RSA_KEY.public_key(), challenge, signature)
    assert not verify_active_authentication(RSA_KEY.public_key(), os.urandom(8), signature)
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert not verify_active_authentication(other.public_key(), challenge, signature)


def test_ecdsa_plain_and_der_signatures() -> None:
    key = ec.generate_private_key(ec.BrainpoolP256R1())
    challenge = os.urandom(8)
    der = key.sign(challenge, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    plain = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    for signature in (der, plain):
        assert verify_active_authentication(
            key.public_key(), challenge, signature, "1.2.840.10045.4.3.2"
        )
        assert verify_active_authentication(key.public_key(), challenge, signature)
    assert not verify_active_authentication(key.public_key(), challenge, plain[:-1] + b"\x00")


@pytest.mark.parametrize(
    "content_type", [oids.LDS_SECURITY_OBJECT, *oids.LDS_SECURITY_OBJECT_LEGACY]
)
def test_sod_signature_accepts_the_legacy_content_types(
    passports: PassportFactory, content_type: str
) -> None:
    # GIVEN an SOD signed (RSA-PSS, Trinidad and Tobago's DS) with a legacy eContentType
    signer = passports.pki.document_signer("TTO").signer
    lso = encode_lds_security_object("sha256", {1: hashlib.sha256(b"x").digest()})
    sod = parse_sod(encode_sod(sign_content(content_type, lso, signer)))
    # THEN the signature verifies, and a foreign content type is refused
    assert verify_sod_signature(sod, TrustAnchors()).result.status is CheckStatus.PASSED
    other = parse_sod(encode_sod(sign_content("1.2.3.4", lso, signer)))
    assert verify_sod_signature(other, TrustAnchors()).result.reason == "wrong_content_type"
