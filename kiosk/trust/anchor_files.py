"""Trust anchors straight from files (``kiosk passport verify --trust``), without the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kiosk.icao.auth.anchors import CertificateParseError, TrustAnchors, load_certificate
from kiosk.trust.errors import TrustFileError
from kiosk.trust.files import trust_items
from kiosk.trust.master_list import parse_master_list
from kiosk.trust.pinning import PinnedAnchors
from kiosk.trust.records import CSCA, DS, LINK, ML_SIGNER, certificate_kind

MAX_FILES = 10_000


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file())[:MAX_FILES]
        else:
            out.append(path)
    return out


def anchors_from_files(
    paths: list[Path], warn: Callable[[str], None], pinned: PinnedAnchors | None = None
) -> TrustAnchors:
    """Trust anchors from files. Certificates given directly are the operator's own choice;
    a master list counts only when its signer is pinned (``pinned``, or a list signer or CSCA
    certificate given directly among ``paths``)."""
    cscas: list[bytes] = []
    links: list[bytes] = []
    signers: list[bytes] = []
    list_signers: list[bytes] = []
    crls: list[bytes] = []
    lists: list[tuple[str, bytes]] = []

    def add(der: bytes) -> None:
        kind = certificate_kind(load_certificate(der))
        {CSCA: cscas, LINK: links, DS: signers, ML_SIGNER: list_signers}[kind].append(der)

    for path in _files(paths):
        try:
            for item in trust_items(path.read_bytes()):
                if item.kind == "crl":
                    crls.append(item.der)
                elif item.kind == "master_list":
                    lists.append((path.name, item.der))
                else:
                    add(item.der)
        except (OSError, TrustFileError, CertificateParseError) as exc:
            warn(f"{path.name}: skipped ({getattr(exc, 'code', exc.__class__.__name__)})")
    given = PinnedAnchors(tuple(list_signers), tuple(cscas))
    pins = given.merged(pinned) if pinned is not None else given
    for name, der in lists:
        try:
            listed = parse_master_list(der, pins)
        except (TrustFileError, CertificateParseError) as exc:
            warn(f"{name}: skipped ({getattr(exc, 'code', exc.__class__.__name__)})")
            continue
        if not listed.signer_verified:
            warn(f"{name}: master list ignored, signer not pinned ({listed.signer_status})")
            continue
        for cert in listed.certificates:
            try:
                add(cert)
            except CertificateParseError:
                continue
    return TrustAnchors(tuple(cscas), tuple(links), tuple(crls), tuple(signers))
