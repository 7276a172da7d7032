"""The manifest (was this traveller expected?) and the Screener over all three lists."""

from __future__ import annotations

import datetime as dt

from kiosk.config import ScreeningConfig
from kiosk.screening.lost_stolen import DocumentKey, LostStolenIndex
from kiosk.screening.manifest import ManifestEntry, ManifestIndex, ManifestStatus
from kiosk.screening.matching import PartialDate
from kiosk.screening.screening import ListInfo, Screener, ScreeningLists, Traveller
from kiosk.screening.watchlist import WatchlistEntry, WatchlistIndex

TODAY = dt.date(2024, 6, 1)
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
ANNA = ManifestEntry("Nordström", "Anna Maria", "X1234567", "SWE", "SWE", dt.date(1985, 3, 14),
                     "F", dt.date(2030, 1, 1), "BW600", TODAY)  # fmt: skip


def _manifest() -> ManifestIndex:
    other = ManifestEntry("Baptiste", "Jean", "P998877", "HTI", "HTI", dt.date(1990, 1, 2), "M",
                          None, "BW600", TODAY)  # fmt: skip
    return ManifestIndex([ANNA, other])


def _match(**changes: object) -> ManifestStatus:
    fields: dict[str, object] = {
        "surname": "NORDSTROEM",
        "given_names": "ANNA MARIA",
        "birth_date": dt.date(1985, 3, 14),
        "document_number": "X1234567",
        "issuer": "SWE",
        "name_threshold": 0.92,
        "arrival_on": TODAY,
    }
    fields.update(changes)
    return _manifest().match(**fields).status  # type: ignore[arg-type]


def test_expected_by_document() -> None:
    match = _manifest().match(
        surname="Someone",
        given_names="Else",
        birth_date=None,
        document_number="x123-4567",
        issuer="swe",
        name_threshold=0.92,
    )
    assert match.status is ManifestStatus.EXPECTED
    assert match.matched_by == "document"
    assert match.flight == "BW600"


def test_expected_by_name_and_birth_date_when_document_differs() -> None:
    # GIVEN a renewed passport (new number) WHEN the name and birth date agree THEN expected
    match = _manifest().match(
        surname="NORDSTROM",
        given_names="ANNA",
        birth_date=dt.date(1985, 3, 14),
        document_number="Y7654321",
        issuer="SWE",
        name_threshold=0.92,
    )
    assert match.status is ManifestStatus.EXPECTED
    assert match.matched_by == "name_birth_date"


def test_not_expected() -> None:
    assert _match(document_number="Y7654321", birth_date=dt.date(1985, 3, 15)) is (
        ManifestStatus.NOT_EXPECTED
    )
    assert _match(document_number="Y7654321", surname="Lindqvist") is ManifestStatus.NOT_EXPECTED
    assert _match(arrival_on=TODAY + dt.timedelta(days=3)) is ManifestStatus.NOT_EXPECTED
    assert _match(arrival_on=TODAY + dt.timedelta(days=1)) is ManifestStatus.EXPECTED


def _screener(**config: object) -> Screener:
    info = ListInfo("watchlist", 7, NOW - dt.timedelta(hours=30), 1)
    lists = ScreeningLists(
        lost_stolen=LostStolenIndex.from_keys([DocumentKey.of("GBR", "P", "999000111")]),
        lost_stolen_info=ListInfo("lost_stolen", 3, NOW - dt.timedelta(hours=2), 1),
        watchlist=WatchlistIndex(
            [WatchlistEntry("W9", "NATIONAL", "Kowalski", "Jan", PartialDate(1977, 7, 7), "POL")]
        ),
        watchlist_info=info,
        manifest=_manifest(),
        manifest_info=ListInfo("manifest", 1, NOW, 2),
    )
    return Screener(ScreeningConfig(**config), lists)  # type: ignore[arg-type]


def test_screener_clean_traveller() -> None:
    anna = Traveller("NORDSTROEM", "ANNA MARIA", dt.date(1985, 3, 14), "SWE", "X1234567", "SWE")
    result = _screener().screen(anna, now=NOW)
    assert not result.lost_stolen.hit
    assert not result.watchlist.hit
    assert result.manifest.status is ManifestStatus.EXPECTED
    assert result.watchlist.list.info is not None and result.watchlist.list.info.version == 7
    assert result.watchlist.list.age_hours == 30.0
    assert result.lost_stolen.list.age_hours == 2.0


def test_screener_hits() -> None:
    jan = Traveller("KOWALSKY", "JAN", dt.date(1977, 7, 7), "POL", "999000111", "GBR", "P")
    result = _screener(require_manifest=True).screen(jan, now=NOW)
    assert result.lost_stolen.hit
    assert [h.entry.reference for h in result.watchlist.hits] == ["W9"]
    assert result.watchlist.hits[0].list_name == "NATIONAL"
    assert result.manifest.status is ManifestStatus.NOT_EXPECTED
    assert result.manifest.required


def test_screener_without_lists() -> None:
    result = Screener(ScreeningConfig()).screen(
        Traveller("DOE", "JANE", dt.date(1990, 1, 1), "USA", "123", "USA"), now=NOW
    )
    assert not result.lost_stolen.hit and not result.watchlist.hit
    assert result.manifest.status is ManifestStatus.NO_MANIFEST
    assert result.watchlist.list.info is None and result.watchlist.list.age_hours is None
