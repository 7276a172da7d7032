"""Object identifiers of ICAO Doc 9303 Part 10/11/12 and BSI TR-03110 used by the LDS."""

from __future__ import annotations

ICAO_MRTD_SECURITY = "2.23.136.1.1"
LDS_SECURITY_OBJECT = "2.23.136.1.1.1"  # id-icao-mrtd-security-ldsSecurityObject
# Identifiers some states used before the ICAO one was fixed; readers must still accept them.
LDS_SECURITY_OBJECT_LEGACY = ("1.3.27.1.1.1", "1.2.528.1.1006.1.20.1")
CSCA_MASTER_LIST = "2.23.136.1.1.2"
CSCA_MASTER_LIST_SIGNING_KEY = "2.23.136.1.1.3"  # extended key usage of the ML signer
ACTIVE_AUTHENTICATION = "2.23.136.1.1.5"  # id-icao-mrtd-security-aaProtocolObject
DOCUMENT_TYPE_LIST = "2.23.136.1.1.6.2"  # DS certificate extension
SECURITY_OBJECT_EAC = "0.4.0.127.0.7.3.2.1"  # id-SecurityObject (EF.CardSecurity content)

BSI_PROTOCOLS = "0.4.0.127.0.7.2.2"
PK_DH = BSI_PROTOCOLS + ".1.1"
PK_ECDH = BSI_PROTOCOLS + ".1.2"
TA = BSI_PROTOCOLS + ".2"
CA_DH = BSI_PROTOCOLS + ".3.1"
CA_ECDH = BSI_PROTOCOLS + ".3.2"
PACE = BSI_PROTOCOLS + ".4"
PACE_DH_GM = PACE + ".1"
PACE_ECDH_GM = PACE + ".2"
PACE_DH_IM = PACE + ".3"
PACE_ECDH_IM = PACE + ".4"
PACE_ECDH_CAM = PACE + ".6"

# Cipher suffix of PACE and CA protocol identifiers.
CIPHER_SUFFIXES = {
    1: "3des-cbc-cbc",
    2: "aes-cbc-cmac-128",
    3: "aes-cbc-cmac-192",
    4: "aes-cbc-cmac-256",
}
PACE_MAPPINGS = {
    PACE_DH_GM: "dh-gm",
    PACE_ECDH_GM: "ecdh-gm",
    PACE_DH_IM: "dh-im",
    PACE_ECDH_IM: "ecdh-im",
    PACE_ECDH_CAM: "ecdh-cam",
}
CA_AGREEMENTS = {CA_DH: "dh", CA_ECDH: "ecdh"}

# Standardised domain parameters (BSI TR-03110 Part 3 / ICAO 9303 Part 11 table 6).
STANDARD_DOMAIN_PARAMETERS: dict[int, str] = {
    0: "modp1024-160",
    1: "modp2048-224",
    2: "modp2048-256",
    8: "secp192r1",
    9: "brainpoolP192r1",
    10: "secp224r1",
    11: "brainpoolP224r1",
    12: "secp256r1",
    13: "brainpoolP256r1",
    14: "brainpoolP320r1",
    15: "secp384r1",
    16: "brainpoolP384r1",
    17: "brainpoolP512r1",
    18: "secp521r1",
}

HASH_ALGORITHMS: dict[str, str] = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "1.2.840.113549.2.5": "md5",
    "2.16.840.1.101.3.4.2.8": "sha3_256",
}
HASH_OIDS = {name: oid for oid, name in HASH_ALGORITHMS.items()}
# Hash algorithms ICAO Doc 9303 Part 12 allows for the LDS security object.
ICAO_HASH_ALGORITHMS = ("sha1", "sha224", "sha256", "sha384", "sha512")


def pace_cipher(protocol_oid: str) -> str | None:
    """Cipher suite named by the last arc of a PACE or CA protocol identifier."""
    head, _, last = protocol_oid.rpartition(".")
    if head not in PACE_MAPPINGS and head not in CA_AGREEMENTS:
        return None
    return CIPHER_SUFFIXES.get(int(last)) if last.isdigit() else None
