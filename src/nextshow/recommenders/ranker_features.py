"""Features of the learned re-ranker, as pure functions of the training likes and metadata.

Show features (one row per show, :data:`SHOW_FEATURES`) say how popular a show is overall and
lately, how new it is and what IMDb says; pair features (:data:`PAIR_FEATURES`) say how a
candidate relates to one person's liked shows. Unknown values are NaN: the boosted trees learn
which side missing values go. Orientation: ``likes`` users x shows CSR, ``timestamps`` the same
sparsity with unix seconds; show-show matrices are shows x shows, row = liked show.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import ShowMetadata
from nextshow.recommenders.selection import csr_arrays
from nextshow.recommenders.similarity import (
    DAY,
    decay_weights,
    like_counts,
    newest_time,
    reweighted,
    window_weights,
)

RECENT_HALF_LIVES = (1.0, 7.0, 30.0)  # days: "popular today / this week / this month"
SHOW_FEATURES = (
    "log_likes",  # log(1 + all-time likes) - the same for the most liked show
    "log_recent_1d",  # log(1 + likes decayed with a 1-day half-life), relative as above
    "log_recent_7d",
    "log_recent_30d",
    "log_window_7d",  # log(1 + likes in the last 7 days)
    "days_since_first_like",  # how long the show has been around in the data
    "days_since_last_like",
    "release_age",  # years between the show's start year and "now"
    "imdb_rating",
    "log_imdb_votes",
)
PAIR_FEATURES = (
    "walk_score",  # RP3beta score of the candidate for the liked shows
    "walk_share",  # walk_score / the person's best walk_score
    "walk_rank",  # rank of the candidate by walk_score among the candidates, / n candidates
    "cosine_sum",  # summed cosine to the liked shows
    "cosine_max",  # largest cosine to one liked show
    "genre_overlap",  # share of the candidate's genres among the liked shows' genres
    "popularity_gap",  # candidate log_likes - mean log_likes of the liked shows
    "age_gap",  # candidate release_age - mean release_age of the liked shows
    "log_n_liked",
    "liked_mean_log_likes",  # how mainstream the person's taste is
    "liked_mean_recent_30d",  # how much the person follows what is new
)
FEATURES = SHOW_FEATURES + PAIR_FEATURES
RECENT_COLUMN = SHOW_FEATURES.index("log_recent_7d")  # the popularity candidate generator
WINDOW_COLUMN = SHOW_FEATURES.index("log_window_7d")  # the ranker's prior (all-time if untimed)


def _extreme_times(timestamps: sp.csr_matrix, n_shows: int) -> tuple[np.ndarray, np.ndarray]:
    """Each show's first and last like time (NaN for a show nobody liked)."""
    first = np.full(n_shows, np.inf)
    last = np.full(n_shows, -np.inf)
    np.minimum.at(first, timestamps.indices, timestamps.data)
    np.maximum.at(last, timestamps.indices, timestamps.data)
    first[~np.isfinite(first)] = np.nan
    last[~np.isfinite(last)] = np.nan
    return first, last


def show_features(
    likes: sp.csr_matrix, timestamps: sp.csr_matrix | None, metadata: ShowMetadata | None
) -> np.ndarray:
    """shows x len(SHOW_FEATURES) float64; time features are NaN without timestamps."""
    n_shows = likes.shape[1]
    out = np.full((n_shows, len(SHOW_FEATURES)), np.nan)
    out[:, 0] = np.log1p(like_counts(likes))
    now_year = None
    if timestamps is not None and timestamps.nnz:
        now = newest_time(timestamps)
        for j, half_life in enumerate(RECENT_HALF_LIVES, start=1):
            weights = decay_weights(timestamps.data, now, half_life)
            out[:, j] = np.log1p(like_counts(reweighted(likes, weights)))
        window = window_weights(timestamps.data, now, 7.0)
        out[:, 4] = np.log1p(like_counts(reweighted(likes, window)))
        first, last = _extreme_times(timestamps, n_shows)
        out[:, 5] = (now - first) / DAY
        out[:, 6] = (now - last) / DAY
        now_year = datetime.fromtimestamp(now, UTC).year
    else:
        # Without times every "recent" count is the all-time count: the generator still works.
        out[:, 1:5] = out[:, [0]]
    # Counts relative to the most liked show: the trees learn on a smaller, earlier matrix than
    # the one they serve with, and a ratio means the same at both sizes where a count does not.
    out[:, :5] -= out[:, :5].max(axis=0, initial=0.0)
    if metadata is not None and metadata.start_year is not None:
        year = np.asarray(metadata.start_year, dtype=np.float64)
        known = year > 0
        if known.any():
            reference = now_year if now_year is not None else year[known].max()
            out[known, 7] = reference - year[known]
    if metadata is not None and metadata.imdb_rating is not None:
        rating = np.asarray(metadata.imdb_rating, dtype=np.float64)
        out[:, 8] = np.where(np.isfinite(rating) & (rating > 0), rating, np.nan)
    if metadata is not None and metadata.imdb_votes is not None:
        votes = np.asarray(metadata.imdb_votes, dtype=np.float64)
        out[:, 9] = np.where(votes > 0, np.log1p(votes), np.nan)
    return out


def genre_matrix(metadata: ShowMetadata | None, n_shows: int) -> sp.csr_matrix:
    """shows x genres indicator (no columns without metadata)."""
    if metadata is None or not metadata.genres:
        return sp.csr_matrix((n_shows, 0))
    vocab = sorted({g for gs in metadata.genres for g in gs})
    index = {g: i for i, g in enumerate(vocab)}
    rows = [s for s, gs in enumerate(metadata.genres) for _ in gs]
    cols = [index[g] for gs in metadata.genres for g in gs]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_shows, len(vocab)))


def pair_features(
    rows: sp.csr_matrix,
    candidates: list[np.ndarray],
    walk: np.ndarray,
    cosine: sp.csr_matrix,
    shows: np.ndarray,
    genres: sp.csr_matrix,
) -> np.ndarray:
    """One row of :data:`FEATURES` per (person, candidate), people in order, candidates in order.

    ``rows`` is the people's liked-show indicator (people x shows), ``walk`` their RP3beta scores
    (people x shows, dense), ``cosine`` the shows x shows cosine, ``shows`` the show features.
    Per pair: the candidate's show features; its walk score, that score as a share of the
    person's best candidate's, its rank by walk score among the candidates (best first, ties by
    the lower show; / number of candidates); its summed and largest cosine to the liked shows
    (0 without any); the share of its genres among the liked shows' genres (NaN without genres);
    its log_likes and release_age minus their means over the liked shows; log(1 + liked
    shows); the liked shows' mean log_likes and log_recent_30d (means ignore NaN; NaN when no
    liked show has the value). Compiled (:func:`kernels.pair_rows`): no per-person numpy calls.
    """
    from nextshow.recommenders.kernels import pair_rows  # numba loads on first use only

    sizes = np.array([len(c) for c in candidates], dtype=np.int64)
    if sizes.sum() == 0:
        return np.zeros((0, len(FEATURES)))
    person = np.repeat(np.arange(len(candidates)), sizes)
    cand = np.concatenate(candidates).astype(np.int64)
    return pair_rows(
        *csr_arrays(rows),
        np.concatenate([[0], np.cumsum(sizes)]),
        cand,
        np.ascontiguousarray(walk[person, cand], dtype=np.float64),
        *csr_arrays(cosine),
        np.ascontiguousarray(shows, dtype=np.float64),
        *csr_arrays(genres),
        genres.shape[1],
        np.log1p(np.diff(rows.indptr).astype(np.float64)),
    )
