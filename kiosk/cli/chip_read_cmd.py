"""``kiosk chip read``: open a passport chip with the MRZ or the CAN and read every file.

    kiosk chip read --reader "Virtual PCD" --mrz "P<UTO...\\nL898902C..." --out DIR --json
    kiosk chip read --sim lca-genuine --can 418025

The chip is on a PC/SC reader (``--reader PATTERN``), on the in-process simulated reader
(``--sim PROFILE``), or on the reader the configuration names (neither option). Every file
read is written to ``--out DIR`` as ``EF_COM.bin``, ``EF_SOD.bin``, ``EF_CardAccess.bin``,
``DG1.bin`` ... (owner-only permissions: they hold personal data). Only file names, sizes,
timings and error codes are printed or logged, never chip content.

Exit status: 0 read, 1 the chip or reader failed (access denied, card pulled, reader gone:
a typed error code), 2 bad input (MRZ, CAN, profile, options).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from hardware.chip_reader import ChipReader
from hardware.config import PcscChipReaderConfig, SimulatedChipReaderConfig
from kiosk.config import load_config
from kiosk.icao.errors import AccessDeniedError
from kiosk.icao.mrz import MrzError, parse_mrz
from kiosk.icao.reader import PassportRead, read_passport
from models.errors import ConfigError, KioskError

log = logging.getLogger(__name__)

EXIT_READ, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
CAN_PATTERN = re.compile(r"[0-9]{6}")


class ChipReadInputError(KioskError):
    """An option of ``kiosk chip read`` is unusable (MRZ, CAN, profile)."""

    code = "chip_read_bad_input"


def add_action(actions: Any, name: str, help_text: str) -> None:
    parser = actions.add_parser(name, help=help_text)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--reader", metavar="PATTERN", help="PC/SC reader whose name contains this")
    source.add_argument("--sim", metavar="PROFILE", help="simulated passport (kiosk sim profiles)")
    password = parser.add_mutually_exclusive_group(required=True)
    password.add_argument(
        "--mrz", metavar="LINES", help="printed MRZ lines, separated by newlines or a literal \\n"
    )
    password.add_argument("--can", metavar="NNNNNN", help="card access number (PACE)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write every file read here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--wait", type=float, default=10.0, metavar="SECONDS", help="how long to wait for a card"
    )
    parser.set_defaults(handler=run_read)


def run_read(args: argparse.Namespace) -> int:
    try:
        mrz_info, can = _password(args.mrz, args.can)
        reader = _open_reader(args)
    except (ChipReadInputError, ConfigError) as exc:
        return _fail(args, EXIT_BAD_INPUT, exc.code, str(exc))
    try:
        with reader:
            if not reader.wait_for_card(max(args.wait, 0.0)):
                return _fail(args, EXIT_FAILED, "chip_no_card", f"no card within {args.wait:g} s")
            atr = reader.connect()
            limits = reader.limits
            read = read_passport(
                reader.transmit,
                mrz_info=mrz_info,
                can=can,
                extended_length=limits.extended_length,
                max_response_bytes=limits.max_response_bytes,
                atr=atr,
            )
    except AccessDeniedError as exc:
        log.info("chip read: access denied")
        return _fail(args, EXIT_FAILED, "access_denied", _access_denied_message(exc, can))
    except KioskError as exc:
        log.info("chip read failed: %s", exc.code)
        return _fail(args, EXIT_FAILED, exc.code, str(exc))
    log.info("chip read by %s: %d files", read.access, len(read.files))
    if args.out is not None:
        try:
            write_files(args.out, read.files)
        except OSError as exc:
            return _fail(args, EXIT_FAILED, "output_not_writable", f"{args.out}: {exc.strerror}")
    summary = summarise(read, reader.name, args.out)
    print(json.dumps(summary) if args.json else render(summary))
    return EXIT_READ


# --- input ------------------------------------------------------------------------------


def _password(mrz: str | None, can: str | None) -> tuple[str | None, str | None]:
    """(MRZ information, CAN) from the options; the MRZ's check digits must hold."""
    if can is not None:
        if not CAN_PATTERN.fullmatch(can.strip()):
            raise ChipReadInputError("the CAN is six digits")
        return None, can.strip()
    assert mrz is not None
    text = mrz.replace("\\n", "\n")
    try:
        return parse_mrz(text).mrz_information(), None
    except MrzError as exc:
        raise ChipReadInputError(f"unusable MRZ: {exc}", code=exc.code) from exc


