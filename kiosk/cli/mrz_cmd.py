"""``kiosk mrz check``: parse and validate a machine readable zone, print the result as JSON.

Exit status: 0 valid, 1 invalid, 2 unreadable (not an MRZ shape, binary, over 10 KB).
Only check results are logged, never MRZ content.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from kiosk.icao.mrz import MAX_INPUT_BYTES, MrzError, decode_input, parse_mrz

log = logging.getLogger(__name__)

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def register(sub: Any, name: str, help_text: str) -> None:
    parser = sub.add_parser(name, help=help_text)
    actions = parser.add_subparsers(dest="action", required=True)
    check = actions.add_parser(
        "check", help="validate MRZ lines given as arguments, or read from stdin"
    )
    check.add_argument("--strict", action="store_true", help="do not correct OCR confusions")
    check.add_argument("lines", nargs="*", metavar="LINE", help="MRZ lines (default: stdin)")
    check.set_defaults(handler=_check)


def _argument_text(lines: list[str]) -> str:
    """Arguments as text; bytes the shell passed undecoded become U+FFFD."""
    joined = "\n".join(lines)
    raw = joined.encode("utf-8", errors="surrogateescape")
    return decode_input(raw)


def _stdin_text() -> str:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return decode_input(buffer.read(MAX_INPUT_BYTES + 1))
    text = sys.stdin.read(MAX_INPUT_BYTES + 1)
    return decode_input(text.encode("utf-8", errors="surrogateescape"))


def _unreadable(message: str) -> dict[str, Any]:
    return {
        "valid": False,
        "format": None,
        "fields": {},
        "checks": {},
        "corrections": [],
        "errors": [{"field": "input", "position": None, "message": message}],
        "warnings": [],
    }


def _check(args: argparse.Namespace) -> int:
    try:
        text = _argument_text(args.lines) if args.lines else _stdin_text()
        result = parse_mrz(text, strict=args.strict)
    except MrzError as exc:
        log.info("mrz check: unreadable input (%s)", exc.code)
        print(json.dumps(_unreadable(str(exc))))
        return EXIT_UNREADABLE
    log.info(
        "mrz check: format=%s valid=%s corrections=%d errors=%d",
        result.format,
        result.valid,
        len(result.corrections),
        len(result.errors),
    )
    print(json.dumps(result.as_dict()))
    return EXIT_VALID if result.valid else EXIT_INVALID
