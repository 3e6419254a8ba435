"""Similarity, weighting and popularity maths as pure functions (no state, tested on their own).

Input orientation: ``X`` is users x shows (CSR, non-negative weights, usually 1.0 per like);
``T`` is a CSR of the same sparsity with unix times in seconds. Show-show matrices are
shows x shows with row ``i`` = "from liked show i", so a user's scores are ``liked_row @ S``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from nextshow.recommenders.selection import stored_cells

DAY = 86_400.0


# ---------------------------------------------------------------- popularity and time
def like_counts(X: sp.csr_matrix) -> np.ndarray:
    """Sum of each show's column: the number of likes when X is binary (float64, length shows)."""
    return np.asarray(X.sum(axis=0), dtype=np.float64).ravel()


def newest_time(T: sp.csr_matrix | None) -> float:
    """The reference "now" of a training set: its newest like (0.0 when there is none)."""
    return float(T.data.max()) if T is not None and T.nnz else 0.0


def decay_weights(times: np.ndarray, now: float, half_life_days: float) -> np.ndarray:
    """``0.5 ** (age / half_life)``: 1.0 for a like at ``now``, 0.5 one half-life earlier.

    Ages are clipped at zero so a like stamped after ``now`` counts as new, never above 1.
    """
    age = np.maximum(now - np.asarray(times, dtype=np.float64), 0.0)
    return np.power(0.5, age / (half_life_days * DAY))


def window_weights(times: np.ndarray, now: float, window_days: float) -> np.ndarray:
    """1.0 for likes at most ``window_days`` before ``now``, else 0.0."""
    return (np.asarray(times, dtype=np.float64) >= now - window_days * DAY).astype(np.float64)


def reweighted(X: sp.csr_matrix, weights: np.ndarray) -> sp.csr_matrix:
    """X with its stored values multiplied entry by entry (same sparsity as X and T)."""
    out = X.copy()
    out.data = out.data * weights
    return out


# ---------------------------------------------------------------- show-show similarity
def cosine_similarity(X: sp.csr_matrix, shrink: float = 0.0) -> sp.csr_matrix:
    """Cosine between show columns, ``x_i.x_j / (|x_i| |x_j| + shrink)``, diagonal zero.

    Computed as the sparse product X.T @ X (shows x shows co-occurrence), never densifying
    users x shows; cost ~ sum over users of likes^2. ``shrink`` damps pairs with little support.
    """
    Xc = sp.csc_matrix(X)
    gram = sp.csr_matrix(Xc.T @ Xc)
    norms = np.sqrt(np.asarray(Xc.multiply(Xc).sum(axis=0)).ravel())
    rows = np.repeat(np.arange(gram.shape[0]), np.diff(gram.indptr))
    denom = norms[rows] * norms[gram.indices] + shrink
    gram.data = np.divide(gram.data, denom, out=np.zeros_like(gram.data), where=denom > 0)
    gram.setdiag(0.0)
    gram.eliminate_zeros()
    gram.sort_indices()
    return gram