def _open_reader(args: argparse.Namespace) -> ChipReader:
    config = load_config(getattr(args, "config", None))
    cache_dir = config.data_dir / "sim"
    configured = config.devices.chip_reader
    if args.sim is not None:
        return simulated_reader(cache_dir, args.sim, configured)
    if args.reader is not None:
        base = configured if isinstance(configured, PcscChipReaderConfig) else None
        pcsc = (base or PcscChipReaderConfig()).model_copy(update={"reader_pattern": args.reader})
        return _pcsc_reader(pcsc)
    if isinstance(configured, PcscChipReaderConfig):
        return _pcsc_reader(configured)
    return simulated_reader(cache_dir, configured.profile, configured)


def _pcsc_reader(config: PcscChipReaderConfig) -> ChipReader:
    from hardware.pcsc import PcscChipReader

    return PcscChipReader(config)


def simulated_reader(cache_dir: Path, profile: str, configured: object) -> ChipReader:
    """The in-process reader holding the chip of ``profile`` (personalised on first use)."""
    from hardware.sim.chip import PassportChip
    from hardware.sim.chip_reader import SimulatedChipReader
    from hardware.sim.passports import PassportFactory

    base = configured if isinstance(configured, SimulatedChipReaderConfig) else None
    config = (base or SimulatedChipReaderConfig()).model_copy(update={"profile": profile})
    image = PassportFactory(cache_dir).chip_image(profile)
    return SimulatedChipReader(config, PassportChip(image))


def _access_denied_message(exc: AccessDeniedError, can: str | None) -> str:
    given = "CAN" if can is not None else "MRZ (document number, date of birth, date of expiry)"
    return f"the chip refused access: the {given} does not open this chip ({exc})"


# --- output -----------------------------------------------------------------------------


def write_files(directory: Path, files: dict[str, bytes]) -> None:
    """Each file as ``NAME.bin``, readable by the owner only."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = directory / f"{name}.bin"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)


def summarise(read: PassportRead, reader_name: str, out: Path | None) -> dict[str, Any]:
    """What is printed: sizes, never content."""
    sm = read.access_result.sm if read.access_result is not None else None
    return {
        "access": read.access,
        "secure_messaging": _cipher_name(sm.kind.value, len(sm.ks_enc)) if sm else None,
        "reader": reader_name,
        "files": {name: len(data) for name, data in read.files.items()},
        "skipped": dict(read.skipped),
        "truncated": list(read.truncated),
        "timings_ms": dict(read.timings_ms),
        "apdus": read.channel.apdus if read.channel is not None else None,
        "extended_length": read.channel.extended_length if read.channel is not None else None,
        "out": str(out) if out is not None else None,
    }


def _cipher_name(kind: str, key_bytes: int) -> str:
    return f"AES-{key_bytes * 8}" if kind == "AES" else kind


def render(summary: dict[str, Any]) -> str:
    timings = summary["timings_ms"]
    lines = [
        f"read by {summary['access']} ({summary['secure_messaging']}) on {summary['reader']}",
        "",
    ]
    lines.append(f"{'FILE':<14} {'BYTES':>7} {'MS':>9}")
    for name, size in summary["files"].items():
        ms = timings.get(name)
        shown = f"{ms:9.1f}" if ms is not None else f"{'-':>9}"
        mark = "  (truncated)" if name in summary["truncated"] else ""
        lines.append(f"{name:<14} {size:>7} {shown}{mark}")
    for name, why in summary["skipped"].items():
        lines.append(f"{name:<14} {'-':>7} {'-':>9}  skipped: {why}")
    lines.append("")
    lines.append(f"access {timings.get('access', 0.0):.1f} ms, total {timings['total']:.1f} ms")
    if summary["out"]:
        lines.append(f"files written to {summary['out']}")
    return "\n".join(lines)


def _fail(args: argparse.Namespace, status: int, error: str, message: str) -> int:
    if args.json:
        print(json.dumps({"error": error, "message": message}))
    else:
        print(f"kiosk chip read: {error}: {message}", file=sys.stderr)
    return status
