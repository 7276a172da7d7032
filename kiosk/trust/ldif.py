"""A small reader of the LDIF files the ICAO PKD publishes (RFC 2849 subset).

Records are separated by blank lines; a line starting with one space continues the previous
one (folding); ``attr:: value`` is base64; comments start with ``#``. Only what the PKD uses
is supported (no URLs ``attr:<``, no change records), and anything else fails with a typed
error. The PKD attributes of interest: ``userCertificate;binary`` (DS certificates),
``cACertificate;binary``, ``certificateRevocationList;binary`` (CRLs) and
``pkdMasterListContent`` (master lists).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from kiosk.trust.errors import TrustFileError

MAX_LINE = 16 * 1024 * 1024
Record = list[tuple[str, bytes]]


def _logical_lines(text: str) -> Iterator[str]:
    current: list[str] | None = None
    for raw in text.splitlines():
        if raw.startswith(" "):
            if current is None:
                raise TrustFileError("LDIF continuation line without a line to continue")
            current.append(raw[1:])
            continue
        if current is not None:
            yield "".join(current)
        current = [raw]
    if current is not None:
        yield "".join(current)


def _value(line: str) -> tuple[str, bytes]:
    name, sep, rest = line.partition(":")
    if not sep or not name:
        raise TrustFileError("LDIF line without an attribute name")
    if rest.startswith(":"):
        try:
            return name, base64.b64decode(rest[1:].strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TrustFileError(f"LDIF attribute {name[:40]} is not valid base64") from exc
    if rest.startswith("<"):
        raise TrustFileError("LDIF URL values are not supported")
    return name, rest.strip().encode("utf-8")


def read_ldif(data: bytes) -> Iterator[Record]:
    """The records of an LDIF file as lists of (attribute, value bytes)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TrustFileError("LDIF file is not UTF-8 text") from exc
    record: Record = []
    for line in _logical_lines(text):
        if len(line) > MAX_LINE:
            raise TrustFileError("LDIF line too long")
        if not line.strip():
            if record:
                yield record
            record = []
            continue
        if line.startswith("#"):
            continue
        if line.lower().startswith("version:") and not record:
            continue
        record.append(_value(line))
    if record:
        yield record


def looks_like_ldif(data: bytes) -> bool:
    head = data[:4096].lstrip()
    return head.startswith((b"dn:", b"version:", b"#"))
