"""Names of dumped chip files, as ``kiosk chip read --out`` and other tools write them:
``EF_SOD.bin``, ``DG1.bin``, ``Datagroup1.bin``, ``EF.DG1.bin``, and file identifiers
(``ef011D.bin``, ``0101.bin``), in any case."""

from __future__ import annotations

import re

_FIDS = {0x011D: "EF_SOD", 0x011E: "EF_COM", 0x011C: "EF_CardAccess"}
_DG = re.compile(r"^(?:ef[._]?)?(?:dg|datagroup|data_group)[._]?0*(\d{1,2})$")
_FID = re.compile(r"^(?:ef[._]?)?([0-9a-f]{4})$")
_NAMED = {
    "ef_sod": "EF_SOD",
    "ef.sod": "EF_SOD",
    "sod": "EF_SOD",
    "efsod": "EF_SOD",
    "ef_com": "EF_COM",
    "ef.com": "EF_COM",
    "com": "EF_COM",
    "efcom": "EF_COM",
    "ef_cardaccess": "EF_CardAccess",
    "ef.cardaccess": "EF_CardAccess",
    "cardaccess": "EF_CardAccess",
    "ef_cardsecurity": "EF_CardSecurity",
    "ef.cardsecurity": "EF_CardSecurity",
}


def lds_name(file_name: str) -> str | None:
    """``EF_SOD``, ``EF_COM``, ``DG1`` ... for a dump file name, or None."""
    stem = file_name.lower()
    for suffix in (".bin", ".der", ".dat"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if stem in _NAMED:
        return _NAMED[stem]
    match = _DG.match(stem)
    if match and 1 <= int(match.group(1)) <= 16:
        return f"DG{int(match.group(1))}"
    match = _FID.match(stem)
    if match:
        fid = int(match.group(1), 16)
        if fid in _FIDS:
            return _FIDS[fid]
        if 0x0101 <= fid <= 0x0110:
            return f"DG{fid - 0x0100}"
    return None
