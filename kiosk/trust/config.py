"""``[trust_pinning]`` of the kiosk configuration (see :mod:`kiosk.trust.pinning`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class TrustPinningConfig(BaseModel):
    """``[trust_pinning]``: the anchors a master list (imported or synced) must chain to."""

    model_config = ConfigDict(extra="forbid")

    # certificate files (DER or PEM) of master list signers trusted as they are, e.g. the
    # regional agency's own list signer
    master_list_signers: list[Path] = Field(default_factory=list)
    # CSCA certificate files a foreign master list signer may chain to (e.g. the German CSCA
    # for the German master list), obtained bilaterally
    master_list_cscas: list[Path] = Field(default_factory=list)
