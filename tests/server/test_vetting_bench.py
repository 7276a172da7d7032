"""GIVEN `kiosk bench vetting` on a small scale WHEN it runs THEN it reports the JSON keys the
issue names, its blocked, pruned watchlist search finds every brute-force hit, and a second
run reuses the lists the first one stored and vets the same travellers the same way."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from kiosk.bench.vetting import lists_schema

pytestmark = pytest.mark.postgres

URL = os.environ.get(
    "KIOSK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SMALL = ["--names", "3000", "--documents", "2000", "--rules", "5", "--messages", "2",
         "--passengers", "40", "--listed-share", "0.2", "--brute-force", "40",
         "--seed", "41"]  # fmt: skip


def _bench(*extra: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    answer = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "--log-level", "WARNING", "bench", "vetting",
         "--db", URL, *SMALL, *extra, "--json"],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    return json.loads(answer.stdout.strip().splitlines()[-1]), answer.stderr


def _schema_exists(name: str) -> bool:
    engine = create_engine(URL)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": name}
            ).first()
    finally:
        engine.dispose()
    return found is not None


def test_bench_vetting_reports_its_figures_full_recall_and_reuses_its_lists() -> None:
    # WHEN the benchmark vets two small manifests against small lists it stores afresh
    figures, _ = _bench("--fresh")
    # THEN the figures are reported (not bounded: durations belong to the benchmark) ...
    assert figures["passengers"] == 80 and figures["lists_reused"] is False
    for key in ("passengers_per_s", "message_to_verdict_ms_p95", "brute_force_ratio"):
        assert isinstance(figures[key], float | int)
    # ... and the planted variants were found wherever the brute-force scan found them
    assert figures["recall_expected_hits"] > 0 and figures["recall"] == 1.0
    schema = lists_schema(3000, 2000, 41)
    assert _schema_exists(schema)  # kept for the next run
    # WHEN it runs again, in two forked server processes taking two messages at once each,
    # asked to drop the lists after
    again, progress = _bench("--processes", "2", "--concurrency", "2", "--drop-lists")
    # THEN it reused the stored lists, and the same travellers were vetted the same way
    assert again["lists_reused"] is True and "reused" in progress
    for key in ("passengers", "referred", "recall_expected_hits", "recall"):
        assert again[key] == figures[key], key
    assert not _schema_exists(schema)
