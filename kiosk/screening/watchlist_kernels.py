"""The compiled loops of the watchlist search (numba, no Python objects inside).

A search gathers the rows of the query's blocks once (a per-thread stamp array instead of
a sort removes duplicates), prices each row's birth date and nationality, keeps the rows
that can still reach the threshold, and lists the distinct tokens of those rows; rapidfuzz
then gives the query tokens' Jaro-Winkler similarities with those tokens, and the second
loop bounds and scores the rows. Scores are float32 and summed in the order
:func:`kiosk.screening.matching.name_scores` sums them, so a row scores here exactly as the
brute-force scan scores it. The functions release the GIL: searches on several threads run
on several cores."""

from __future__ import annotations

import numpy as np
from numba import njit

# agreement codes, as kiosk.screening.matching: 0 exact, 1 partial, 2 mismatch, 3 unknown


@njit(nogil=True, cache=True)
def _birth_code(qy: int, qm: int, qd: int, ly: int, lm: int, ld: int) -> int:
    """The agreement of the traveller's birth date (``qy``, ``qm``, ``qd``, 0 unknown) with
    a listed one, as :func:`kiosk.screening.matching.birth_agreement`."""
    if qy == 0 or ly == 0:
        return 3
    month_ok = lm == 0 or qm == 0 or lm == qm
    day_ok = ld == 0 or qd == 0 or ld == qd
    if ly == qy and month_ok and day_ok:
        return 0
    swapped = ly == qy and lm == qd and ld == qm and lm != 0 and qm != 0
    year_off = abs(ly - qy) == 1 and month_ok and day_ok
    if swapped or year_off or (ly == qy and (month_ok or day_ok)):
        return 1
    return 2


@njit(nogil=True, cache=True)
def gather(
    codes: np.ndarray,
    by_year: bool,
    year: int,
    block_starts: np.ndarray,
    block_rows: np.ndarray,
    block_years: np.ndarray,
    block_months: np.ndarray,
    block_days: np.ndarray,
    block_nationalities: np.ndarray,
    query_birth: int,
    nationality: int,
    penalties: np.ndarray,
    max_cost: float,
    rows: np.ndarray,
    stamp: np.ndarray,
    token_stamp: np.ndarray,
    token_local: np.ndarray,
    serial: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The candidate rows of one query that its birth date and nationality leave able to
    reach the threshold: (rows, cost, birth codes, nationality codes, used tokens).
    ``block_years``, ``block_months``, ``block_days`` (0 unknown) and
    ``block_nationalities`` are the rows' values, block by block.

    ``nationality`` is the query's nationality id, -1 when the index has none like it, -2
    when the query gives none; ``penalties`` are the birth penalties of the four codes and
    then the nationality penalty. ``token_local`` maps each used token to its position in
    the used tokens (valid where ``token_stamp`` holds ``serial``)."""
    # each block's entries to read: all of them, or (years sorted within a block, unknown
    # first) those of unknown year and those born within a year of the traveller
    spans = np.empty((codes.size, 4), dtype=np.int64)
    total = 0
    for k in range(codes.size):
        start, end = block_starts[codes[k]], block_starts[codes[k] + 1]
        if by_year:
            years = block_years[start:end]
            unknown = start + np.searchsorted(years, 1)
            low = start + np.searchsorted(years, year - 1)
            high = start + np.searchsorted(years, year + 2)
            low = max(low, unknown)
            spans[k, 0], spans[k, 1], spans[k, 2], spans[k, 3] = start, unknown, low, high
        else:
            spans[k, 0], spans[k, 1], spans[k, 2], spans[k, 3] = start, end, end, end
        total += spans[k, 1] - spans[k, 0] + max(spans[k, 3] - spans[k, 2], 0)
    found = np.empty(total, dtype=np.int32)
    cost = np.empty(total, dtype=np.float32)
    birth = np.empty(total, dtype=np.int8)
    nation = np.empty(total, dtype=np.int8)
    width = rows.shape[1]
    used = np.empty(min(total * width, token_stamp.size), dtype=np.int32)
    n = 0
    n_used = 0
    nationality_penalty = np.float32(penalties[4])
    qy, qm, qd = query_birth // 10000, query_birth // 100 % 100, query_birth % 100
    for k in range(codes.size):
        for part in range(2):
            for j in range(spans[k, 2 * part], spans[k, 2 * part + 1]):
                # the birth date and nationality of the block's rows are held in the block
                # (read in order): a row priced out is never looked up
                b = _birth_code(qy, qm, qd, block_years[j], block_months[j], block_days[j])
                listed = block_nationalities[j]
                if nationality == -2:
                    m = 3
                elif listed == nationality:
                    m = 0
                elif listed != 0:
                    m = 2
                else:
                    m = 3
                price = np.float32(penalties[b]) + (
                    nationality_penalty if m == 2 else np.float32(0)
                )
                if price > max_cost:
                    continue
                row = block_rows[j]
                if stamp[row] == serial:
                    continue
                stamp[row] = serial
                found[n] = row
                cost[n] = price
                birth[n] = b
                nation[n] = m
                n += 1
                for p in range(width):
                    token = rows[row, p]
                    if token < 0:
                        break
                    if token_stamp[token] != serial:
                        token_stamp[token] = serial
                        token_local[token] = n_used
                        used[n_used] = token
                        n_used += 1
    return found[:n], cost[:n], birth[:n], nation[:n], used[:n_used]


@njit(nogil=True, cache=True)
def score(
    found: np.ndarray,
    cost: np.ndarray,
    rows: np.ndarray,
    token_local: np.ndarray,
    token_lengths: np.ndarray,
    row_weights: np.ndarray,
    sims: np.ndarray,
    query_lengths: np.ndarray,
    threshold: float,
    slack: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The positions into ``found`` of the rows scoring at least ``threshold``, their
    scores (name score less cost) and name scores. ``sims`` has a row per query token and
    a column per used token (in ``token_local`` order). A row whose backward part (each of
    its tokens' best similarity, weighted by length) leaves the threshold out of reach is
    not scored further."""
    n_query, n_used = sims.shape[0], sims.shape[1] - 1
    best = np.zeros(n_used, dtype=np.float32)
    for u in range(n_used):
        top = sims[0, u]
        for q in range(1, n_query):
            top = max(top, sims[q, u])
        best[u] = top
    query_total = np.float32(0)
    for q in range(n_query):
        query_total += np.float32(query_lengths[q])
    limit = np.float32(threshold)
    width = rows.shape[1]
    keep = np.empty(found.size, dtype=np.int32)
    scores = np.empty(found.size, dtype=np.float32)
    names = np.empty(found.size, dtype=np.float32)
    kept = 0
    for i in range(found.size):
        row = found[i]
        backward = np.float32(0)
        for p in range(width):
            token = rows[row, p]
            if token < 0:
                break
            backward += best[token_local[token]] * np.float32(token_lengths[token])
        weight = max(row_weights[row], np.float32(1))
        if backward / weight < 2 * (threshold + cost[i]) - 1 - slack:
            continue
        forward = np.float32(0)
        for q in range(n_query):
            top = np.float32(0)
            for p in range(width):
                token = rows[row, p]
                if token < 0:
                    break
                top = max(top, sims[q, token_local[token]])
            forward += top * np.float32(query_lengths[q])
        forward /= query_total
        name = (forward + backward / weight) / np.float32(2)
        total = name - cost[i]
        if total >= limit:
            keep[kept] = i
            scores[kept] = total
            names[kept] = name
            kept += 1
    return keep[:kept], scores[:kept], names[:kept]
