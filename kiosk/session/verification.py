"""Document verification for the pipeline: the chip files and live channel in, a verdict out.

Passive Authentication runs against the trust anchors the kiosk holds (its trust store, or
files given by the caller); Active and Chip Authentication run on the still-open channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.icao.auth.anchors import TrustAnchors
from kiosk.icao.auth.document import verify_document
from kiosk.icao.reader import PassportRead
from kiosk.session.pipeline import ChipVerdict, ChipVerifier

log = logging.getLogger(__name__)


def make_verifier(anchors: Callable[[], TrustAnchors]) -> ChipVerifier:
    """A verifier that asks ``anchors`` for the current trust anchors on each document."""

    def verify(read: PassportRead, optical_mrz: Any) -> ChipVerdict:
        printed = "\n".join(optical_mrz.lines) if optical_mrz is not None else None
        verdict, _passive = verify_document(
            read.files,
            anchors(),
            printed_mrz=printed,
            access_protocol=read.access,
            channel=read.channel,
            skipped=read.skipped,
            pace_cam=read.access_result.cam if read.access_result is not None else None,
        )
        log.info("document %s", "authentic" if verdict.authentic else "not authentic")
        return ChipVerdict(
            checks={name: result.status for name, result in verdict.checks.items()},
            authentic=verdict.authentic,
            details=verdict,
        )

    return verify
