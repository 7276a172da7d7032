"""The vetting section of the server's configuration (``[server.vetting]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Directive = Literal["board", "no_board", "contact"]


def _default_codes() -> dict[Directive, str]:
    return {"board": "0Z", "no_board": "1Z", "contact": "2Z"}


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
    iapi_codes: dict[Directive, str] = Field(
        default_factory=_default_codes,
        description="the ERC code of each iAPI directive in CUSRES answers: set them from "
        "the receiving authority's implementation guide (the defaults are not the guide's)",
    )
    publish_crew: bool = Field(True, description="crew members go to the gates too")
    manifest_days: int = Field(
        2, ge=0, le=30, description="flights arriving up to this many days ago still publish"
    )

    @field_validator("iapi_codes")
    @classmethod
    def _codes(cls, value: dict[Directive, str]) -> dict[Directive, str]:
        for code in value.values():
            if not (1 <= len(code) <= 3 and code.isalnum()):
                raise ValueError("an ERC code is 1 to 3 letters or digits")
        return value
