"""Applying the server's manifest changes (advance passenger information) to the kiosk's
manifest list, the table :class:`kiosk.screening.store.ScreeningStore` loads its index from.

A change's key names one expected passenger (the server's choice, e.g.
``FLIGHT:ARRIVAL:ISSUER:NUMBER``; the server's vetted manifests use
``vetted:PORT:FLIGHT:DATE:ISSUER:NUMBER`` and carry the vetting result); the row
remembers it in ``source`` as ``sync:KEY``, so an upsert replaces it and a delete removes
it. ``data`` holds the fields of :class:`ManifestChange`; a change whose data is invalid is
skipped and logged (by version and field, never by name or number)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import delete
from sqlalchemy.orm import Session

from kiosk.screening.normalise import normalise_code, normalise_document_number
from models.base import utc_now
from models.tables.screening import ManifestEntryRow

log = logging.getLogger(__name__)

SOURCE_PREFIX = "sync:"


class ManifestChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    flight: str = Field(min_length=1, max_length=16)
    arrival_date: date
    surname: str = Field(min_length=1, max_length=120)
    given_names: str = Field("", max_length=120)
    document_number: str = Field(min_length=1, max_length=40)
    issuer: str = Field(min_length=1, max_length=3)
    nationality: str | None = Field(None, max_length=3)
    birth_date: date | None = None
    sex: str | None = Field(None, max_length=1)
    expiry_date: date | None = None
    # the central server's pre-arrival vetting of this traveller and the officer's reasons
    vetting: Literal["cleared", "refer", "no_board"] | None = None
    vetting_reasons: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=20
    )


def apply_manifest_change(session: Session, version: int, change: dict[str, Any]) -> None:
    source = f"{SOURCE_PREFIX}{change['key']}"[:200]
    session.execute(delete(ManifestEntryRow).where(ManifestEntryRow.source == source))
    if change["op"] != "upsert":
        return
    try:
        entry = ManifestChange.model_validate(change.get("data"))
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "data" for e in exc.errors()})
        log.warning("manifest change of version %d skipped: invalid %s", version, fields)
        return
    number = normalise_document_number(entry.document_number)
    issuer = normalise_code(entry.issuer)
    if not 1 <= len(number) <= 20 or not issuer:
        log.warning("manifest change of version %d skipped: invalid document", version)
        return
    session.add(
        ManifestEntryRow(
            flight=entry.flight.upper(),
            arrival_date=entry.arrival_date,
            surname=entry.surname,
            given_names=entry.given_names,
            document_number=number,
            issuer=issuer,
            nationality=normalise_code(entry.nationality or "") or None,
            birth_date=entry.birth_date,
            sex=entry.sex.upper() if entry.sex else None,
            expiry_date=entry.expiry_date,
            vetting=entry.vetting,
            vetting_reasons=list(entry.vetting_reasons) or None,
            source=source,
            imported_at=utc_now(),
        )
    )
