"""Policy configuration of one deployment (the ``[policy]`` section of the kiosk's TOML)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiosk.policy import caricom

ReasonName = Literal[
    "document_unreadable",
    "chip_anomaly",
    "authentication_failed",
    "clone_suspected",
    "biometric_mismatch",
    "liveness_failed",
    "watchlist_hit",
    "lost_or_stolen",
    "not_on_manifest",
    "minor",
    "expired_document",
    "not_eligible",
    "system_malfunction",
    "vetting_referral",
    "not_vetted",
    "family_referral",
]

_DEFAULT_REJECT: list[ReasonName] = ["not_eligible"]


class VettingPolicy(BaseModel):
    """What the central server's pre-arrival vetting means at this state's gates.

    ``vetted_referred`` always goes to an officer, who sees the vetting reasons (it is not
    configurable). For a traveller who was not vetted (not on a vetted manifest, or matched
    only by name on another document), ``not_vetted_nationals`` applies to the state's own
    nationals (``nationals``) and ``not_vetted_visitors`` to everyone else: ``allow`` lets
    the other checks decide, ``refer`` sends them to the officer."""

    model_config = ConfigDict(extra="forbid")

    nationals: list[str] = Field(default_factory=list, description="the state's own nationals")
    not_vetted_nationals: Literal["allow", "refer"] = "allow"
    not_vetted_visitors: Literal["allow", "refer"] = "allow"


class PolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: str = "caricom"
    eligible_issuers: list[str] = Field(default_factory=lambda: sorted(caricom.ISSUERS))
    eligible_nationalities: list[str] = Field(default_factory=lambda: sorted(caricom.NATIONALITIES))
    # issuer -> the nationalities that make its documents eligible (GBR only for GBD).
    issuer_nationality_rules: dict[str, list[str]] = Field(
        default_factory=lambda: {k: sorted(v) for k, v in caricom.ISSUER_NATIONALITY_RULES.items()}
    )
    eligible_document_types: list[str] = Field(default_factory=lambda: ["P"])
    minimum_age: int = Field(18, ge=0, le=120)
    # Days of validity the document must have left on the day of travel (0: valid today).
    minimum_remaining_validity_days: int = Field(0, ge=0, le=3650)
    # Passive Authentication is always mandatory; these make AA/CA mandatory when offered.
    require_active_authentication_when_offered: bool = True
    require_chip_authentication_when_offered: bool = True
    # Revocation not checked (a CA of the chain without a CRL, or its CRL past nextUpdate):
    # "refer" (the default) sends the traveller to an officer, "accept" lets the other checks
    # decide. A revoked certificate always fails.
    revocation_unavailable: Literal["refer", "accept"] = "refer"
    face_threshold: float | None = Field(
        None, gt=0, lt=1, description="overrides face.threshold when set"
    )
    liveness_required: bool = True
    manifest_required: bool = False
    # Offline rule: refer when the watchlist copy is older than this.
    watchlist_max_age_hours: float = Field(24.0, gt=0)
    # Reasons that reject outright (use the staffed booth) instead of referring to an officer.
    reject_reasons: list[ReasonName] = Field(default_factory=lambda: list(_DEFAULT_REJECT))
    vetting: VettingPolicy = Field(default_factory=VettingPolicy)
    # Families: up to this many passports in one family transaction (0: no family
    # transactions; the gate must count the persons inside to let a group through).
    family_max_members: int = Field(0, ge=0, le=9)
    # Minors from this age (below minimum_age) may use the gate accompanied by an adult of
    # the same family transaction; below it, and alone, they are referred at the passport
    # step. None: minimum_age alone decides.
    accompanied_from_age: int | None = Field(None, ge=0, le=120)

    @model_validator(mode="after")
    def _accompanied_below_minimum(self) -> PolicyConfig:
        if self.accompanied_from_age is not None:
            if self.accompanied_from_age > self.minimum_age:
                raise ValueError("accompanied_from_age must not exceed minimum_age")
            if self.family_max_members < 2:
                raise ValueError("accompanied_from_age needs family_max_members of 2 or more")
        return self
