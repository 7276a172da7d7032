"""Importers (CSV and JSON, bad rows by number, progress), the database store and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.cli.main import main
from kiosk.config import load_config
from kiosk.screening.importers import ImportFileError, ImportSummary, ListKind, read_all, read_list
from kiosk.screening.matching import PartialDate
from kiosk.screening.store import ScreeningStore
from kiosk.storage.database import open_database

LOST_CSV = """issuer,doc_type,document_number
GBR,P,123456789
D<<,P,C01X00T47
,P,123
JAM,,A1234567
GBR,P,
USA,P,12345678901234567890123
"""

WATCH_CSV = """reference,list_name,surname,given_names,birth_date,nationality
W1,UN,Müller,Hans Peter,1971-04-23,DEU
W2,,Al-Rashid,Mohammed,1980,SYR
W3,UN,,Nobody,1970-01-01,GBR
W4,UN,Smith,John,1970-13-01,GBR
W5,UN,Smith,John,1970-01-01,GBRX
"""

MANIFEST_ROWS = [
    {"surname": "Nordström", "given_names": "Anna", "document_number": "X1234567",
     "issuer": "SWE", "nationality": "SWE", "birth_date": "1985-03-14", "sex": "F",
     "expiry_date": "2030-01-01", "flight": "bw600", "arrival_date": "2024-06-01"},
    {"surname": "Baptiste", "document_number": "P998877", "issuer": "HTI", "sex": "Q",
     "flight": "BW600", "arrival_date": "2024-06-01"},
    {"surname": "Baptiste", "document_number": "P998877", "issuer": "HTI", "flight": "BW600"},
    "not an object",
]  # fmt: skip


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lost_stolen_csv_rejects_bad_rows_with_row_number(tmp_path: Path) -> None:
    records, summary = read_all(ListKind.LOST_STOLEN, _write(tmp_path, "l.csv", LOST_CSV))
    assert (summary.rows, summary.added, summary.rejected) == (6, 3, 3)
    assert [(r.row, r.reason) for r in summary.rejects] == [
        (4, "issuer is missing"),
        (6, "document_number is missing"),
        (7, "document_number is not 1 to 20 letters and digits"),
    ]
    assert records[1].issuer == "D" and records[2].doc_type == ""


def test_watchlist_csv_rows_and_reasons(tmp_path: Path) -> None:
    records, summary = read_all(
        ListKind.WATCHLIST, _write(tmp_path, "w.csv", WATCH_CSV), default_list="NATIONAL"
    )
    assert summary.added == 2
    assert {(r.row, r.reason) for r in summary.rejects} == {
        (4, "surname is missing"),
        (5, "birth_date is not YYYY[-MM[-DD]]"),
        (6, "nationality is longer than 3 characters"),
    }
    assert records[1].list_name == "NATIONAL"
    assert records[1].birth_date == PartialDate(1980)
    # the reasons never carry the values
    assert all("Smith" not in r.reason for r in summary.rejects)


def test_manifest_json_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.json", json.dumps({"entries": MANIFEST_ROWS}))
    records, summary = read_all(ListKind.MANIFEST, path)
    assert summary.added == 1
    assert [(r.row, r.reason) for r in summary.rejects] == [
        (2, "sex is not M, F or X"),
        (3, "arrival_date is missing"),
        (4, "row is not an object"),
    ]
    assert records[0].flight == "BW600"


def test_progress_callback_is_called(tmp_path: Path) -> None:
    rows = "issuer,document_number\n" + "".join(f"GBR,{n:09d}\n" for n in range(25))
    seen: list[int] = []
    summary = ImportSummary(ListKind.LOST_STOLEN)
    batches = list(
        read_list(
            ListKind.LOST_STOLEN,
            _write(tmp_path, "p.csv", rows),
            summary,
            progress=seen.append,
            progress_every=10,
        )
    )
    assert seen == [10, 20, 25]
    assert sum(len(b) for b in batches) == summary.added == 25


@pytest.mark.parametrize(
    ("name", "text"),
    [("x.json", "{not json"), ("x.json", '{"rows": []}'), ("x.csv", "")],
)
def test_unreadable_files_raise_typed_error(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(ImportFileError):
        read_all(ListKind.WATCHLIST, _write(tmp_path, name, text))
    with pytest.raises(ImportFileError):
        read_all(ListKind.WATCHLIST, tmp_path / "missing.csv")


def test_store_round_trip(tmp_path: Path, kiosk_home: Path) -> None:
    # GIVEN lists imported into the kiosk database
    config = load_config(data_dir=kiosk_home)
    with open_database(config) as database:
        store = ScreeningStore(database)
        for kind, name, text in (
            (ListKind.LOST_STOLEN, "l.csv", LOST_CSV),
            (ListKind.WATCHLIST, "w.csv", WATCH_CSV),
        ):
            summary = ImportSummary(kind)
            store.replace(kind, read_list(kind, _write(tmp_path, name, text), summary))
        manifest = _write(tmp_path, "m.json", json.dumps(MANIFEST_ROWS))
        store.replace(
            ListKind.MANIFEST,
            read_list(ListKind.MANIFEST, manifest, ImportSummary(ListKind.MANIFEST)),
        )
        # a second import replaces the first and bumps the version
        info = store.replace(
            ListKind.LOST_STOLEN,
            read_list(
                ListKind.LOST_STOLEN,
                _write(tmp_path, "l.csv", LOST_CSV),
                ImportSummary(ListKind.LOST_STOLEN),
            ),
        )
        # WHEN the indexes are loaded back THEN they hold what was imported
        lost = store.load_lost_stolen()
        watch = store.load_watchlist()
        manifest_index = store.load_manifest()
        stored = store.info(ListKind.WATCHLIST)
    assert info.version == 2 and info.entries == 3
    assert len(lost) == 3 and lost.lookup("D", "P", "C01X00T47")
    assert len(watch) == 2 and watch.entries[0].reference == "W1"
    assert len(manifest_index) == 1
    assert stored is not None and stored.version == 1 and stored.updated_at.tzinfo is not None


def test_cli_import_and_check(
    tmp_path: Path, kiosk_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watch = _write(tmp_path, "w.csv", WATCH_CSV)
    assert main(["screening", "import", "watchlist", str(watch)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["added"] == 2 and "rows read" in err
    lost = _write(tmp_path, "l.txt", json.dumps([{"issuer": "GBR", "document_number": "1"}]))
    assert main(["screening", "import", "lost-stolen", str(lost), "--json"]) == 0
    capsys.readouterr()
    code = main(
        [
            "screening",
            "check",
            "--surname",
            "MUELLER",
            "--given-names",
            "HANS PETER",
            "--dob",
            "1971-04-23",
            "--nationality",
            "DEU",
            "--document-number",
            "1",
            "--issuer",
            "GBR",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["lost_stolen"]["hit"] is True
    assert result["watchlist"]["hits"][0]["entry"]["reference"] == "W1"
    assert result["watchlist"]["hits"][0]["matched_fields"] == ["name", "birth_date", "nationality"]
    assert result["manifest"]["status"] == "no_manifest"
