"""What an import may do to a live list: never empty it, never shrink it by surprise.

A list replaced by a file with no valid row would switch screening off without anyone seeing
it; a file cut short (a truncated export, the wrong day's file) would quietly drop documents.
:class:`ReplaceGuard` refuses both while the replacement's database transaction is still open,
so a refused import leaves the live list exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.screening.importers import ImportFileError, ListKind


class ImportRefusedError(ImportFileError):
    """The file was read but replacing the live list with it was refused; the list is kept."""

    code = "screening_import_refused"


@dataclass(frozen=True, slots=True)
class ReplaceGuard:
    """``max_shrink_share``: the largest share of the live list one import may remove
    without ``allow_shrink`` (0.25: a list of 1,000 may go down to 750)."""

    max_shrink_share: float = 0.25
    allow_shrink: bool = False

    def check(self, kind: ListKind, live: int, incoming: int, rejected: int = 0) -> None:
        """Raise :class:`ImportRefusedError` unless ``incoming`` entries may replace ``live``."""
        kept = f"the live {kind.value} list ({live} entries) is kept"
        if incoming == 0:
            why = f"all {rejected} rows were rejected" if rejected else "the file has no rows"
            raise ImportRefusedError(f"no valid row to import ({why}); {kept}")
        floor = live * (1.0 - self.max_shrink_share)
        if not self.allow_shrink and incoming < floor:
            share = 1.0 - incoming / live
            raise ImportRefusedError(
                f"the import would shrink the list from {live} to {incoming} entries "
                f"({share:.0%}, more than the {self.max_shrink_share:.0%} allowed); "
                f"{kept}; use --allow-shrink if this is intended"
            )
