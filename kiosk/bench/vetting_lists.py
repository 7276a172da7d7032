"""The lists of ``kiosk bench vetting`` in PostgreSQL: stored once in a schema of their
own (the server's list tables, the kiosks' distribution format, written with COPY), named
after what they hold, reused by later runs, and everything else a run wrote emptied before
and after it (:mod:`kiosk.bench.vetting`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sys
from typing import Any

import numpy as np

# bump when what the bench stores for the lists changes (kept schemas of older formats are
# then not reused)
LISTS_FORMAT = 1
KEPT_TABLES = ("server_list_changes", "server_list_versions", "bench_lists")
LISTS = ("watchlist", "lost_stolen")
ISSUERS = ("TTO", "JAM", "BRB", "GUY", "LCA", "GRD", "VCT", "DMA", "KNA", "ATG", "USA", "GBR")


def progress(stage: str, done: int, total: int | None = None) -> None:
    suffix = f" / {total:,}" if total else ""
    print(f"vetting bench: {stage} {done:,}{suffix}", file=sys.stderr, flush=True)


def _copy_rows(connection: Any, rows: Any, total: int, stage: str) -> None:
    """COPY (list_name, version, op, key, data, uploaded_by, created_at) rows in chunks."""
    raw = connection.connection.driver_connection
    columns = "list_name, version, op, key, data, uploaded_by, created_at"
    now = dt.datetime.now(dt.UTC).isoformat()
    written = 0
    # one COPY of millions of rows outlasts the server's per-statement limit
    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY server_list_changes ({columns}) FROM STDIN") as copy,
    ):
        buffer = io.StringIO()
        for name, key, data in rows:
            buffer.write(f"{name}\t1\tupsert\t{key}\t{data}\tbench\t{now}\n")
            written += 1
            if written % 200_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
                progress(stage, written, total)
        copy.write(buffer.getvalue())
    progress(stage, written, total)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def store_lists(engine: Any, names: int, documents: int, seed: int) -> None:
    """Write the lists, and the row saying they are complete, in one transaction."""
    from sqlalchemy import text

    from kiosk.screening.synthetic import people

    entries = people(names, seed=seed)
    progress("watchlist generated", len(entries))
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789", dtype=np.uint8)
    with engine.begin() as connection:
        _copy_rows(
            connection,
            (
                (
                    "watchlist",
                    _escape(e.reference),
                    _escape(
                        json.dumps(
                            {
                                "surname": e.surname,
                                "given_names": e.given_names,
                                "birth_date": str(e.birth_date) if e.birth_date else None,
                                "nationality": e.nationality,
                                "category": "regional",
                            }
                        )
                    ),  # fmt: skip
                )
                for e in entries
            ),
            names,
            "watchlist stored",
        )

        def documents_rows() -> Any:
            chunk = 500_000
            for start in range(0, documents, chunk):
                size = min(chunk, documents - start)
                numbers = alphabet[rng.integers(0, alphabet.size, (size, 9))].view("S9").ravel()
                issuers = rng.integers(0, len(ISSUERS), size)
                for issuer, number in zip(issuers.tolist(), numbers.tolist(), strict=True):
                    yield (
                        "lost_stolen",
                        f"{ISSUERS[issuer]}:{number.decode()}",
                        '{"doc_type": "P"}',
                    )

        _copy_rows(connection, documents_rows(), documents, "lost/stolen stored")
        for name in LISTS:
            connection.execute(
                text(
                    "INSERT INTO server_list_versions (name, version, updated_at) "
                    "VALUES (:name, 1, now())"
                ),
                {"name": name},
            )
        connection.execute(
            text("CREATE TABLE bench_lists (format int, names bigint, documents bigint, seed int)")
        )
        connection.execute(
            text("INSERT INTO bench_lists VALUES (:format, :names, :documents, :seed)"),
            {"format": LISTS_FORMAT, "names": names, "documents": documents, "seed": seed},
        )


def generated_order(entry: Any) -> int:
    """The position of a synthetic entry in its generation (``SYNTHETIC-<position>``)."""
    return int(entry.reference.rsplit("-", 1)[1])


def lists_schema(names: int, documents: int, seed: int) -> str:
    """The name of the schema keeping these lists: their sizes, the seed, and a digest of
    the format and of what the generators give for this seed (a changed generator or
    format is a new schema, never a stale one)."""
    from kiosk.screening.synthetic import people

    sample = [
        (e.reference, e.surname, e.given_names, str(e.birth_date), e.nationality)
        for e in people(200, seed=seed)
    ]
    rng = np.random.default_rng(seed)
    digest = hashlib.sha256(
        repr((LISTS_FORMAT, sample, rng.integers(0, 1 << 30, 8).tolist(), ISSUERS)).encode()
    ).hexdigest()[:8]
    return f"kiosk_bench_vetting_lists_{names}_{documents}_{seed}_{digest}"


def ready(connection: Any, schema: str) -> bool:
    """Does ``schema`` hold a complete copy of the lists (written by a run that finished)?"""
    from sqlalchemy import text

    found = connection.execute(
        text("SELECT 1 FROM pg_tables WHERE schemaname = :schema AND tablename = 'bench_lists'"),
        {"schema": schema},
    ).first()
    if found is None:
        return False
    row = connection.execute(text(f"SELECT format FROM {schema}.bench_lists")).first()
    return row is not None and int(row[0]) == LISTS_FORMAT


def empty_run_data(connection: Any, schema: str) -> None:
    """Everything a run wrote (messages, travellers, hits, rules, audit, the manifest list)
    removed; the two lists and their versions kept."""
    from sqlalchemy import text

    from server.migrations import VERSION_TABLE

    kept = (*KEPT_TABLES, VERSION_TABLE)
    tables = [
        row[0]
        for row in connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": schema}
        )
        if row[0] not in kept
    ]
    if tables:
        connection.execute(
            text("TRUNCATE " + ", ".join(f"{schema}.{t}" for t in tables) + " CASCADE")
        )
    written = [
        row[0]
        for row in connection.execute(
            text(f"SELECT name FROM {schema}.server_list_versions WHERE name <> ALL(:kept)"),
            {"kept": list(LISTS)},
        )
    ]
    for name in written:  # one list at a time: the (list_name, version) index is used
        connection.execute(
            text(f"DELETE FROM {schema}.server_list_changes WHERE list_name = :name"),
            {"name": name},
        )
    connection.execute(
        text(f"DELETE FROM {schema}.server_list_versions WHERE name <> ALL(:kept)"),
        {"kept": list(LISTS)},
    )
