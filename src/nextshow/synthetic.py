"""Seeded synthetic ratings shaped like the original system's data, for benchmarks and tests.

The original system held about 517k ratings of 1,722 shows by 304k users, scraped from IMDb
reviews. Its shape is what makes cost and quality figures meaningful, so the generator keeps it:

- show popularity is log-normal (a few shows hold most ratings, a long tail holds very few);
- user activity is heavy-tailed: most users rate one or two shows, a few rate hundreds;
- taste is clustered: each user leans to one latent cluster of shows, so item-item similarity
  carries signal (otherwise every kNN figure would be measured on noise);
- ratings 1–10 depend on the show (its quality), the user (their leniency) and the cluster fit;
- timestamps span about two years and drift with each show's moment of attention, so a
  time-aware model has something to find.

Everything is a pure function of its arguments: the same seed gives identical arrays. Generation is
vectorised numpy (the default size takes a second or two), so benchmarks can make 10x or 100x
sets on the fly instead of storing them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from nextshow.recommenders.base import ShowMetadata, make_rng

# The original system's scale (issue 3): the defaults every benchmark starts from.
ORIGINAL_N_RATINGS = 517_000
ORIGINAL_N_USERS = 304_000
ORIGINAL_N_SHOWS = 1_722

GENRES: tuple[str, ...] = (
    "Action",
    "Adventure",
    "Animation",
    "Biography",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "History",
    "Horror",
    "Music",
    "Mystery",
    "Reality-TV",
    "Romance",
    "Sci-Fi",
    "Sport",
    "Thriller",
    "War",
)

_DAY = 86_400
# 2017-01-01T00:00:00Z: a fixed origin keeps timestamps identical across runs and machines.
_T0 = 1_483_228_800
_SPAN = 2 * 365 * _DAY
# Users rating more shows than this are drawn exactly (Gumbel top-k without replacement) instead of
# by rejection: rejection wastes rounds when a user must cover a large part of the catalogue.
_HEAVY_USER = 24
_REJECTION_ROUNDS = 8
_GUMBEL_CHUNK = 2_048


@dataclass(frozen=True)
class SyntheticRatings:
    """One rating per row, sorted by (user, show); no (user, show) pair repeats.

    ``user`` and ``show`` are matrix indices (0..n_users-1, 0..n_shows-1); ``rating`` is 1–10;
    ``timestamp`` is unix seconds. Show metadata arrays have length ``n_shows``.
    """

    user: np.ndarray  # int32, (n_ratings,)
    show: np.ndarray  # int32, (n_ratings,)
    rating: np.ndarray  # int8, (n_ratings,), 1..10
    timestamp: np.ndarray  # int64, (n_ratings,), unix seconds
    n_users: int
    n_shows: int
    titles: list[str]
    start_year: np.ndarray  # int32, (n_shows,)
    genres: list[tuple[str, ...]]
    imdb_rating: np.ndarray  # float32, (n_shows,)
    imdb_votes: np.ndarray  # int64, (n_shows,)
    cluster: np.ndarray  # int32, (n_shows,): the latent taste cluster, for tests and analysis

    @property
    def n_ratings(self) -> int:
        return len(self.rating)

    def metadata(self) -> ShowMetadata:
        """The shows' side information in the recommender interface's form (ids = indices)."""
        return ShowMetadata(
            show_ids=np.arange(self.n_shows, dtype=np.int64),
            titles=list(self.titles),
            start_year=self.start_year,
            imdb_rating=self.imdb_rating,
            imdb_votes=self.imdb_votes,
            genres=list(self.genres),
        )

    def likes(self, threshold: float = 8.0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(likes, timestamps): two CSR matrices of shape (n_users, n_shows), same sparsity.

        ``likes`` is float32 1.0 where ``rating >= threshold``; ``timestamps`` holds each like's
        unix time as float64 (exact for seconds). Users with no like keep an empty row, so row
        indices stay user indices.
        """
        keep = self.rating >= threshold
        shape = (self.n_users, self.n_shows)
        rows, cols = self.user[keep], self.show[keep]
        # Rows are already sorted by (user, show) and unique, so building the CSR directly from
        # the sorted pairs is exact; going through COO would sum duplicates we know are absent.
        indptr = np.zeros(self.n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.n_users), out=indptr[1:])
        indices = cols.astype(np.int32)
        likes = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), indices, indptr), shape=shape, copy=False
        )
        times = sp.csr_matrix(
            (self.timestamp[keep].astype(np.float64), indices.copy(), indptr.copy()),
            shape=shape,
            copy=False,
        )
        return likes, times

    def tables(self, threshold: float = 8.0) -> tuple[pa.Table, pa.Table]:
        """(shows, ratings) in the snapshot's Parquet schemas: ids are indices + 1 (database ids
        start at 1), ratings 1–10 as given, ``liked`` by ``threshold``, like times in seconds."""
        shows = pa.table(
            {
                "show_id": np.arange(1, self.n_shows + 1, dtype=np.int64),
                "imdb_id": [f"tt{9_000_000 + i}" for i in range(self.n_shows)],
                "title": self.titles,
                "title_type": ["tvSeries"] * self.n_shows,
                "start_year": self.start_year,
                "end_year": pa.nulls(self.n_shows, pa.int32()),
                "genres": [",".join(g) for g in self.genres],
                "imdb_rating": self.imdb_rating,
                "imdb_votes": self.imdb_votes,
                "user_submitted": np.zeros(self.n_shows, dtype=bool),
            }
        )
        ratings = pa.table(
            {
                "user_id": self.user.astype(np.int64) + 1,
                "show_id": self.show.astype(np.int64) + 1,
                "rating": self.rating.astype(np.float32),
                "liked": self.rating >= threshold,
                "rated_at": self.timestamp,
            }
        )
        return shows, ratings


