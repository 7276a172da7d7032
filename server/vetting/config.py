"""The vetting section of the server's configuration (``[server.vetting]``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class VettingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drop_dir: Path | None = Field(
        None,
        description="folder the airlines' gateway drops messages into; read files move to "
        "done/ or quarantine/ beside them (unset: no folder is watched)",
    )
    drop_interval_s: float = Field(2.0, gt=0, le=3600)
    # the kiosk's fuzzy matching, with the same defaults (kiosk ScreeningConfig)
    watchlist_threshold: float = Field(0.88, gt=0, le=1)
    dob_partial_penalty: float = Field(0.05, ge=0, le=1)
    dob_mismatch_penalty: float = Field(0.25, ge=0, le=1)
    nationality_mismatch_penalty: float = Field(0.05, ge=0, le=1)
    max_hits: int = Field(10, ge=1, le=100)
    publish_crew: bool = Field(True, description="crew members go to the gates too")
    manifest_days: int = Field(
        2, ge=0, le=30, description="flights arriving up to this many days ago still publish"
    )
