"""Trust anchors straight from files (``kiosk passport verify --trust``), without the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kiosk.icao.auth.anchors import CertificateParseError, TrustAnchors, load_certificate
from kiosk.trust.errors import TrustFileError
from kiosk.trust.files import trust_items
from kiosk.trust.master_list import parse_master_list
from kiosk.trust.records import CSCA, DS, LINK, certificate_kind

MAX_FILES = 10_000


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file())[:MAX_FILES]
        else:
            out.append(path)
    return out


def anchors_from_files(paths: list[Path], warn: Callable[[str], None]) -> TrustAnchors:
    cscas: list[bytes] = []
    links: list[bytes] = []
    signers: list[bytes] = []
    crls: list[bytes] = []

    def add(der: bytes) -> None:
        kind = certificate_kind(load_certificate(der))
        {CSCA: cscas, LINK: links, DS: signers}.get(kind, []).append(der)

    for path in _files(paths):
        try:
            items = trust_items(path.read_bytes())
            for item in items:
                if item.kind == "crl":
                    crls.append(item.der)
                elif item.kind == "master_list":
                    listed = parse_master_list(item.der)
                    if not listed.signer_verified:
                        warn(
                            f"{path.name}: master list signer not verified ({listed.signer_status})"
                        )
                    for der in listed.certificates:
                        add(der)
                else:
                    add(item.der)
        except (OSError, TrustFileError, CertificateParseError) as exc:
            warn(f"{path.name}: skipped ({getattr(exc, 'code', exc.__class__.__name__)})")
    return TrustAnchors(tuple(cscas), tuple(links), tuple(crls), tuple(signers))