def _merge_unique(done: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``done`` (already sorted, distinct) and ``new``.

    A stable sort of two sorted runs is a linear merge (timsort), so each re-draw round costs
    O(n) rather than a full O(n log n) sort; np.unique's hash path is ~10x slower here.
    """
    values = np.sort(np.concatenate([done, np.sort(new)]), kind="stable")
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _activity(rng: np.random.Generator, n_users: int, n_ratings: int, n_shows: int) -> np.ndarray:
    """Ratings per user: every user >= 1, sum exactly ``n_ratings``, heavy tail, at most n_shows.

    The excess over one rating each is spread by a multinomial over Pareto weights: most users get
    no excess (one rating), a few draw enough weight to rate hundreds of shows.
    """
    if n_ratings < n_users:
        raise ValueError(f"n_ratings ({n_ratings}) must be >= n_users ({n_users})")
    if n_ratings > n_users * n_shows:
        raise ValueError(f"n_ratings ({n_ratings}) exceeds n_users * n_shows")
    # Shape 1.1: heavy enough that the top 1% of users hold roughly a fifth to a quarter of all
    # ratings, as in review data where a few prolific reviewers write a large share.
    weights = rng.pareto(1.1, n_users) + 1e-3
    counts = 1 + rng.multinomial(n_ratings - n_users, weights / weights.sum())
    cap = max(1, min(n_shows, n_shows * 3 // 4))
    # Give what the cap cuts from prolific users to random other users, until nobody is above it.
    while (over := counts > cap).any():
        surplus = int((counts[over] - cap).sum())
        counts[over] = cap
        room = np.flatnonzero(counts < cap)
        extra = np.bincount(rng.choice(room, surplus), minlength=n_users)
        counts += extra
    return counts


def _shows(
    rng: np.random.Generator, n_shows: int, n_clusters: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cluster, popularity, quality, peak time) per show."""
    cluster = rng.integers(0, n_clusters, n_shows).astype(np.int32)
    popularity = rng.lognormal(0.0, 1.6, n_shows)
    quality = np.clip(rng.normal(7.0, 1.0, n_shows), 3.0, 9.6)
    peak = rng.uniform(0, _SPAN, n_shows)
    return cluster, popularity, quality, peak


def _draw_shows(
    rng: np.random.Generator,
    users: np.ndarray,
    user_cluster: np.ndarray,
    cum_by_cluster: np.ndarray,
    cluster_bounds: np.ndarray,
    order: np.ndarray,
    p_cluster: float,
) -> np.ndarray:
    """One show per entry of ``users``, with replacement, from the user's taste mixture.

    With probability ``p_cluster`` the show comes from the user's cluster (by popularity), else from
    the whole catalogue (by popularity). Both are one ``searchsorted`` on a cumulative popularity
    sorted by cluster: a cluster is a contiguous slice of that cumulative sum.
    """
    total = cum_by_cluster[-1]
    u = rng.random(len(users))
    in_cluster = rng.random(len(users)) < p_cluster
    lo = np.where(in_cluster, cluster_bounds[user_cluster[users]], 0.0)
    hi = np.where(in_cluster, cluster_bounds[user_cluster[users] + 1], total)
    pos = np.searchsorted(cum_by_cluster, lo + u * (hi - lo), side="right")
    return order[np.minimum(pos, len(order) - 1)]


def _gumbel_top_k(
    rng: np.random.Generator,
    users: np.ndarray,
    need: np.ndarray,
    log_mix: np.ndarray,
    user_cluster: np.ndarray,
    taken: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Exact sampling without replacement: the top ``need[i]`` of log-prob + Gumbel noise.

    ``log_mix`` is (n_clusters, n_shows), the log taste mixture of each cluster; rows are expanded
    per chunk of users so memory stays bounded at 100x scale. ``taken[i]`` are shows user
    ``users[i]`` already has (excluded). Returns (user, show) pairs.
    """
    out_u: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    for start in range(0, len(users), _GUMBEL_CHUNK):
        stop = min(start + _GUMBEL_CHUNK, len(users))
        keys = log_mix[user_cluster[users[start:stop]]] + rng.gumbel(
            size=(stop - start, log_mix.shape[1])
        )
        for i, row in enumerate(range(start, stop)):
            if len(taken[row]):
                keys[i, taken[row]] = -np.inf
        # Only the top max(need) of each row matter: partition first, then sort that slice.
        top = int(need[start:stop].max())
        if top < keys.shape[1]:
            part = np.argpartition(-keys, top - 1, axis=1)[:, :top]
        else:
            part = np.broadcast_to(np.arange(keys.shape[1]), keys.shape)
        inner = np.argsort(-np.take_along_axis(keys, part, axis=1), axis=1, kind="stable")
        ranked = np.take_along_axis(part, inner, axis=1)
        for i, row in enumerate(range(start, stop)):
            out_s.append(ranked[i, : need[row]])
            out_u.append(np.full(need[row], users[row]))
    if not out_u:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(out_u).astype(np.int64), np.concatenate(out_s).astype(np.int64)


def generate(
    n_ratings: int = ORIGINAL_N_RATINGS,
    n_users: int = ORIGINAL_N_USERS,
    n_shows: int = ORIGINAL_N_SHOWS,
    seed: int = 42,
    *,
    n_clusters: int | None = None,
    p_cluster: float = 0.75,
) -> SyntheticRatings:
    """A synthetic ratings set with the original system's shape; same arguments, same arrays.

    ``n_clusters`` latent taste clusters (default: about one per 80 shows, at least 2);
    ``p_cluster`` is the share of a user's ratings drawn from their own cluster.
    """
    if n_users < 1 or n_shows < 2:
        raise ValueError("need n_users >= 1 and n_shows >= 2")
    if not 0.0 <= p_cluster <= 1.0:
        raise ValueError(f"p_cluster must be in [0, 1], got {p_cluster}")
    k = n_clusters if n_clusters is not None else max(2, round(n_shows / 80))
    rng = make_rng(seed)

    cluster, popularity, quality, peak = _shows(rng, n_shows, k)
    counts = _activity(rng, n_users, n_ratings, n_shows)
    user_cluster = rng.integers(0, k, n_users).astype(np.int32)

    # Cumulative popularity with shows grouped by cluster: see _draw_shows.
    order = np.argsort(cluster, kind="stable")
    cum_by_cluster = np.cumsum(popularity[order])
    cluster_ends = np.searchsorted(cluster[order], np.arange(k), side="right")
    cluster_bounds = np.concatenate([[0.0], cum_by_cluster[cluster_ends - 1]])
    # A cluster with no show would be an empty slice; fall back to the whole catalogue for it.
    empty = np.diff(np.concatenate([[0], cluster_ends])) == 0
    if empty.any():
        raise ValueError(f"{int(empty.sum())} of {k} clusters have no show; use fewer clusters")

    # Light users: draw with replacement and re-draw the duplicates, which are rare when a user
    # rates a few shows out of hundreds.
    light = counts <= _HEAVY_USER
    light_users = np.repeat(np.flatnonzero(light), counts[light])
    pairs = np.empty(0, dtype=np.int64)
    pending = light_users
    for _ in range(_REJECTION_ROUNDS):
        if len(pending) == 0:
            break
        drawn = _draw_shows(
            rng, pending, user_cluster, cum_by_cluster, cluster_bounds, order, p_cluster
        )
        pairs = _merge_unique(pairs, pending.astype(np.int64) * n_shows + drawn)
        have = np.bincount(pairs // n_shows, minlength=n_users)
        short = np.where(light, counts - have, 0)
        pending = np.repeat(np.arange(n_users), short)

    # Heavy users and light users still short: exact sampling from the same mixture.
    have = np.bincount(pairs // n_shows, minlength=n_users)
    need = counts - have
    rest = np.flatnonzero(need > 0)
    if len(rest):
        share = popularity / popularity.sum()
        by_cluster = np.zeros((k, n_shows))
        by_cluster[cluster, np.arange(n_shows)] = share
        by_cluster /= by_cluster.sum(axis=1, keepdims=True)
        log_mix = np.log(p_cluster * by_cluster + (1 - p_cluster) * share)
        owner = pairs // n_shows
        starts = np.searchsorted(owner, rest)
        ends = np.searchsorted(owner, rest, side="right")
        taken = [pairs[a:b] % n_shows for a, b in zip(starts, ends, strict=True)]
        extra_u, extra_s = _gumbel_top_k(rng, rest, need[rest], log_mix, user_cluster, taken)
        pairs = _merge_unique(pairs, extra_u * n_shows + extra_s)
    if len(pairs) != n_ratings:  # a bug, not a data condition
        raise AssertionError(f"generated {len(pairs)} ratings, expected {n_ratings}")

    user = (pairs // n_shows).astype(np.int32)
    show = (pairs % n_shows).astype(np.int32)

    # Ratings: show quality + user leniency + a bonus inside the user's cluster + noise; review
    # sites skew high, so the like threshold (8) keeps roughly half.
    leniency = rng.normal(0.0, 0.9, n_users)
    fit = np.where(cluster[show] == user_cluster[user], 1.0, -0.5)
    raw = quality[show] + leniency[user] + fit + rng.normal(0.0, 1.6, n_ratings)
    rating = np.clip(np.rint(raw), 1, 10).astype(np.int8)

    # Timestamps: halfway between the user's active moment and the show's moment of attention,
    # plus a few weeks of noise, folded into the two-year span.
    active = rng.uniform(0, _SPAN, n_users)
    t = 0.5 * active[user] + 0.5 * peak[show] + rng.normal(0.0, 21 * _DAY, n_ratings)
    timestamp = _T0 + np.clip(t, 0, _SPAN - 1).astype(np.int64)

    return SyntheticRatings(
        user=user,
        show=show,
        rating=rating,
        timestamp=timestamp,
        n_users=n_users,
        n_shows=n_shows,
        cluster=cluster,
        **_metadata(rng, cluster, popularity, quality, k),
    )


def _metadata(
    rng: np.random.Generator,
    cluster: np.ndarray,
    popularity: np.ndarray,
    quality: np.ndarray,
    n_clusters: int,
) -> dict:
    """Titles, start years, genres and IMDb figures consistent with the latent show parameters."""
    n = len(cluster)
    # Each cluster has a leading genre, so genres agree with taste (content features are useful).
    lead = rng.integers(0, len(GENRES), n_clusters)
    second = rng.integers(0, len(GENRES), n)
    third = rng.integers(0, len(GENRES), n)
    n_genres = rng.integers(1, 4, n)
    genres = []
    for i in range(n):
        names = dict.fromkeys(
            GENRES[g] for g in (lead[cluster[i]], second[i], third[i])[: n_genres[i]]
        )
        genres.append(tuple(sorted(names)))
    # Recent shows dominate a 2017–2018 review scrape: start years skew towards the end.
    start_year = (2018 - np.minimum(rng.exponential(6.0, n), 40)).astype(np.int32)
    imdb_rating = np.clip(np.round(quality + rng.normal(0.0, 0.4, n), 1), 1.0, 10.0)
    imdb_votes = np.rint(popularity * rng.lognormal(9.0, 0.5, n)).astype(np.int64) + 5
    return {
        "titles": [f"Synthetic Show {i:05d}" for i in range(n)],
        "start_year": start_year,
        "genres": genres,
        "imdb_rating": imdb_rating.astype(np.float32),
        "imdb_votes": imdb_votes,
    }
