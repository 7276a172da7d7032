"""The :class:`Screener`: one traveller against every loaded list, with typed results.

Each result names the list version it used and how old that copy is, so the policy can apply
its offline rule (refer when the watchlist copy is older than N hours). The loaded lists are
one immutable :class:`ScreeningLists` value; loading new lists swaps it in one assignment, so
a screening in progress on another thread keeps a consistent set.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace

from kiosk.config import ScreeningConfig
from kiosk.screening.lost_stolen import DocumentKey, LostStolenIndex
from kiosk.screening.manifest import ManifestIndex, ManifestMatch, ManifestStatus
from kiosk.screening.matching import PartialDate, ScoreWeights
from kiosk.screening.watchlist import PersonQuery, WatchlistHit, WatchlistIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Traveller:
    """What screening needs to know about the traveller (from the MRZ and the chip)."""

    surname: str
    given_names: str
    birth_date: dt.date | None
    nationality: str
    document_number: str
    issuer: str
    doc_type: str = "P"
    expiry_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ListInfo:
    """Which copy of a list was used: ``kind`` is lost_stolen | watchlist | manifest."""

    kind: str
    version: int
    updated_at: dt.datetime
    entries: int

    def age_hours(self, now: dt.datetime) -> float:
        return max((now - self.updated_at).total_seconds() / 3600, 0.0)


@dataclass(frozen=True, slots=True)
class ListUse:
    """A list as one screening used it; ``info`` is None when no such list is loaded."""

    info: ListInfo | None
    age_hours: float | None


@dataclass(frozen=True, slots=True)
class LostStolenResult:
    hit: bool
    list: ListUse


@dataclass(frozen=True, slots=True)
class WatchlistResult:
    hits: tuple[WatchlistHit, ...]
    list: ListUse

    @property
    def hit(self) -> bool:
        return bool(self.hits)


@dataclass(frozen=True, slots=True)
class ManifestResult:
    status: ManifestStatus
    match: ManifestMatch | None
    required: bool
    list: ListUse


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    lost_stolen: LostStolenResult
    watchlist: WatchlistResult
    manifest: ManifestResult
    screened_at: dt.datetime


@dataclass(frozen=True)
class ScreeningLists:
    """The indexes in use and the versions they were built from."""

    lost_stolen: LostStolenIndex = field(default_factory=LostStolenIndex)
    lost_stolen_info: ListInfo | None = None
    watchlist: WatchlistIndex = field(default_factory=lambda: WatchlistIndex([]))
    watchlist_info: ListInfo | None = None
    manifest: ManifestIndex | None = None
    manifest_info: ListInfo | None = None


def weights_of(config: ScreeningConfig) -> ScoreWeights:
    return ScoreWeights(
        config.dob_partial_penalty, config.dob_mismatch_penalty, config.nationality_mismatch_penalty
    )


class Screener:
    """Screens travellers against the lists it was last given."""

    def __init__(self, config: ScreeningConfig, lists: ScreeningLists | None = None) -> None:
        self.config = config
        self._lists = lists or ScreeningLists()

    @property
    def lists(self) -> ScreeningLists:
        return self._lists

    def replace_lists(self, **changes: object) -> None:
        """Swap in new indexes (keyword names as in :class:`ScreeningLists`)."""
        self._lists = replace(self._lists, **changes)  # type: ignore[arg-type]

    def screen(self, traveller: Traveller, now: dt.datetime | None = None) -> ScreeningResult:
        now = now or dt.datetime.now(dt.UTC)
        lists = self._lists  # one consistent set for the whole screening
        key = DocumentKey.of(traveller.issuer, traveller.doc_type, traveller.document_number)
        lost = LostStolenResult(lists.lost_stolen.contains(key), _use(lists.lost_stolen_info, now))
        query = PersonQuery(
            traveller.surname,
            traveller.given_names,
            PartialDate.of(traveller.birth_date),
            traveller.nationality,
        )
        hits = lists.watchlist.search(
            query, self.config.watchlist_threshold, limit=self.config.max_hits
        )
        watch = WatchlistResult(tuple(hits), _use(lists.watchlist_info, now))
        manifest = self._manifest(traveller, lists, now)
        log.info(
            "screening done: lost_stolen=%s watchlist_hits=%d manifest=%s",
            lost.hit,
            len(hits),
            manifest.status.value,
        )
        return ScreeningResult(lost, watch, manifest, now)

    def _manifest(
        self, traveller: Traveller, lists: ScreeningLists, now: dt.datetime
    ) -> ManifestResult:
        required = self.config.require_manifest
        use = _use(lists.manifest_info, now)
        if lists.manifest is None or len(lists.manifest) == 0:
            return ManifestResult(ManifestStatus.NO_MANIFEST, None, required, use)
        match = lists.manifest.match(
            surname=traveller.surname,
            given_names=traveller.given_names,
            birth_date=traveller.birth_date,
            document_number=traveller.document_number,
            issuer=traveller.issuer,
            name_threshold=self.config.manifest_name_threshold,
            arrival_on=now.date(),
            window_days=self.config.manifest_window_days,
        )
        return ManifestResult(match.status, match, required, use)


def _use(info: ListInfo | None, now: dt.datetime) -> ListUse:
    return ListUse(info, round(info.age_hours(now), 3) if info else None)
