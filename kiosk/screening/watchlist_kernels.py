"""The compiled loops of the watchlist search (numba, no Python objects inside).

One pass over the query's blocks: each block entry is priced by its birth date and
nationality (held in the block, read in order), each row met once (a per-thread stamp array
instead of a sort removes duplicates) is bounded from what :func:`letter_counts` keeps of
its tokens, and only a row the bound leaves able to reach the threshold gets the exact
Jaro-Winkler similarities of its tokens (computed here exactly as rapidfuzz computes them:
the same matching, the same float operations in the same order; the tests compare the two)
and its score. Scores are float32 and summed in the order
:func:`kiosk.screening.matching.name_scores` sums them, so a row scores here exactly as the
brute-force scan scores it. The functions release the GIL: searches on several threads run
on several cores."""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def _prefetch_intrinsic(typingctx: Any, array: Any, index: Any) -> Any:
    """Ask the processor to bring ``array[index]`` (C order, one index) into its caches:
    a hint, with no effect on any result. The search asks for the rows' stamps and the
    tokens' words a few candidates ahead, so that their reads overlap (they are read at
    random in arrays too large for the fastest caches)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        pointer = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, signature.args[0], ary, [args[1]]
        )
        i32 = ir.IntType(32)
        byte_pointer = ir.PointerType(ir.IntType(8))
        fnty = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, fnty, "llvm.prefetch.p0"
        )
        # read, keep in all cache levels, data
        builder.call(fn, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


_prefetch: Any = intrinsic(_prefetch_intrinsic)


# agreement codes, as kiosk.screening.matching: 0 exact, 1 partial, 2 mismatch, 3 unknown


@njit(nogil=True, cache=True, inline="always")
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


@njit(nogil=True, cache=True, inline="always")
def _common_prefix(a: np.ndarray, s1: int, n1: int, b: np.ndarray, s2: int, n2: int) -> int:
    """The length of the common prefix, up to 4 (Winkler's)."""
    prefix = 0
    for k in range(min(n1, n2, 4)):
        if a[s1 + k] != b[s2 + k]:
            break
        prefix += 1
    return prefix


@njit(nogil=True, cache=True, inline="always")
def _winkler(common: int, transpositions: int, n1: int, n2: int, prefix: int) -> float:
    """The Jaro-Winkler similarity from the matching's counts (``transpositions`` as
    counted, not yet halved), in rapidfuzz's float operations and order."""
    if common == 0:
        sim = 0.0
    else:
        transpositions //= 2
        sim = 0.0
        sim += common / n1
        sim += common / n2
        sim += (common - transpositions) / common
        sim = sim / 3.0
    if sim > 0.7:
        sim += prefix * 0.1 * (1.0 - sim)
        sim = min(sim, 1.0)
    # rapidfuzz's normalized similarity is one less its normalized distance (one less the
    # similarity), which can differ from the similarity in the last bit
    return 1.0 - (1.0 - sim)


@njit(nogil=True, cache=True)
def _jaro_winkler(
    a: np.ndarray, s1: int, n1: int, b: np.ndarray, s2: int, n2: int, flags: np.ndarray
) -> float:
    """The Jaro-Winkler similarity (prefix weight 0.1) of ``a[s1:s1+n1]`` with
    ``b[s2:s2+n2]``, as rapidfuzz's ``JaroWinkler.normalized_similarity(first, second)``
    with no cutoff. ``flags`` is scratch of at least ``n1 + n2`` bytes."""
    if n1 == 0 or n2 == 0:
        return 1.0 if n1 == n2 else 0.0
    prefix = _common_prefix(a, s1, n1, b, s2, n2)
    if n1 == 1 and n2 == 1:
        return _winkler(1 if a[s1] == b[s2] else 0, 0, 1, 1, prefix)
    bound = max(n1, n2) // 2 - 1
    for k in range(n1 + n2):
        flags[k] = 0
    # each character of the first string takes the first free equal one of the second
    # within the window (characters of the first beyond any window are not read)
    common = 0
    for i in range(min(n1, n2 + bound)):
        c = a[s1 + i]
        for j in range(max(0, i - bound), min(i + bound, n2 - 1) + 1):
            if flags[n1 + j] == 0 and b[s2 + j] == c:
                flags[i] = 1
                flags[n1 + j] = 1
                common += 1
                break
    # the matched characters of both, each in its order, compared pairwise
    j = 0
    transpositions = 0
    for i in range(n1 if common else 0):
        if flags[i]:
            while flags[n1 + j] == 0:
                j += 1
            transpositions += a[s1 + i] != b[s2 + j]
            j += 1
    return _winkler(common, transpositions, n1, n2, prefix)


@njit(nogil=True, cache=True)
def _jaro_winkler_bits(
    a: np.ndarray, s1: int, n1: int, b: np.ndarray, s2: int, n2: int, positions: np.ndarray
) -> float:
    """:func:`_jaro_winkler` for strings of 1 to 63 characters, the second's positions of
    each byte value are the bits of ``positions`` (the same matching, one bit operation per
    character of the first string instead of a scan of its window)."""
    prefix = _common_prefix(a, s1, n1, b, s2, n2)
    if n1 == 1 and n2 == 1:
        return _winkler(1 if a[s1] == b[s2] else 0, 0, 1, 1, prefix)
    bound = max(n1, n2) // 2 - 1
    one = np.uint64(1)
    taken = np.uint64(0)
    first = np.uint64(0)
    common = 0
    for i in range(min(n1, n2 + bound)):
        low = max(0, i - bound)
        high = min(i + bound, n2 - 1)
        if high < low:
            continue
        window = ((one << np.uint64(high + 1)) - one) & ~((one << np.uint64(low)) - one)
        free = positions[a[s1 + i]] & window & ~taken
        if free:
            taken |= free & (~free + one)
            first |= one << np.uint64(i)
            common += 1
    j = 0
    transpositions = 0
    for i in range(n1 if common else 0):
        if first & (one << np.uint64(i)):
            while not taken & (one << np.uint64(j)):
                j += 1
            transpositions += a[s1 + i] != b[s2 + j]
            j += 1
    return _winkler(common, transpositions, n1, n2, prefix)


_FIRST_LETTER = 65  # "A"
_LETTERS = 26
_MASK32 = np.uint64(0xFFFFFFFF)


@njit(nogil=True, cache=True, inline="always")
def _popcount(x: np.uint64) -> int:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(nogil=True, cache=True)
def letter_counts(chars: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """What the similarity bound reads of each token (``chars`` split at ``starts``), two
    words a token: a bit for the first and for the second occurrence of each letter A-Z;
    and the first four bytes (zeros past the end), the number of characters the bits leave
    out (third and later occurrences, anything not A-Z) from bit 32 and the length from bit
    48. Two tokens have at most popcount(a & b) + min(left out) characters in common."""
    n = starts.size - 1
    info = np.zeros((n, 2), dtype=np.uint64)
    seen = np.zeros(_LETTERS, dtype=np.int64)
    for t in range(n):
        seen[:] = 0
        bits = np.uint64(0)
        prefix = np.uint64(0)
        excess = 0
        for k in range(starts[t], starts[t + 1]):
            letter = int(chars[k]) - _FIRST_LETTER
            if 0 <= letter < _LETTERS and seen[letter] < 2:
                bits |= np.uint64(1) << np.uint64(2 * letter + seen[letter])
                seen[letter] += 1
            else:
                excess += 1
            if k - starts[t] < 4:
                prefix |= np.uint64(chars[k]) << np.uint64(8 * (k - starts[t]))
        length = min(starts[t + 1] - starts[t], 0xFFFF)
        info[t, 0] = bits
        info[t, 1] = (
            prefix
            | (np.uint64(min(excess, 0xFFFF)) << np.uint64(32))
            | (np.uint64(length) << np.uint64(48))
        )
    return info


@njit(nogil=True, cache=True, inline="always")
def _upper_bound(bits1: np.uint64, word1: np.uint64, bits2: np.uint64, word2: np.uint64) -> float:
    """A bound, never below it, of the Jaro-Winkler similarity of two tokens, from what
    :func:`letter_counts` keeps of them: the most characters they can have in common, no
    transposition, and their common prefix."""
    n1 = int(word1 >> np.uint64(48))
    n2 = int(word2 >> np.uint64(48))
    if n1 == 0 or n2 == 0:
        return 1.0 if n1 == n2 else 0.0
    excess1 = int((word1 >> np.uint64(32)) & np.uint64(0xFFFF))
    excess2 = int((word2 >> np.uint64(32)) & np.uint64(0xFFFF))
    common = min(_popcount(bits1 & bits2) + min(excess1, excess2), n1, n2)
    if common == 0:
        return 0.0
    prefix = 0
    differ = (word1 ^ word2) & _MASK32
    while prefix < min(n1, n2, 4) and (differ >> np.uint64(8 * prefix)) & np.uint64(0xFF) == 0:
        prefix += 1
    sim = (common / n1 + common / n2 + 1.0) / 3.0
    if sim > 0.7:
        sim += prefix * 0.1 * (1.0 - sim)
    # a margin for the rounding of the exact computation
    return min(sim, 1.0) + 1e-6


@njit(nogil=True, cache=True, inline="always")
def _exact(
    chars: np.ndarray,
    start: int,
    n1: int,
    query: np.ndarray,
    query_starts: np.ndarray,
    positions: np.ndarray,
    sims: np.ndarray,
    u: int,
) -> np.float32:
    """The similarities of one vocabulary token with every query token, into ``sims[:, u]``;
    the best of them."""
    for q in range(query_starts.size - 1):
        qs, n2 = query_starts[q], query_starts[q + 1] - query_starts[q]
        if 0 < n1 < 64 and 0 < n2 < 64:
            sims[q, u] = _jaro_winkler_bits(chars, start, n1, query, qs, n2, positions[q])
        else:
            flags = np.zeros(n1 + n2, dtype=np.uint8)
            sims[q, u] = _jaro_winkler(chars, start, n1, query, qs, n2, flags)
    top = np.float32(sims[0, u])
    for q in range(1, query_starts.size - 1):
        top = max(top, np.float32(sims[q, u]))
    return top


@njit(nogil=True, cache=True, inline="always")
def _name_score(
    local: np.ndarray,
    count: int,
    lengths: np.ndarray,
    sims: np.ndarray,
    best: np.ndarray,
    query_lengths: np.ndarray,
    query_total: np.float32,
    weight: np.float32,
    needed: float,
) -> np.float32:
    """The name score of a row whose tokens are ``local[:count]`` (columns of ``sims``), as
    :func:`kiosk.screening.matching.name_scores` computes it: (forward + backward) / 2,
    forward each query token's best similarity weighted by its length, backward each of the
    row's tokens' best (``best``) weighted by its length. -1 when the backward part alone
    leaves ``needed`` out of reach."""
    backward = np.float32(0)
    for p in range(count):
        backward += best[local[p]] * np.float32(lengths[local[p]])
    if backward / weight < 2 * needed - 1:
        return np.float32(-1)
    forward = np.float32(0)
    for q in range(query_lengths.size):
        top = np.float32(0)
        for p in range(count):
            top = max(top, sims[q, local[p]])
        forward += top * np.float32(query_lengths[q])
    forward /= query_total
    return (forward + backward / weight) / np.float32(2)


@njit(nogil=True, cache=True)
def search(
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
    threshold: float,
    slack: float,
    entry_starts: np.ndarray,
    entry_tokens: np.ndarray,
    width: int,
    chars: np.ndarray,
    starts: np.ndarray,
    token_info: np.ndarray,
    query: np.ndarray,
    query_starts: np.ndarray,
    stamp: np.ndarray,
    token_local: np.ndarray,
    serial: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows of the query's blocks (``codes``) scoring at least ``threshold``: (rows,
    scores, name scores, birth codes, nationality codes), in the order met.

    ``block_years``, ``block_months``, ``block_days`` (0 unknown) and
    ``block_nationalities`` are the rows' values, block by block (years sorted within a
    block, unknown first); with ``by_year`` only the entries of unknown year and those born
    within a year of the traveller are read. ``nationality`` is the query's nationality id,
    -1 when the index has none like it, -2 when the query gives none; ``penalties`` are the
    birth penalties of the four codes and then the nationality penalty. The vocabulary
    (``chars`` split at ``starts``, ``token_info`` from :func:`letter_counts`) is the first
    string of each similarity, the query tokens (``query`` split at ``query_starts``) the
    second, as in :func:`kiosk.screening.matching.token_similarities`. ``stamp`` holds
    ``serial`` where this search has met a row, ``token_local`` holds it in its top byte
    where the search has met a token, above the token's column in the search's tables."""
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
    n_query = query_starts.size - 1
    capacity = min(total * width, token_local.size)
    mark = np.uint32(serial)
    # the query tokens: their lengths, their bound words, each byte value's positions as bits
    query_info = letter_counts(query, query_starts)
    query_lengths = np.empty(n_query, dtype=np.int64)
    positions = np.zeros((n_query, 256), dtype=np.uint64)
    query_total = np.float32(0)
    for q in range(n_query):
        qs, n2 = query_starts[q], query_starts[q + 1] - query_starts[q]
        query_lengths[q] = n2
        query_total += np.float32(n2)
        if n2 < 64:
            for k in range(n2):
                positions[q, query[qs + k]] |= np.uint64(1) << np.uint64(k)
    # per token met (a column each): length, bounds, and exact similarities once computed
    lengths = np.empty(capacity, dtype=np.int64)
    upper = np.empty((n_query, capacity), dtype=np.float32)
    best_upper = np.empty(capacity, dtype=np.float32)
    sims = np.empty((n_query, capacity), dtype=np.float32)
    best = np.empty(capacity, dtype=np.float32)
    known = np.zeros(capacity, dtype=np.uint8)
    local = np.empty(width, dtype=np.int64)
    found = np.empty(total, dtype=np.int32)
    scores = np.empty(total, dtype=np.float32)
    names = np.empty(total, dtype=np.float32)
    birth = np.empty(total, dtype=np.int8)
    nation = np.empty(total, dtype=np.int8)
    n = 0
    n_used = 0
    max_cost = 1.0 - threshold + slack
    limit = np.float32(threshold)
    nationality_penalty = np.float32(penalties[4])
    qy, qm, qd = query_birth // 10000, query_birth // 100 % 100, query_birth % 100
    # first the entries whose birth date and nationality leave them in, each row once, then
    # those rows bounded and scored (their tokens held beside the entries, read in order)
    candidates = np.empty(total, dtype=np.int64)
    costs = np.empty(total, dtype=np.float32)
    n_candidates = 0
    for k in range(codes.size):
        for part in range(2):
            for j in range(spans[k, 2 * part], spans[k, 2 * part + 1]):
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
                cost = np.float32(penalties[b]) + (nationality_penalty if m == 2 else np.float32(0))
                if cost > max_cost:
                    continue
                # the stamp of the row 16 entries ahead
                if j + 16 < spans[k, 2 * part + 1]:
                    _prefetch(stamp, block_rows[j + 16])
                row = block_rows[j]
                if stamp[row] == serial:
                    continue
                stamp[row] = serial
                candidates[n_candidates] = j
                costs[n_candidates] = cost
                birth[n_candidates] = b
                nation[n_candidates] = m
                n_candidates += 1
    # the stamps and words of the tokens of the candidate this many ahead are asked for
    ahead = 6
    info_flat = token_info.reshape(-1)
    for i in range(min(ahead, n_candidates)):
        for e in range(entry_starts[candidates[i]], entry_starts[candidates[i] + 1]):
            _prefetch(token_local, entry_tokens[e])
    for i in range(n_candidates):
        j = candidates[i]
        cost = costs[i]
        if i + ahead < n_candidates:
            later = candidates[i + ahead]
            for e in range(entry_starts[later], entry_starts[later + 1]):
                _prefetch(token_local, entry_tokens[e])
                _prefetch(info_flat, 2 * entry_tokens[e])
        # the row's tokens, each met for the first time given a column and bounds
        count = 0
        weight_sum = 0
        for e in range(entry_starts[j], entry_starts[j + 1]):
            token = entry_tokens[e]
            seen = token_local[token]
            if seen >> np.uint32(24) == mark:
                u = np.int64(seen & np.uint32(0xFFFFFF))
            else:
                u = np.int64(n_used)
                n_used += 1
                token_local[token] = (mark << np.uint32(24)) | np.uint32(u)
                lengths[u] = np.int64(token_info[token, 1] >> np.uint64(48))
                top = np.float32(0)
                for q in range(n_query):
                    bound = np.float32(
                        _upper_bound(
                            token_info[token, 0],
                            token_info[token, 1],
                            query_info[q, 0],
                            query_info[q, 1],
                        )
                    )
                    upper[q, u] = bound
                    top = max(top, bound)
                best_upper[u] = top
            local[count] = u
            weight_sum += lengths[u]
            count += 1
        weight = max(np.float32(weight_sum), np.float32(1))
        needed = threshold + cost - slack
        bound_score = _name_score(
            local, count, lengths, upper, best_upper, query_lengths, query_total,
            weight, needed,
        )  # fmt: skip
        if bound_score - cost < limit - slack:
            continue
        for p in range(count):
            u = local[p]
            if not known[u]:
                known[u] = 1
                token = entry_tokens[entry_starts[j] + p]
                best[u] = _exact(
                    chars, starts[token], lengths[u], query, query_starts, positions,
                    sims, u,
                )  # fmt: skip
        name = _name_score(
            local, count, lengths, sims, best, query_lengths, query_total, weight,
            needed,
        )  # fmt: skip
        if name - cost >= limit:
            found[n] = block_rows[j]
            scores[n] = name - cost
            names[n] = name
            birth[n] = birth[i]
            nation[n] = nation[i]
            n += 1
    return found[:n], scores[:n], names[:n], birth[:n], nation[:n]


@njit(nogil=True, cache=True)
def entry_tokens(rows: np.ndarray, entry_rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The tokens of each block entry's row (a row of ``rows``, padded with -1), end to
    end, with where each entry's begin written into ``starts`` (one more than the entries):
    a search reads a row's tokens beside its entry, in order, not at the row's place."""
    starts[0] = 0
    for i in range(entry_rows.size):
        count = 0
        for p in range(rows.shape[1]):
            if rows[entry_rows[i], p] < 0:
                break
            count += 1
        starts[i + 1] = starts[i] + count
    tokens = np.empty(starts[entry_rows.size], dtype=np.int32)
    for i in range(entry_rows.size):
        tokens[starts[i] : starts[i + 1]] = rows[entry_rows[i], : starts[i + 1] - starts[i]]
    return tokens
