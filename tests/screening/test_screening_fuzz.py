"""Fuzzing: list files and names from outside never raise anything but typed errors."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.screening.importers import ImportFileError, ListKind, read_all
from kiosk.screening.matching import PartialDate
from kiosk.screening.normalise import name_tokens
from kiosk.screening.watchlist import PersonQuery, WatchlistEntry, WatchlistIndex
from models.errors import ParseError

_INDEX = WatchlistIndex([WatchlistEntry("W1", "UN", "Müller", "Hans", PartialDate(1970, 1, 1))])
_HEADER = "reference,surname,given_names,birth_date,nationality,issuer,document_number\n"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_name_normalises_and_searches(text: str) -> None:
    tokens = name_tokens(text)
    assert all(token.isascii() and token.isalpha() and token.isupper() for token in tokens)
    _INDEX.search(PersonQuery(text, text), 0.5)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12))
def test_partial_date_parse_is_typed(text: str) -> None:
    try:
        PartialDate.parse(text)
    except ParseError:
        pass


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(list(ListKind)),
    st.booleans(),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400),
)
def test_any_file_gives_summary_or_typed_error(kind: ListKind, header: bool, body: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("list.csv" if header else "list.json")
        path.write_text((_HEADER if header else "") + body, encoding="utf-8")
        try:
            records, summary = read_all(kind, path)
        except ImportFileError:
            return
        assert summary.added == len(records)
        assert summary.added + summary.rejected == summary.rows
