"""An operator's bad file never switches screening off: refused, and the live list kept.

Each case builds the bad file, runs the real ``kiosk screening import`` command over a live
list, and checks both that the command refused it (the fault fired) and that the list the
kiosk screens against is exactly the one before.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.cli.main import main
from kiosk.config import load_config
from kiosk.screening import importers
from kiosk.screening.import_guard import ImportRefusedError, ReplaceGuard
from kiosk.screening.importers import ImportFileError, ImportSummary, ListKind, read_list
from kiosk.screening.store import ScreeningStore
from kiosk.storage.database import open_database

LIVE = {
    ListKind.WATCHLIST: (
        "watchlist",
        "reference,surname,given_names\nW1,Smith,John\nW2,Jones,Mary\nW3,Brown,Paul\n",
    ),
    ListKind.LOST_STOLEN: (
        "lost-stolen",
        "issuer,doc_type,document_number\nGBR,P,111111111\nJAM,P,A2222222\nBRB,P,B333333\n",
    ),
    ListKind.MANIFEST: (
        "manifest",
        "surname,document_number,issuer,flight,arrival_date\n"
        "Smith,X111,GBR,BW600,2030-01-01\nJones,X222,JAM,BW600,2030-01-01\n"
        "Brown,X333,BRB,BW600,2030-01-01\n",
    ),
}


def _quote_opened(text: str, *, closed_at: int | None) -> bytes:
    """``text`` with a quote opened in the last field of its first row (line 2), closed at the
    end of line ``closed_at`` or never."""
    lines = text.split("\n")
    head, last = lines[1].rsplit(",", 1)
    lines[1] = f'{head},"{last}'
    if closed_at is not None:
        lines[closed_at - 1] += '"'
    return "\n".join(lines).encode()


# name -> (bytes for each kind's file, the words the error must contain)
BAD_FILES: dict[str, tuple[dict[ListKind, bytes], tuple[str, ...]]] = {
    "semicolon": (
        {
            ListKind.WATCHLIST: b"reference;surname\nW9;Grey\n",
            ListKind.LOST_STOLEN: b"issuer;document_number\nGBR;999\n",
            ListKind.MANIFEST: b"surname;document_number;issuer;flight;arrival_date\n"
            b"Grey;X9;GBR;BW1;2030-01-01\n",
        },
        ("header has no column", "separator must be a comma"),
    ),
    "wrong_columns": (
        dict.fromkeys(ListKind, b"name,passport\nGrey,999\n"),
        ("header has no column",),
    ),
    "header_only": (
        {kind: text.split("\n", 1)[0].encode() + b"\n" for kind, (_, text) in LIVE.items()},
        ("no valid row", "has no rows", "is kept"),
    ),
    "non_utf8": (
        {kind: text.encode() + "Müller,X9,GBR,BW1,2030-01-01\n".encode("latin-1")
         for kind, (_, text) in LIVE.items()},
        ("line 5 is not UTF-8", "byte", "0xfc"),
    ),
    "unbalanced_quote": (
        {kind: _quote_opened(text, closed_at=None) for kind, (_, text) in LIVE.items()},
        ("row at line 2", "a quote is not closed"),
    ),
    "quote_closed_two_rows_later": (
        {kind: _quote_opened(text, closed_at=3) for kind, (_, text) in LIVE.items()},
        ("row at line 2", "swallow the rows after it"),
    ),
}  # fmt: skip


def _live_entries(kind: ListKind) -> int:
    with open_database(load_config()) as database:
        store = ScreeningStore(database)
        index = {
            ListKind.WATCHLIST: store.load_watchlist,
            ListKind.LOST_STOLEN: store.load_lost_stolen,
            ListKind.MANIFEST: store.load_manifest,
        }[kind]()
        info = store.info(kind)
    assert info is not None
    assert info.entries == len(index)
    return len(index)


@pytest.fixture
def live(kiosk_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Every list imported with three entries."""
    for kind, (name, text) in LIVE.items():
        path = tmp_path / f"live-{name}.csv"
        path.write_text(text, encoding="utf-8")
        assert main(["screening", "import", name, str(path)]) == 0
        assert _live_entries(kind) == 3
    capsys.readouterr()
    return kiosk_home


@pytest.mark.parametrize("case", sorted(BAD_FILES))
@pytest.mark.parametrize("kind", list(ListKind))
def test_a_bad_file_is_refused_and_the_live_list_kept(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: ListKind, case: str
) -> None:
    # GIVEN a live list of three entries and an operator's bad file
    contents, words = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(contents[kind])
    # WHEN it is imported
    code = main(["screening", "import", LIVE[kind][0], str(path)])
    out, err = capsys.readouterr()
    # THEN the command refused it, saying why (no traceback) ...
    assert code in (1, 2), (out, err)
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    # ... and the kiosk still screens against the three entries
    assert _live_entries(kind) == 3


