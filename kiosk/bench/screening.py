"""``kiosk bench screening``: watchlist search and lost/stolen lookup at full scale.

A synthetic watchlist (deterministic from ``--seed``) is indexed, then queried with variants
of listed people (typos, dropped accents, reordered names, a missing middle name) and with
unrelated people. Recall compares the blocked search with a brute-force scan of every entry
by the same scorer at the same threshold. The lost/stolen index is built from random
documents and asked about listed and unlisted ones.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from typing import Any

import numpy as np

from kiosk.config import ScreeningConfig, load_config
from kiosk.screening.lost_stolen import LostStolenIndex, hash_encoded_keys
from kiosk.screening.matching import ScoreWeights
from kiosk.screening.synthetic import people, queries
from kiosk.screening.watchlist import WatchlistIndex

_ISSUERS = [
    "ATG",
    "BHS",
    "BRB",
    "BLZ",
    "DMA",
    "GRD",
    "GUY",
    "HTI",
    "JAM",
    "KNA",
    "LCA",
    "VCT",
    "SUR",
    "TTO",
    "MSR",
    "AIA",
    "BMU",
    "VGB",
    "CYM",
    "TCA",
    "GBR",
    "GBD",
    "USA",
    "CAN",
    "MEX",
    "BRA",
    "COL",
    "VEN",
    "DOM",
    "CUB",
    "FRA",
    "DEU",
    "ESP",
    "ITA",
    "NLD",
    "IND",
    "CHN",
    "NGA",
    "GHA",
    "ZAF",
    "D",
]
_ALNUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", dtype=np.uint8)
_NUMBER_LENGTH = 9


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--names", type=int, default=1_000_000, help="watchlist size")
    parser.add_argument("--documents", type=int, default=10_000_000, help="lost/stolen size")
    parser.add_argument("--queries", type=int, default=1000, help="watchlist queries timed")
    parser.add_argument(
        "--recall-queries", type=int, default=100, help="queries also brute-forced for recall"
    )
    parser.add_argument("--lookups", type=int, default=10_000, help="document lookups timed")
    parser.add_argument("--threshold", type=float, default=None, help="default: from config")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    config = _screening_config(args)
    threshold = args.threshold if args.threshold is not None else config.watchlist_threshold
    result: dict[str, Any] = {"names": args.names, "threshold": threshold}
    result.update(_watchlist(args, config, threshold))
    result["documents"] = args.documents
    result.update(_documents(args))
    result["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def _screening_config(args: argparse.Namespace) -> ScreeningConfig:
    return load_config(getattr(args, "config", None)).screening


def _watchlist(
    args: argparse.Namespace, config: ScreeningConfig, threshold: float
) -> dict[str, Any]:
    started = time.perf_counter()
    entries = people(args.names, seed=args.seed)
    generated = time.perf_counter()
    weights = ScoreWeights(
        config.dob_partial_penalty, config.dob_mismatch_penalty, config.nationality_mismatch_penalty
    )
    index = WatchlistIndex(entries, weights)
    built = time.perf_counter()
    asked = queries(entries, args.queries, seed=args.seed + 1)
    timings: list[float] = []
    hits = 0
    for query in asked:
        begin = time.perf_counter()
        found = index.search(query, threshold)
        timings.append(time.perf_counter() - begin)
        hits += bool(found)
    brute_total = blocked_total = 0
    for query in asked[: args.recall_queries]:
        expected = {id(hit.entry) for hit in index.brute_force(query, threshold)}
        found_ids = {id(hit.entry) for hit in index.search(query, threshold)}
        brute_total += len(expected)
        blocked_total += len(expected & found_ids)
    ms = np.array(timings) * 1000
    return {
        "names_generate_s": round(generated - started, 2),
        "names_build_s": round(built - generated, 2),
        "watchlist_index_mb": round(index.nbytes / 2**20, 1),
        "queries": len(asked),
        "queries_with_hits": hits,
        "query_ms_p50": round(float(np.percentile(ms, 50)), 3) if ms.size else None,
        "query_ms_p95": round(float(np.percentile(ms, 95)), 3) if ms.size else None,
        "recall_queries": min(args.recall_queries, len(asked)),
        "recall_expected_hits": brute_total,
        "recall": round(blocked_total / brute_total, 4) if brute_total else 1.0,
    }


def _documents(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    count = args.documents
    codes = np.array([code.encode() for code in _ISSUERS], dtype="S3")
    code_lengths = np.array([len(code) for code in _ISSUERS], dtype=np.int32)
    issuer_index = rng.integers(0, codes.size, count)
    issuer_of = codes[issuer_index]
    issuer_len = code_lengths[issuer_index]
    issuer_bytes = np.frombuffer(issuer_of.tobytes(), dtype=np.uint8).reshape(count, 3)
    types = np.where(rng.random(count) < 0.8, ord("P"), ord("I")).astype(np.uint8)
    numbers = _ALNUM[rng.integers(0, _ALNUM.size, (count, _NUMBER_LENGTH))]
    # the encoded keys ISSUER|T|NUMBER, built column-wise (issuer codes have 1 to 3 letters)
    matrix = np.zeros((count, 3 + 3 + _NUMBER_LENGTH), dtype=np.uint8)
    for length in np.unique(code_lengths):
        rows = issuer_len == length
        matrix[rows, :length] = issuer_bytes[rows, :length]
        matrix[rows, length] = ord("|")
        matrix[rows, length + 1] = types[rows]
        matrix[rows, length + 2] = ord("|")
        matrix[rows, length + 3 : length + 3 + _NUMBER_LENGTH] = numbers[rows]
    index = LostStolenIndex(hash_encoded_keys(matrix, issuer_len + 3 + _NUMBER_LENGTH))
    built = time.perf_counter()
    picker = random.Random(args.seed)
    probes: list[tuple[str, str, str, bool]] = []
    for i in range(args.lookups):
        row = picker.randrange(count)
        issuer = issuer_of[row].decode()
        number = numbers[row].tobytes().decode()
        listed = i % 2 == 0
        if not listed:
            number = "".join(picker.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(8))
        probes.append((issuer, chr(types[row]), number, listed))
    timings: list[float] = []
    wrong = 0
    for issuer, doc_type, number, listed in probes:
        begin = time.perf_counter()
        found = index.lookup(issuer, doc_type, number)
        timings.append(time.perf_counter() - begin)
        wrong += found != listed
    ms = np.array(timings) * 1000
    return {
        "documents_build_s": round(built - started, 2),
        "documents_index_mb": round(index.nbytes / 2**20, 1),
        "doc_lookups": len(probes),
        "doc_lookup_errors": wrong,
        "doc_lookup_ms_p50": round(float(np.percentile(ms, 50)), 4) if ms.size else None,
        "doc_lookup_ms_p95": round(float(np.percentile(ms, 95)), 4) if ms.size else None,
    }
