"""Choosing shows from scores: top n with deterministic ties, the liked shows behind each pick.

Pure numpy helpers of :class:`~nextshow.recommenders.base.Recommender` (which every model uses
through it), kept apart so the interface module stays about the interface.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

MAX_BECAUSE = 3


def liked_rows(liked_lists: Sequence[Sequence[int] | np.ndarray], n_shows: int) -> sp.csr_matrix:
    """Indicator matrix (len(liked_lists) x n_shows) of anonymous users' liked shows."""
    indptr = np.zeros(len(liked_lists) + 1, dtype=np.int64)
    cols = [np.unique(np.asarray(row, dtype=np.int64)) for row in liked_lists]
    indptr[1:] = np.cumsum([len(c) for c in cols])
    indices = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    data = np.ones(len(indices), dtype=np.float64)
    return sp.csr_matrix((data, indices, indptr), shape=(len(liked_lists), n_shows))


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest finite scores, highest first, ties by the lower index.

    argpartition finds the n-th best value in O(n_shows); only entries at least that good are
    sorted, so a long run of tied scores (all zeros, say) still resolves by index.
    """
    allowed = np.flatnonzero(np.isfinite(scores))
    if len(allowed) == 0:
        return allowed
    vals = scores[allowed]
    if len(allowed) > n:
        kth = -np.partition(-vals, n - 1)[n - 1]
        keep = vals >= kth
        allowed, vals = allowed[keep], vals[keep]
    order = np.lexsort((allowed, -vals))[:n]
    return allowed[order]


def top_contributors(
    contrib: np.ndarray, liked: np.ndarray, k: int = MAX_BECAUSE
) -> list[tuple[int, ...]]:
    """For each column of ``contrib`` (len(liked) x n_candidates), the liked shows with the largest
    positive contribution, at most ``k``, largest first, ties by the lower show index."""
    out: list[tuple[int, ...]] = []
    for col in contrib.T:
        pos = np.flatnonzero(col > 0)
        order = pos[np.lexsort((liked[pos], -col[pos]))][:k]
        out.append(tuple(int(liked[i]) for i in order))
    return out