def test_json_with_wrong_types_is_refused(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps([{"reference": ["W1"], "surname": {"x": 1}}, 7, None]))
    assert main(["screening", "import", "watchlist", str(path)]) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["rejected"] == 3 and report["added"] == 0
    assert "all 3 rows were rejected" in report["refused"]
    assert report["live"]["entries"] == 3
    assert _live_entries(ListKind.WATCHLIST) == 3


def test_a_shrink_beyond_the_share_needs_allow_shrink(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file holding one of the three watchlist entries (a 67 % shrink, 25 % allowed)
    path = tmp_path / "one.csv"
    path.write_text("reference,surname\nW1,Smith\n")
    # WHEN imported without --allow-shrink THEN refused and the list kept
    assert main(["screening", "import", "watchlist", str(path)]) == 1
    assert "--allow-shrink" in capsys.readouterr().err
    assert _live_entries(ListKind.WATCHLIST) == 3
    # WHEN the operator confirms THEN the list is replaced
    assert main(["screening", "import", "watchlist", str(path), "--allow-shrink"]) == 0
    assert _live_entries(ListKind.WATCHLIST) == 1


def test_the_shrink_share_is_read_from_the_configuration(
    live: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "one.csv"
    path.write_text("reference,surname\nW1,Smith\n")
    monkeypatch.setenv("KIOSK_LIST_IMPORT__MAX_SHRINK_SHARE", "0.7")
    assert main(["screening", "import", "watchlist", str(path)]) == 0
    assert _live_entries(ListKind.WATCHLIST) == 1


def test_a_file_unreadable_after_the_first_batch_leaves_the_list_whole(
    live: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN batches of two rows and a file whose 6th line is not UTF-8
    monkeypatch.setattr(importers, "BATCH_ROWS", 2)
    rows = "".join(f"W{n},Name{n}\n" for n in range(10, 14))
    path = tmp_path / "late.csv"
    path.write_bytes(b"reference,surname\n" + rows.encode() + b"W99,M\xfcller\n")
    summary = ImportSummary(ListKind.WATCHLIST)
    yielded: list[int] = []

    def batches() -> Iterator[list[object]]:
        for batch in read_list(ListKind.WATCHLIST, path, summary):
            yielded.append(len(batch))
            yield batch

    # WHEN it replaces the live list
    with open_database(load_config()) as database, pytest.raises(ImportFileError, match="line 6"):
        ScreeningStore(database).replace(ListKind.WATCHLIST, batches(), guard=ReplaceGuard())
    # THEN two batches were written inside the transaction before the fault (it fired) ...
    assert yielded == [2, 2]
    # ... and none of it was kept
    assert _live_entries(ListKind.WATCHLIST) == 3


def test_the_guard_alone() -> None:
    guard = ReplaceGuard(0.25)
    guard.check(ListKind.WATCHLIST, 0, 1)
    guard.check(ListKind.WATCHLIST, 4, 3)
    with pytest.raises(ImportRefusedError, match="no valid row"):
        guard.check(ListKind.WATCHLIST, 0, 0)
    with pytest.raises(ImportRefusedError, match="from 4 to 2"):
        guard.check(ListKind.WATCHLIST, 4, 2)
    with pytest.raises(ImportRefusedError, match="no valid row"):
        ReplaceGuard(0.25, allow_shrink=True).check(ListKind.WATCHLIST, 4, 0)


_FUZZ_DB: dict[str, object] = {}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(list(ListKind)),
    use_header=st.booleans(),
    body=st.binary(max_size=300)
    | st.text(alphabet=st.sampled_from(list('abcGBR0123;,"\n\r\t é')), max_size=200).map(
        str.encode
    ),
)
def test_fuzzed_files_never_empty_or_cut_the_live_list(
    kiosk_home: Path, kind: ListKind, use_header: bool, body: bytes
) -> None:
    config = load_config()
    with open_database(config) as database:
        store = ScreeningStore(database)
        if store.info(kind) is None:
            with tempfile.TemporaryDirectory() as folder:
                seed = Path(folder) / "seed.csv"
                seed.write_text(LIVE[kind][1])
                store.replace(kind, read_list(kind, seed, ImportSummary(kind)))
        before = store.info(kind)
        assert before is not None
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "fuzz.csv"
            header = LIVE[kind][1].split("\n", 1)[0].encode() + b"\n" if use_header else b""
            path.write_bytes(header + body)
            summary = ImportSummary(kind)
            try:
                info = store.replace(
                    kind, read_list(kind, path, summary), guard=ReplaceGuard(0.25), summary=summary
                )
            except ImportFileError:
                after = store.info(kind)
                assert after == before  # refused: nothing changed, not even the version
                return
        # accepted: never empty, never more than the allowed share removed
        assert info.entries >= 1
        assert info.entries >= before.entries * 0.75
        assert summary.added == info.entries or kind is ListKind.WATCHLIST
