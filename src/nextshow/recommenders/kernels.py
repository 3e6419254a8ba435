"""Compiled loops of the learned re-ranker's scoring: the walk, the candidates, the pair
features, the trees, the head order and the interleaving of picks.

They run on every served request (about 80 candidates x 100 trees) and over every training
pair (about 10^5 people). As numpy array programs they took ~150 numpy calls a request, most of
the ranker's 1 ms; as loops compiled by numba they take a few microseconds of overhead. Every sum
runs in the order numpy's and scipy's did (liked shows in index order, trees in their saved
order), so the numbers are the same bit for bit, whatever batch a row comes in.

Compiled on first use and cached beside this file (``cache=True``): a process that finds the
cache loads it in ~0.1 s instead of compiling for a few seconds. Only the ranker imports this
module (lazily): numba and LLVM cost a process ~100 MB, which the other models need not pay.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def forest_decision(
    left: np.ndarray,
    right: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    missing_left: np.ndarray,
    value: np.ndarray,
    roots: np.ndarray,
    baseline: float,
    X: np.ndarray,
) -> np.ndarray:
    """Baseline plus each tree's leaf value (trees in saved order) for every row of ``X``.

    A row goes left when its feature is ``<=`` the node's threshold; a NaN goes to the side the
    tree learned for missing values (``missing_left``). Leaves have ``left`` -1.
    """
    out = np.empty(X.shape[0])
    for row in range(X.shape[0]):
        total = baseline
        for tree in range(len(roots)):
            node = roots[tree]
            while left[node] >= 0:
                x = X[row, feature[node]]
                go_left = missing_left[node] if np.isnan(x) else x <= threshold[node]
                node = left[node] if go_left else right[node]
            total += value[node]
        out[row] = total
    return out


@njit(cache=True, nogil=True)
def pair_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    cand_ptr: np.ndarray,
    cand: np.ndarray,
    walk_score: np.ndarray,
    cos_indptr: np.ndarray,
    cos_indices: np.ndarray,
    cos_data: np.ndarray,
    shows: np.ndarray,
    genre_indptr: np.ndarray,
    genre_indices: np.ndarray,
    genre_data: np.ndarray,
    n_genres: int,
    log_n_liked: np.ndarray,
) -> np.ndarray:
    """One row of :data:`ranker_features.FEATURES` per (person, candidate): the candidate's show
    features, then the pair columns; see :func:`ranker_features.pair_features`.

    ``indptr/indices/data``: the people's liked shows (CSR); ``cand_ptr/cand``: each person's
    candidates (``cand[cand_ptr[i]:cand_ptr[i + 1]]``); ``walk_score``: the walk score of every
    pair; ``cos_*`` and ``genre_*``: the shows x shows cosine and the shows x genres indicator;
    ``log_n_liked``: log(1 + liked shows) per person, from numpy (numba's log1p may differ from
    numpy's in the last bit, and the trees' thresholds would follow it).
    """
    n_shows, s = shows.shape
    out = np.empty((len(cand), s + 11))
    cos_sum = np.zeros(n_shows)
    cos_max = np.zeros(n_shows)
    liked_genre = np.zeros(max(n_genres, 1))
    for person in range(len(indptr) - 1):
        lo, hi = cand_ptr[person], cand_ptr[person + 1]
        if lo == hi:
            continue
        first, last = indptr[person], indptr[person + 1]
        # Means over the liked shows (NaN ignored, NaN when none is known), as rows @ values.
        pop_total, pop_count = 0.0, 0.0
        recent_total, recent_count = 0.0, 0.0
        age_total, age_count = 0.0, 0.0
        for at in range(first, last):
            show, weight = indices[at], data[at]
            if np.isfinite(shows[show, 0]):
                pop_total += weight * shows[show, 0]
                pop_count += weight
            if np.isfinite(shows[show, 3]):
                recent_total += weight * shows[show, 3]
                recent_count += weight
            if np.isfinite(shows[show, 7]):
                age_total += weight * shows[show, 7]
                age_count += weight
            # Every liked show's cosine row, summed (liked show by liked show) and its largest.
            for entry in range(cos_indptr[show], cos_indptr[show + 1]):
                other = cos_indices[entry]
                cos_sum[other] += weight * cos_data[entry]
                if cos_data[entry] > cos_max[other]:
                    cos_max[other] = cos_data[entry]
            for entry in range(genre_indptr[show], genre_indptr[show + 1]):
                if weight * genre_data[entry] > 0:
                    liked_genre[genre_indices[entry]] = 1.0
        liked_pop = pop_total / pop_count if pop_count > 0 else np.nan
        liked_recent = recent_total / recent_count if recent_count > 0 else np.nan
        liked_age = age_total / age_count if age_count > 0 else np.nan
        best = 0.0
        for at in range(lo, hi):
            best = max(best, walk_score[at])
        # Rank by walk score among the person's candidates, best first, ties by the lower show.
        by_show = lo + np.argsort(cand[lo:hi], kind="mergesort")
        by_score = by_show[np.argsort(-walk_score[by_show], kind="mergesort")]
        for place in range(hi - lo):
            out[by_score[place], s + 2] = place / (hi - lo)
        for at in range(lo, hi):
            show, score = cand[at], walk_score[at]
            for column in range(s):
                out[at, column] = shows[show, column]
            out[at, s + 0] = score
            out[at, s + 1] = score / best if best > 0 else 0.0
            out[at, s + 3] = cos_sum[show]
            out[at, s + 4] = cos_max[show]
            if n_genres:
                hits, count = 0.0, 0.0
                for entry in range(genre_indptr[show], genre_indptr[show + 1]):
                    hits += genre_data[entry] * liked_genre[genre_indices[entry]]
                    count += genre_data[entry]
                out[at, s + 5] = hits / count if count > 0 else np.nan
            else:
                out[at, s + 5] = np.nan
            out[at, s + 6] = shows[show, 0] - liked_pop
            out[at, s + 7] = shows[show, 7] - liked_age
            out[at, s + 8] = log_n_liked[person]
            out[at, s + 9] = liked_pop
            out[at, s + 10] = liked_recent
        # Clear what this person left, for the next one (only the entries it touched).
        for at in range(first, last):
            show = indices[at]
            for entry in range(cos_indptr[show], cos_indptr[show + 1]):
                cos_sum[cos_indices[entry]] = 0.0
                cos_max[cos_indices[entry]] = 0.0
            for entry in range(genre_indptr[show], genre_indptr[show + 1]):
                liked_genre[genre_indices[entry]] = 0.0
    return out


@njit(cache=True, nogil=True)
def interleaved_places(
    order: np.ndarray, picks: np.ndarray, period: int, guard: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each show's place in one interleaved list and whether it is a pick slot; see
    :func:`discovery.interleave_ordered`."""
    n = len(order)
    place = np.empty(n, dtype=np.int64)
    head_rank = np.empty(n, dtype=np.int64)
    for rank in range(n):
        head_rank[order[rank]] = rank
        place[order[rank]] = rank + rank // (period - 1)
    count = 0
    for show in range(n):
        if picks[show] > 0 and head_rank[show] >= guard:
            count += 1
    ranked = np.empty(count, dtype=np.int64)
    count = 0
    for show in range(n):
        if picks[show] > 0 and head_rank[show] >= guard:
            ranked[count] = show
            count += 1
    ranked = ranked[np.argsort(-picks[ranked], kind="mergesort")]
    is_pick = np.zeros(n, dtype=np.bool_)
    for q in range(len(ranked)):
        show = ranked[q]
        pick_place = (q + 1) * period - 1
        if np.isfinite(picks[show]) and pick_place < place[show]:
            is_pick[show] = True
            place[show] = pick_place
    return place, is_pick


