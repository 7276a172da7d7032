"""Verifying the signatures of ICAO PKIs: RSA PKCS #1 v1.5, RSASSA-PSS and ECDSA (DER or
plain r||s as BSI TR-03111 writes them), on any curve ``cryptography`` knows (brainpool
included).

Several states write the bare key algorithm (rsaEncryption, id-ecPublicKey) as the signature
algorithm of EF.SOD; the hash then comes from the SignerInfo's digest algorithm.
"""

from __future__ import annotations

from asn1crypto import algos
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from kiosk.icao.auth.public_keys import RSA_PSS, VerifyingKey
from models.errors import ParseError

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_RSA = "1.2.840.113549.1.1."
_ECDSA = "1.2.840.10045.4."
_PLAIN = "0.4.0.127.0.7.1.1.4.1."  # BSI ecdsa-plain-signatures
# signature algorithm OID -> (scheme, hash name or None to take the digest algorithm)
SIGNATURE_ALGORITHMS: dict[str, tuple[str, str | None]] = {
    _RSA + "1": ("pkcs1v15", None),
    _RSA + "5": ("pkcs1v15", "sha1"),
    _RSA + "14": ("pkcs1v15", "sha224"),
    _RSA + "11": ("pkcs1v15", "sha256"),
    _RSA + "12": ("pkcs1v15", "sha384"),
    _RSA + "13": ("pkcs1v15", "sha512"),
    RSA_PSS: ("pss", None),
    "1.2.840.10045.2.1": ("ecdsa", None),
    _ECDSA + "1": ("ecdsa", "sha1"),
    _ECDSA + "3.1": ("ecdsa", "sha224"),
    _ECDSA + "3.2": ("ecdsa", "sha256"),
    _ECDSA + "3.3": ("ecdsa", "sha384"),
    _ECDSA + "3.4": ("ecdsa", "sha512"),
    _PLAIN + "1": ("ecdsa-plain", "sha1"),
    _PLAIN + "2": ("ecdsa-plain", "sha224"),
    _PLAIN + "3": ("ecdsa-plain", "sha256"),
    _PLAIN + "4": ("ecdsa-plain", "sha384"),
    _PLAIN + "5": ("ecdsa-plain", "sha512"),
}


class SignatureInvalidError(ParseError):
    """The signature does not verify."""

    code = "signature_invalid"


class UnsupportedSignatureError(ParseError):
    """A signature algorithm (or hash) this verifier does not implement."""

    code = "unsupported_signature_algorithm"


def hash_of(name: str | None) -> hashes.HashAlgorithm:
    if name not in HASHES:
        raise UnsupportedSignatureError(f"hash {name} not supported for signatures")
    return HASHES[name]()


def _pss(parameters: bytes | None) -> tuple[padding.PSS, hashes.HashAlgorithm]:
    if parameters is None:
        raise UnsupportedSignatureError("RSASSA-PSS without parameters")
    try:
        params = algos.RSASSAPSSParams.load(parameters, strict=True)
        digest = hash_of(params["hash_algorithm"]["algorithm"].native)
        mgf = params["mask_gen_algorithm"]
        if mgf["algorithm"].native != "mgf1":
            raise UnsupportedSignatureError("RSASSA-PSS with a mask generation other than MGF1")
        mgf_hash = hash_of(mgf["parameters"]["algorithm"].native)
        salt = int(params["salt_length"].native)
        trailer = params["trailer_field"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise UnsupportedSignatureError("RSASSA-PSS parameters unreadable") from exc
    if trailer not in (1, "trailer_field_bc") or not 0 <= salt <= 1024:
        raise UnsupportedSignatureError("RSASSA-PSS with an unusual trailer or salt")
    return padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=salt), digest


def _plain_to_der(signature: bytes) -> bytes:
    if not signature or len(signature) % 2:
        raise SignatureInvalidError("plain ECDSA signature of odd length")
    half = len(signature) // 2
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    return encode_dss_signature(r, s)


def verify_signature(
    key: VerifyingKey,
    algorithm_oid: str,
    parameters: bytes | None,
    signature: bytes,
    data: bytes,
    *,
    digest_algorithm: str | None = None,
) -> None:
    """Raise :class:`SignatureInvalidError` unless ``signature`` over ``data`` verifies."""
    if algorithm_oid not in SIGNATURE_ALGORITHMS:
        raise UnsupportedSignatureError(f"signature algorithm {algorithm_oid}")
    scheme, hash_name = SIGNATURE_ALGORITHMS[algorithm_oid]
    try:
        if scheme in ("pkcs1v15", "pss"):
            if not isinstance(key, rsa.RSAPublicKey):
                raise SignatureInvalidError("RSA signature algorithm with a non-RSA key")
            if scheme == "pss":
                pad, digest = _pss(parameters)
                key.verify(signature, data, pad, digest)
            else:
                key.verify(
                    signature, data, padding.PKCS1v15(), hash_of(hash_name or digest_algorithm)
                )
            return
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SignatureInvalidError("ECDSA signature algorithm with a non-EC key")
        digest = hash_of(hash_name or digest_algorithm)
        der = _plain_to_der(signature) if scheme == "ecdsa-plain" else signature
        key.verify(der, data, ec.ECDSA(digest))
    except InvalidSignature as exc:
        raise SignatureInvalidError("signature does not verify") from exc
    except ValueError as exc:  # malformed DER signature, wrong sizes
        raise SignatureInvalidError(f"signature malformed ({exc.__class__.__name__})") from exc