def top_k_per_row(S: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of every row (ties by the lower column); drops the rest.

    Rows with at most ``k`` entries are kept whole without looking at them; only longer rows
    are cut, each with a linear-time partition around its k-th largest value rather than a full
    sort (the sort of every stored entry used to dominate item-kNN fit time).
    """
    S = sp.csr_matrix(S)
    S.eliminate_zeros()
    S.sort_indices()  # ascending columns within a row: ties resolve to the lower column
    n_rows = S.shape[0]
    lengths = np.diff(S.indptr)
    keep = np.ones(S.nnz, dtype=bool)
    for row in np.flatnonzero(lengths > k):
        start, end = S.indptr[row], S.indptr[row + 1]
        values = S.data[start:end]
        kth = np.partition(values, len(values) - k)[len(values) - k]  # k-th largest value
        greater = values > kth
        ties = np.flatnonzero(values == kth)[: k - int(greater.sum())]
        chosen = greater
        chosen[ties] = True
        keep[start:end] = chosen
    counts = np.bincount(np.repeat(np.arange(n_rows), lengths)[keep], minlength=n_rows)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_matrix((S.data[keep], S.indices[keep], indptr), shape=S.shape)


def rp3beta_similarity(
    X: sp.csr_matrix, alpha: float, beta: float, eps: float = 1e-12
) -> sp.csr_matrix:
    """RP3beta transition matrix (Paudel et al. 2017; Christoffel et al. 2015 for P^3).

    Three-step walk show -> user -> show: ``W = (P_iu ** alpha) @ (P_ui ** alpha)``, each column
    divided by ``popularity_j ** beta`` so the walk stops favouring blockbusters; diagonal zero.
    ``P_ui`` is X row-normalised (user -> show), ``P_iu`` is X.T row-normalised (show -> user).
    Cost: the sparse product X.T @ X.
    """
    X = sp.csr_matrix(X, dtype=np.float64)
    user_deg = np.asarray(X.sum(axis=1)).ravel()
    show_deg = np.asarray(X.sum(axis=0)).ravel()
    p_ui = sp.csr_matrix(sp.diags(1.0 / np.maximum(user_deg, eps)) @ X)
    p_iu = sp.csr_matrix(sp.diags(1.0 / np.maximum(show_deg, eps)) @ X.T)
    p_ui.data **= alpha
    p_iu.data **= alpha
    W = sp.csr_matrix(p_iu @ p_ui)
    penalty = np.power(np.maximum(show_deg, eps), -beta)
    W = sp.csr_matrix(W @ sp.diags(penalty))
    W.setdiag(0.0)
    W.eliminate_zeros()
    W.sort_indices()
    return W


def ease_weights(X: sp.csr_matrix, l2: float) -> np.ndarray:
    """EASE^R item-item weights (Steck 2019), closed form, dense shows x shows, zero diagonal.

    ``P = (X.T X + l2 I)^-1``, ``B_ij = -P_ij / P_jj`` for i != j. Shows nobody liked have all-zero
    rows and columns in ``B``, so only the liked shows' block is inverted (Cholesky: the Gram
    matrix plus ``l2 I`` is symmetric positive definite). Cost: shows^2 memory and a
    liked_shows^3 inversion (a few seconds for 5,000 shows).
    """
    n = X.shape[1]
    active = np.flatnonzero(np.asarray(X.getnnz(axis=0)) > 0)
    Xa = sp.csc_matrix(X)[:, active]
    gram = np.asarray((Xa.T @ Xa).toarray(), dtype=np.float64)
    gram[np.diag_indices_from(gram)] += l2
    chol, info = lapack.dpotrf(gram, lower=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Gram matrix not positive definite (dpotrf info {info})")
    P, info = lapack.dpotri(chol, lower=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE inversion failed (dpotri info {info})")
    P = np.tril(P) + np.tril(P, -1).T  # dpotri fills one triangle only
    Ba = -P / np.diag(P)[np.newaxis, :]
    Ba[np.diag_indices_from(Ba)] = 0.0
    B = np.zeros((n, n), dtype=np.float64)
    B[np.ix_(active, active)] = Ba
    return B


def prune_dense(B: np.ndarray, k: int) -> sp.csr_matrix:
    """Sparse copy of ``B`` keeping the ``k`` largest entries of every row (for storage)."""
    return top_k_per_row(sp.csr_matrix(np.where(B > 0, B, 0.0)), k)


# ---------------------------------------------------------------- score normalisation
def minmax_rows(scores: np.ndarray) -> np.ndarray:
    """Each row mapped to [0, 1] (a constant row becomes all zeros); works on 1-D too."""
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    lo = s.min(axis=1, keepdims=True)
    span = s.max(axis=1, keepdims=True) - lo
    out = np.divide(s - lo, span, out=np.zeros_like(s), where=span > 0)
    return out.reshape(np.shape(scores))


def rank_rows(scores: np.ndarray) -> np.ndarray:
    """Each row's scores replaced by ``1 - rank / n`` (best = 1.0; ties share the best rank)."""
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    n = s.shape[1]
    out = np.empty_like(s)
    for i, row in enumerate(s):
        # rank = number of strictly better shows, so equal scores get equal values.
        sorted_desc = np.sort(row)[::-1]
        better = np.searchsorted(-sorted_desc, -row, side="left")
        out[i] = 1.0 - better / max(n, 1)
    return out.reshape(np.shape(scores))


def max_rows(scores: np.ndarray) -> np.ndarray:
    """Each row divided by its maximum (non-negative scores; an all-zero row stays zero)."""
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    top = s.max(axis=1, keepdims=True)
    out = np.divide(s, top, out=np.zeros_like(s), where=top > 0)
    return out.reshape(np.shape(scores))


def normalise_candidates(scores: np.ndarray, liked: sp.csr_matrix, how: str) -> np.ndarray:
    """Per-row ``max`` / ``minmax`` / ``rank`` normalisation over the candidate shows only.

    ``liked`` (rows x shows indicator) marks shows the base class will mask anyway; they take
    the row's lowest candidate score first so a liked show's high score cannot stretch the
    scale, and end at 0.
    """
    s = np.array(scores, dtype=np.float64)
    r, c = stored_cells(liked)
    if len(r):
        masked = s.copy()
        masked[r, c] = np.inf
        row_min = masked.min(axis=1)
        s[r, c] = np.where(np.isfinite(row_min), row_min, 0.0)[r]
    if how == "rank":
        out = rank_rows(s)
    elif how == "max":
        out = max_rows(s)
    elif how == "minmax":
        out = minmax_rows(s)
    else:
        raise ValueError(f"how must be max, minmax or rank, got {how!r}")
    out[r, c] = 0.0
    return out