@njit(cache=True, nogil=True)
def head_order(
    cand: np.ndarray, proba: np.ndarray, liked: np.ndarray, by_popularity: np.ndarray
) -> np.ndarray:
    """Every show in one person's head order: ``cand`` by ``proba`` (best first, ties by the
    lower position), then ``by_popularity`` without the candidates and the liked shows, then
    ``liked``."""
    n = len(by_popularity)
    drop = np.zeros(n, dtype=np.bool_)
    out = np.empty(n, dtype=np.int64)
    best = np.argsort(-(2.0 + proba), kind="mergesort")
    for at in range(len(cand)):
        drop[cand[at]] = True
        out[at] = cand[best[at]]
    for show in liked:
        drop[show] = True
    at = len(cand)
    for show in by_popularity:
        if not drop[show]:
            out[at] = show
            at += 1
    for show in liked:
        out[at] = show
        at += 1
    return out


@njit(cache=True, nogil=True)
def ranker_candidates(
    walk: np.ndarray,
    popular: np.ndarray,
    n: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each person's candidates, sorted: the first ``n`` shows of ``popular`` they have not
    liked, and their ``n`` best unliked shows by ``walk`` (only shows the walk reaches, ties by
    the lower show). People's liked shows are the stored nonzero entries of the CSR arrays.
    Returns (cand_ptr, cand) as :func:`pair_rows` takes them."""
    n_people, n_shows = walk.shape
    liked = np.zeros(n_shows, dtype=np.bool_)
    chosen = np.zeros(n_shows, dtype=np.bool_)
    cand_ptr = np.zeros(n_people + 1, dtype=np.int64)
    cand = np.empty(n_people * min(2 * n, n_shows), dtype=np.int64)
    reached = np.empty(n_shows, dtype=np.int64)
    values = np.empty(n_shows)
    total = 0
    for person in range(n_people):
        for at in range(indptr[person], indptr[person + 1]):
            if data[at] != 0:
                liked[indices[at]] = True
        taken = 0
        for show in popular:
            if taken == n:
                break
            if not liked[show]:
                chosen[show] = True
                taken += 1
        m = 0
        for show in range(n_shows):
            if walk[person, show] > 0 and not liked[show]:
                reached[m] = show
                values[m] = walk[person, show]
                m += 1
        if m <= n:
            for i in range(m):
                chosen[reached[i]] = True
        else:
            # The n-th best value; every better show, then the lowest shows at that value.
            kth = np.partition(values[:m], m - n)[m - n]
            room = n
            for i in range(m):
                if values[i] > kth:
                    chosen[reached[i]] = True
                    room -= 1
            for i in range(m):
                if room == 0:
                    break
                if values[i] == kth:
                    chosen[reached[i]] = True
                    room -= 1
        for show in range(n_shows):
            if chosen[show]:
                cand[total] = show
                total += 1
                chosen[show] = False
        cand_ptr[person + 1] = total
        for at in range(indptr[person], indptr[person + 1]):
            liked[indices[at]] = False
    return cand_ptr, cand[:total]


@njit(cache=True, nogil=True)
def csr_product_dense(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    s_indptr: np.ndarray,
    s_indices: np.ndarray,
    s_data: np.ndarray,
    n_columns: int,
) -> np.ndarray:
    """``rows @ S`` dense, both CSR: each output row summed from that row's stored entries in
    order, each with S's row in stored order, as scipy's product sums them."""
    out = np.zeros((len(indptr) - 1, n_columns))
    for row in range(len(indptr) - 1):
        for at in range(indptr[row], indptr[row + 1]):
            weight, show = data[at], indices[at]
            for entry in range(s_indptr[show], s_indptr[show + 1]):
                out[row, s_indices[entry]] += weight * s_data[entry]
    return out
