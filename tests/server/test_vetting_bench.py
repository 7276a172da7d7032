"""GIVEN `kiosk bench vetting` on a small scale WHEN it runs THEN it reports the JSON keys the
issue names, and its blocked, pruned watchlist search finds every brute-force hit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.postgres


def test_bench_vetting_reports_its_figures_and_full_recall() -> None:
    # WHEN the benchmark vets two small manifests against small lists
    url = os.environ.get(
        "KIOSK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    answer = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "--log-level", "WARNING", "bench", "vetting",
         "--db", url, "--names", "3000", "--documents", "2000", "--rules", "5", "--messages", "2",
         "--passengers", "40", "--listed-share", "0.2", "--brute-force", "40", "--json"],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    figures = json.loads(answer.stdout.strip().splitlines()[-1])
    # THEN the figures are reported (not bounded: durations belong to the benchmark) ...
    assert figures["passengers"] == 80
    for key in ("passengers_per_s", "message_to_verdict_ms_p95", "brute_force_ratio"):
        assert isinstance(figures[key], float | int)
    # ... and the planted variants were found wherever the brute-force scan found them
    assert figures["recall_expected_hits"] > 0 and figures["recall"] == 1.0
