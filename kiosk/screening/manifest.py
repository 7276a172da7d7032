"""The advance passenger manifest (API data): was this traveller expected?

A traveller is expected when a manifest entry has the same document (issuer and number,
normalised), or failing that, a name scoring at least the configured threshold and the same
birth date. When a date of arrival is given, only entries arriving within the configured
window of it count. An entry the central server vetted carries its result
(:class:`VettingStatus`); a traveller matched by name on another document is not vetted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kiosk.screening.matching import Agreement, PartialDate, ScoreWeights
from kiosk.screening.normalise import normalise_code, normalise_document_number
from kiosk.screening.watchlist import PersonQuery, WatchlistEntry, WatchlistIndex


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    surname: str
    given_names: str
    document_number: str
    issuer: str
    nationality: str
    birth_date: dt.date | None
    sex: str
    expiry_date: dt.date | None
    flight: str
    arrival_date: dt.date
    vetting: str | None = None  # the server's result: cleared | refer | no_board
    vetting_reasons: tuple[str, ...] = ()


class VettingStatus(StrEnum):
    """What the central server's pre-arrival vetting says about the traveller at the gate.
    Only an entry matched by the traveller's own document counts as vetted: the vetting was
    of that document's holder, whom the chip and the face then prove."""

    CLEARED = "vetted_cleared"
    REFERRED = "vetted_referred"
    NOT_VETTED = "not_vetted"


def vetting_of(entry: ManifestEntry) -> VettingStatus:
    if entry.vetting == "cleared":
        return VettingStatus.CLEARED
    if entry.vetting in ("refer", "no_board"):
        return VettingStatus.REFERRED
    return VettingStatus.NOT_VETTED


class ManifestStatus(StrEnum):
    EXPECTED = "expected"
    NOT_EXPECTED = "not_expected"
    NO_MANIFEST = "no_manifest"


@dataclass(frozen=True, slots=True)
class ManifestMatch:
    status: ManifestStatus
    matched_by: str | None = None  # "document" or "name_birth_date"
    flight: str | None = None
    arrival_date: dt.date | None = None
    vetting: VettingStatus = VettingStatus.NOT_VETTED
    vetting_reasons: tuple[str, ...] = ()


class ManifestIndex:
    """The loaded manifest entries, indexed by document and by name."""

    def __init__(self, entries: Iterable[ManifestEntry]) -> None:
        self.entries = list(entries)
        self._by_document: dict[tuple[str, str], list[int]] = {}
        for i, entry in enumerate(self.entries):
            key = (normalise_code(entry.issuer), normalise_document_number(entry.document_number))
            self._by_document.setdefault(key, []).append(i)
        # names only: the birth date must agree exactly, which is checked below
        self._names = WatchlistIndex(
            (
                WatchlistEntry(
                    str(i), "manifest", e.surname, e.given_names, PartialDate.of(e.birth_date)
                )
                for i, e in enumerate(self.entries)
            ),
            ScoreWeights(0.0, 0.0, 0.0),
        )

    def __len__(self) -> int:
        return len(self.entries)

    def match(
        self,
        *,
        surname: str,
        given_names: str,
        birth_date: dt.date | None,
        document_number: str,
        issuer: str,
        name_threshold: float,
        arrival_on: dt.date | None = None,
        window_days: int = 1,
    ) -> ManifestMatch:
        def arriving(entry: ManifestEntry) -> bool:
            if arrival_on is None:
                return True
            return abs((entry.arrival_date - arrival_on).days) <= window_days

        key = (normalise_code(issuer), normalise_document_number(document_number))
        for i in self._by_document.get(key, []) if key[1] else []:
            entry = self.entries[i]
            if arriving(entry):
                return ManifestMatch(
                    ManifestStatus.EXPECTED,
                    "document",
                    entry.flight,
                    entry.arrival_date,
                    vetting_of(entry),
                    entry.vetting_reasons,
                )
        if birth_date is not None:
            query = PersonQuery(surname, given_names, PartialDate.of(birth_date))
            for hit in self._names.search(query, name_threshold):
                entry = self.entries[int(hit.entry.reference)]
                if hit.birth_date is Agreement.EXACT and arriving(entry):
                    return ManifestMatch(
                        ManifestStatus.EXPECTED, "name_birth_date", entry.flight, entry.arrival_date
                    )
        return ManifestMatch(ManifestStatus.NOT_EXPECTED)
