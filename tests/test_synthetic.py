"""The synthetic ratings generator: determinism, invariants, and the original system's shape."""

from __future__ import annotations

import numpy as np
import pytest

from nextshow.synthetic import (
    ORIGINAL_N_RATINGS,
    ORIGINAL_N_SHOWS,
    ORIGINAL_N_USERS,
    SyntheticRatings,
    generate,
)

SMALL = {"n_ratings": 6_000, "n_users": 2_500, "n_shows": 240}
ARRAYS = ("user", "show", "rating", "timestamp", "start_year", "imdb_rating", "imdb_votes")


@pytest.fixture(scope="module")
def small() -> SyntheticRatings:
    return generate(**SMALL)


@pytest.fixture(scope="module")
def original() -> SyntheticRatings:
    return generate()


def test_same_seed_gives_identical_arrays(small: SyntheticRatings) -> None:
    again = generate(**SMALL)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(small, name), getattr(again, name), err_msg=name)
    assert small.titles == again.titles
    assert small.genres == again.genres


def test_other_seed_gives_other_arrays(small: SyntheticRatings) -> None:
    other = generate(**SMALL, seed=7)
    assert not np.array_equal(small.show, other.show)


def test_invariants(small: SyntheticRatings) -> None:
    assert small.n_ratings == SMALL["n_ratings"]
    pairs = small.user.astype(np.int64) * small.n_shows + small.show
    assert np.all(np.diff(pairs) > 0), "sorted by (user, show), no pair twice"
    assert np.bincount(small.user, minlength=small.n_users).min() >= 1, "every user rates"
    assert small.show.min() >= 0 and small.show.max() < small.n_shows
    assert small.rating.min() >= 1 and small.rating.max() <= 10
    span_days = (small.timestamp.max() - small.timestamp.min()) / 86_400
    assert 600 < span_days <= 730
    assert len(small.titles) == len(small.genres) == small.n_shows
    assert all(1 <= len(g) <= 3 for g in small.genres)
    assert small.metadata().n_shows == small.n_shows


def test_likes_and_timestamps_share_sparsity(small: SyntheticRatings) -> None:
    likes, times = small.likes(threshold=8)
    assert likes.shape == times.shape == (small.n_users, small.n_shows)
    keep = small.rating >= 8
    assert likes.nnz == times.nnz == int(keep.sum())
    np.testing.assert_array_equal(likes.indptr, times.indptr)
    np.testing.assert_array_equal(likes.indices, times.indices)
    assert np.all(likes.data == 1.0)
    coo = times.tocoo()
    np.testing.assert_array_equal(coo.row, small.user[keep])
    np.testing.assert_array_equal(coo.col, small.show[keep])
    np.testing.assert_array_equal(coo.data, small.timestamp[keep])


def test_taste_is_clustered(small: SyntheticRatings) -> None:
    """Shows of one latent cluster share raters more than shows of different clusters.

    Prolific users rate across clusters (they cannot fill hundreds of ratings from one cluster),
    so the contrast is strongest among ordinary users; it must still show in the cosine of all.
    """
    ratings, _ = small.likes(threshold=1)  # every rating: co-occurrence is the point here
    same = small.cluster[:, None] == small.cluster[None, :]
    np.fill_diagonal(same, False)
    different = ~same
    np.fill_diagonal(different, False)

    co = (ratings.T @ ratings).toarray().astype(np.float64)
    norms = np.sqrt(np.diag(co))
    cosine = co / np.maximum(np.outer(norms, norms), 1e-12)
    assert cosine[same].mean() > 1.15 * cosine[different].mean()

    ordinary = np.bincount(small.user, minlength=small.n_users) <= 10
    co = (ratings[ordinary].T @ ratings[ordinary]).toarray().astype(np.float64)
    assert co[same].mean() > 3 * co[different].mean()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="n_ratings"):
        generate(n_ratings=10, n_users=20, n_shows=5)
    with pytest.raises(ValueError, match="p_cluster"):
        generate(**SMALL, p_cluster=1.5)


def test_default_size_has_the_original_shape(original: SyntheticRatings) -> None:
    d = original
    assert (d.n_ratings, d.n_users, d.n_shows) == (
        ORIGINAL_N_RATINGS,
        ORIGINAL_N_USERS,
        ORIGINAL_N_SHOWS,
    )
    per_user = np.sort(np.bincount(d.user, minlength=d.n_users))[::-1]
    assert np.mean(per_user <= 2) > 0.8, "most users rate one or two shows"
    assert per_user[: d.n_users // 100].sum() / d.n_ratings > 0.15, "top 1% hold a big share"
    assert per_user[0] >= 300, "a few users rate hundreds"
    per_show = np.sort(np.bincount(d.show, minlength=d.n_shows))[::-1]
    assert per_show[: d.n_shows // 10].sum() / d.n_ratings > 0.4, "popularity is heavy-tailed"
    like_share = np.mean(d.rating >= 8)
    assert 0.35 < like_share < 0.65
    # Show-dependent means: per-show average ratings spread well beyond sampling noise.
    counts = np.bincount(d.show, minlength=d.n_shows)
    means = np.bincount(d.show, weights=d.rating, minlength=d.n_shows) / np.maximum(counts, 1)
    assert np.std(means[np.argsort(counts)[-200:]]) > 0.5
