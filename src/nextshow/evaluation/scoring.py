"""Every reported metric of many users' top-k lists at once, on arrays (no per-user Python).

Input: ``top``, one row per user of show indices best first, padded with -1 where a list is
shorter than k (what ``Recommender.top_n_batch`` returns), and ``relevant``, a CSR matrix with
one row per user holding that user's held-out shows. The definitions are the per-user functions
of :mod:`.metrics` and :mod:`.beyond` (kept as the readable reference and tested equal to this);
here each becomes a few whole-array operations, so scoring 300,000 users takes well under a
second instead of a Python call per user and metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from nextshow.evaluation.beyond import PERSONALIZATION_PAIRS, long_tail, popularity_percentile
from nextshow.evaluation.metrics import metric_key
from nextshow.recommenders.base import SEED, make_rng

PAD = -1  # an empty slot of a list shorter than k


def as_top_array(recommendations: Sequence[Sequence[int]] | np.ndarray, k: int) -> np.ndarray:
    """(users x k) int64 array of the first k shows of each list, padded with ``PAD``."""
    if isinstance(recommendations, np.ndarray) and recommendations.ndim == 2:
        top = recommendations[:, :k].astype(np.int64, copy=False)
    else:
        top = np.full((len(recommendations), k), PAD, dtype=np.int64)
        for i, rec in enumerate(recommendations):
            row = np.asarray(rec, dtype=np.int64)[:k]
            top[i, : len(row)] = row
    if top.shape[1] < k:
        pad = np.full((top.shape[0], k - top.shape[1]), PAD, dtype=np.int64)
        top = np.hstack([top, pad])
    return top


def as_relevant_csr(
    relevant: Sequence[Sequence[int]] | sp.csr_matrix, n_shows: int
) -> sp.csr_matrix:
    """One CSR row per user of held-out shows (sorted, duplicates merged)."""
    if sp.issparse(relevant):
        matrix = sp.csr_matrix(relevant, copy=True)
    else:
        lengths = np.fromiter((len(r) for r in relevant), dtype=np.int64, count=len(relevant))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        parts = [np.asarray(r, dtype=np.int64) for r in relevant]
        indices = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        width = max(n_shows, int(indices.max()) + 1 if len(indices) else 0)
        matrix = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(len(relevant), width)
        )
    matrix.sum_duplicates()  # sorts each row's indices too: hits are found by binary search
    return matrix


def hit_matrix(top: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean (users x k): is that slot's show among the user's held-out shows?"""
    width = max(relevant.shape[1], int(top.max(initial=0)) + 1) + 1
    owners = np.repeat(np.arange(relevant.shape[0], dtype=np.int64), np.diff(relevant.indptr))
    keys = owners * width + relevant.indices  # sorted: rows in order, indices sorted per row
    wanted = np.arange(top.shape[0], dtype=np.int64)[:, None] * width + top
    found = np.searchsorted(keys, wanted)
    hits = np.zeros(top.shape, dtype=bool)
    inside = found < len(keys)
    hits[inside] = keys[found[inside]] == wanted[inside]
    return hits & (top != PAD)


def _dcg(hits: np.ndarray, k: int) -> np.ndarray:
    """Per user, the sum of 1/log2(rank + 1) over hit ranks, added rank by rank (as the
    per-user definition adds them, so the same floats come out)."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    total = np.zeros(hits.shape[0])
    for rank in range(hits.shape[1]):
        total += np.where(hits[:, rank], discounts[rank], 0.0)
    return total


def _ndcg(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k of users with at least one held-out show (``n_relevant`` > 0)."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.array([discounts[:j].sum() for j in range(1, k + 1)])  # same sums as per user
    return _dcg(hits, k) / ideal[np.minimum(k, n_relevant) - 1]


def accuracy(top: np.ndarray, relevant: sp.csr_matrix, k: int, n_shows: int) -> dict[str, float]:
    """``metrics.score_users`` on arrays: precision, recall, NDCG, hit rate, coverage, users."""
    if top.shape[0] != relevant.shape[0]:
        raise ValueError("one list of recommendations per user is needed")
    if n_shows < 1:
        raise ValueError(f"n_shows must be >= 1, got {n_shows}")
    n_relevant = np.diff(relevant.indptr).astype(np.int64)
    scored = n_relevant > 0
    hits = hit_matrix(top, relevant)[scored]
    n_hits = hits.sum(axis=1)
    per_user = {
        "precision": n_hits / k,
        "recall": n_hits / n_relevant[scored],
        "ndcg": _ndcg(hits, n_relevant[scored], k),
        "hit": np.where(n_hits > 0, 1.0, 0.0),
    }
    result = {
        metric_key(name, k): float(np.mean(values)) if len(values) else 0.0
        for name, values in per_user.items()
    }
    shown = top[top != PAD]
    result[metric_key("coverage", k)] = len(np.unique(shown)) / n_shows
    result["users"] = float(scored.sum())
    result["users_dropped"] = float(len(scored) - scored.sum())
    return result


def _novelty(top: np.ndarray, popularity: np.ndarray) -> float:
    shown = top[top != PAD]  # row by row: the order the per-user definition averages in
    if not len(shown):
        return 0.0
    return float(1.0 - popularity_percentile(popularity)[shown].mean())


def _personalization(top: np.ndarray, k: int, seed: int, pairs: int) -> float:
    n = top.shape[0]
    if n < 2:
        return 0.0
    rng = make_rng(seed)
    first = rng.integers(0, n, size=pairs)
    second = (first + rng.integers(1, n, size=pairs)) % n  # never the same user twice
    # Sets, as the definition compares them: a show twice in one list counts once.
    a = np.sort(top[first], axis=1)
    a[:, 1:][a[:, 1:] == a[:, :-1]] = PAD
    b = top[second]
    common = ((a[:, :, None] == b[:, None, :]).any(axis=2) & (a != PAD)).sum(axis=1)
    return float(1.0 - np.mean(common / k))


def _longtail_ndcg(
    top: np.ndarray, relevant: sp.csr_matrix, hits: np.ndarray, tail: np.ndarray, k: int
) -> float:
    in_tail = np.zeros(len(relevant.indices), dtype=bool)
    known = relevant.indices < len(tail)
    in_tail[known] = tail[relevant.indices[known]]
    owners = np.repeat(np.arange(relevant.shape[0]), np.diff(relevant.indptr))
    n_tail = np.bincount(owners[in_tail], minlength=relevant.shape[0])
    shown_tail = np.zeros(top.shape, dtype=bool)
    valid = (top != PAD) & (top < len(tail))
    shown_tail[valid] = tail[top[valid]]
    kept = n_tail > 0
    if not kept.any():
        return 0.0
    return float(np.mean(_ndcg((hits & shown_tail)[kept], n_tail[kept], k)))


def beyond(
    top: np.ndarray,
    relevant: sp.csr_matrix,
    popularity: np.ndarray,
    k: int,
    seed: int = SEED,
    *,
    pairs: int = PERSONALIZATION_PAIRS,
) -> dict[str, float]:
    """``beyond.beyond_accuracy`` on arrays: novelty, personalization, long-tail NDCG."""
    if top.shape[0] != relevant.shape[0]:
        raise ValueError("one list of recommendations per user is needed")
    hits = hit_matrix(top, relevant)
    return {
        metric_key("novelty", k): _novelty(top, popularity),
        metric_key("personalization", k): _personalization(top, k, seed, pairs),
        metric_key("longtail_ndcg", k): _longtail_ndcg(
            top, relevant, hits, long_tail(popularity), k
        ),
    }
