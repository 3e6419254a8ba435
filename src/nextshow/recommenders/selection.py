"""Choosing shows from scores: top n with deterministic ties, the liked shows behind each pick.

Pure numpy helpers of :class:`~nextshow.recommenders.base.Recommender` (which every model uses
through it), kept apart so the interface module stays about the interface.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

MAX_BECAUSE = 3
SCORE_BLOCK = 1 << 21  # dense scores per block of top_n_batch (16 MB of float64)
FEW_ROWS = 64  # rows stored_entries reads from the CSR arrays itself


def liked_rows(liked_lists: Sequence[Sequence[int] | np.ndarray], n_shows: int) -> sp.csr_matrix:
    """Indicator matrix (len(liked_lists) x n_shows) of anonymous users' liked shows."""
    indptr = np.zeros(len(liked_lists) + 1, dtype=np.int64)
    cols = [np.unique(np.asarray(row, dtype=np.int64)) for row in liked_lists]
    indptr[1:] = np.cumsum([len(c) for c in cols])
    indices = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    data = np.ones(len(indices), dtype=np.float64)
    return sp.csr_matrix((data, indices, indptr), shape=(len(liked_lists), n_shows))


def stored_cells(rows: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) of every nonzero entry of a CSR matrix, in the order ``nonzero()`` gives
    them, without its COO copy (a tenth of a millisecond on a one-row request)."""
    keep = rows.data != 0
    owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    return owner[keep], rows.indices[keep].astype(np.int64)


def csr_arrays(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A CSR matrix's indptr, indices and data as they are (never a copy: a model's matrices are
    read on every request), for the compiled loops of :mod:`.kernels`."""
    return matrix.indptr, matrix.indices, matrix.data


def stored_entries(
    matrix: sp.csr_matrix, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every stored entry of ``matrix[rows]`` in order, as (position in ``rows``, column,
    value). A few rows (a request's liked shows) are read from the CSR arrays: scipy's row
    selection costs more in overhead than in work there. Many (a training block's) go through
    scipy, which gathers them without the index arrays this needs per entry."""
    if len(rows) > FEW_ROWS:
        picked = matrix[rows]
        which = np.repeat(np.arange(len(rows)), np.diff(picked.indptr))
        return which, picked.indices, picked.data
    start = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - start
    which = np.repeat(np.arange(len(rows)), lengths)
    at = np.arange(int(lengths.sum())) + np.repeat(start - (np.cumsum(lengths) - lengths), lengths)
    return which, matrix.indices[at], matrix.data[at]


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
    positive contribution, at most ``k``, largest first, ties by the lower show index.

    Every column in one sort (``lexsort`` along each row of the transposed block): a loop of a
    sort per column cost ~5 us a recommended show."""
    liked = np.asarray(liked)
    contrib = np.asarray(contrib)
    if contrib.size == 0:
        return [() for _ in range(contrib.shape[1] if contrib.ndim == 2 else 0)]
    by_column = contrib.T  # candidates x liked
    order = np.lexsort((np.broadcast_to(liked, by_column.shape), -by_column), axis=-1)[:, :k]
    positive = np.take_along_axis(by_column, order, axis=-1) > 0
    names = liked[order].tolist()
    return [
        tuple(name for name, keep in zip(row, mask, strict=True) if keep)
        for row, mask in zip(names, positive.tolist(), strict=True)
    ]


def top_n_rows(scores: np.ndarray, n: int, *, overwrite: bool = False) -> np.ndarray:
    """``top_n`` of every row of ``scores`` at once: (rows x n) int64 show indices, highest first,
    ties by the lower index, -1 past a row's last finite score. ``overwrite``: ``scores`` may be
    used as scratch space (one block-sized copy less).

    One ``argpartition`` over the block finds each row's n best; when a row's n-th best value is
    tied with more shows than fit, that row alone is sorted stably, so ties resolve exactly as
    ``top_n`` resolves them.
    """
    n_rows, n_cols = scores.shape
    worst = np.negative(scores, out=scores if overwrite else None)  # ascending: best first
    worst[worst == -np.inf] = np.inf  # +inf scores are not finite: never chosen (as top_n)
    if n_cols == 0 or n_rows == 0:
        return np.full((n_rows, n), -1, dtype=np.int64)
    if n >= n_cols:
        top = np.argsort(worst, axis=1, kind="stable")
    else:
        top = np.argpartition(worst, n - 1, axis=1)[:, :n]
        values = np.take_along_axis(worst, top, axis=1)
        top = np.take_along_axis(top, np.lexsort((top, values), axis=1), axis=1)
        tied = np.flatnonzero((worst <= values.max(axis=1)[:, None]).sum(axis=1) > n)
        if len(tied):
            top[tied] = np.argsort(worst[tied], axis=1, kind="stable")[:, :n]
    top = top.astype(np.int64)
    top[np.isinf(np.take_along_axis(worst, top, axis=1))] = -1
    if top.shape[1] < n:
        top = np.hstack([top, np.full((n_rows, n - top.shape[1]), -1, dtype=np.int64)])
    return top


def indicator_rows(rows: sp.csr_matrix) -> sp.csr_matrix:
    """A float64 1.0-per-entry copy of a CSR matrix's sparsity (sorted, no duplicates): what
    ``_scores_batch`` expects, built from a slice of a likes matrix without any per-row work."""
    out = sp.csr_matrix(
        (np.ones(rows.nnz, dtype=np.float64), rows.indices.copy(), rows.indptr.copy()),
        shape=rows.shape,
    )
    out.sum_duplicates()
    out.data[:] = 1.0
    return out
