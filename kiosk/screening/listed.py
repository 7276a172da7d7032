"""The screening-list entries a traveller matched, as the officer's referral carries them:
the listed person's names, birth date and nationality, the list and its entry reference, the
score and the fields that agreed. For the officer's screen only; never logged."""

from __future__ import annotations

from kiosk.screening.matching import PartialDate
from kiosk.screening.screening import ScreeningResult
from models.records import ListedPerson

MAX_LISTED = 10
LOST_STOLEN_LIST = "lost_stolen"


def _date_text(value: PartialDate | None) -> str:
    if value is None:
        return ""
    parts = [f"{value.year:04d}"]
    if value.month:
        parts.append(f"{value.month:02d}")
        if value.day:
            parts.append(f"{value.day:02d}")
    return "-".join(parts)


def listed_persons(result: ScreeningResult | None, issuer: str = "") -> tuple[ListedPerson, ...]:
    """The watchlist candidates (best first) and the lost/stolen entry, at most 10."""
    if result is None:
        return ()
    out: list[ListedPerson] = []
    if result.lost_stolen.hit:
        info = result.lost_stolen.list.info
        version = f"v{info.version}" if info else ""
        out.append(
            ListedPerson(
                list_name=LOST_STOLEN_LIST,
                reference=f"{issuer} document {version}".strip()[:128],
                score=1.0,
                agreeing=("document_number", "issuer"),
            )
        )
    hits = sorted(result.watchlist.hits, key=lambda hit: -hit.score)
    for hit in hits[: MAX_LISTED - len(out)]:
        entry = hit.entry
        out.append(
            ListedPerson(
                list_name=entry.list_name[:64] or "watchlist",
                reference=entry.reference[:128],
                surname=entry.surname[:120],
                given_names=entry.given_names[:120],
                birth_date=_date_text(entry.birth_date),
                nationality=entry.nationality[:3],
                score=min(1.0, max(0.0, float(hit.score))),
                agreeing=hit.matched_fields,
            )
        )
    return tuple(out)
