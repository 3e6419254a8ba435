"""The learned re-ranker: trees as arrays, features, learning from later likes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.recommenders import create
from nextshow.recommenders.base import liked_rows
from nextshow.recommenders.boosting import (
    boosting_decision,
    constant_boosting,
    export_boosting,
    fit_boosting,
)
from nextshow.recommenders.ranker import with_prior
from nextshow.recommenders.ranker_features import (
    FEATURES,
    SHOW_FEATURES,
    WINDOW_COLUMN,
    show_features,
)
from tests.recommenders.conftest import DAY, DAY0, TINY_PARAMS


def test_boosting_arrays_predict_like_sklearn_with_missing_values() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(42)
    X = rng.normal(size=(600, 4))
    X[rng.random(X.shape) < 0.15] = np.nan
    y = ((np.nan_to_num(X[:, 0]) + X[:, 1] > 0.2) | np.isnan(X[:, 2])).astype(int)
    model = HistGradientBoostingClassifier(max_iter=12, random_state=42).fit(X, y)
    X_new = rng.normal(size=(200, 4))
    X_new[rng.random(X_new.shape) < 0.15] = np.nan
    got = boosting_decision(export_boosting(model), X_new)
    np.testing.assert_allclose(got, model.decision_function(X_new), rtol=0, atol=1e-12)
    # any batch of rows gives the same numbers
    np.testing.assert_array_equal(boosting_decision(export_boosting(model), X_new[:7]), got[:7])


def test_boosting_refuses_wrong_width_and_handles_one_class() -> None:
    trees = fit_boosting(
        np.zeros((5, 3)),
        np.zeros(5, dtype=int),
        max_iter=3,
        learning_rate=0.1,
        max_leaf_nodes=4,
        min_samples_leaf=1,
        l2=0.0,
    )
    assert boosting_decision(trees, np.ones((2, 3))).tolist() == [-1.0, -1.0]
    with pytest.raises(ValueError, match="3 features"):
        boosting_decision(constant_boosting(3, 0.0), np.ones((2, 4)))


def test_show_features_by_hand(tiny, metadata) -> None:
    likes, stamps = tiny
    feats = show_features(likes, stamps, metadata)
    assert feats.shape == (8, len(SHOW_FEATURES))
    counts = np.asarray(likes.sum(axis=0)).ravel()
    np.testing.assert_allclose(feats[:, 0], np.log1p(counts) - np.log1p(counts.max()))
    # s7 is first liked by u6, as its third like (day 3*6 + 2 = 20); the newest like is u9's
    # third (day 3*9 + 2 = 29): 9 days.
    assert feats[7, SHOW_FEATURES.index("days_since_first_like")] == pytest.approx(9.0)
    # start year 0 is unknown -> NaN; IMDb rating NaN stays NaN; votes 0 -> NaN.
    assert np.isnan(feats[3, SHOW_FEATURES.index("release_age")])
    assert np.isnan(feats[2, SHOW_FEATURES.index("imdb_rating")])
    assert np.isnan(feats[2, SHOW_FEATURES.index("log_imdb_votes")])
    # without timestamps the recent counts are the all-time counts and ages are unknown
    untimed = show_features(likes, None, metadata)
    np.testing.assert_allclose(untimed[:, 2], untimed[:, 0])
    assert np.isnan(untimed[:, SHOW_FEATURES.index("days_since_first_like")]).all()


def _trend_data() -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """60 users, 12 shows. Shows 0-5 were popular long ago; shows 6-11 are what people like
    lately. Every user likes two old shows early and two new shows late, so what is liked after
    any cut is always the lately popular shows: a ranker must learn to follow recent likes."""
    rng = np.random.default_rng(42)
    rows, cols, times = [], [], []
    for u in range(60):
        for j, s in enumerate(rng.choice(6, 2, replace=False)):
            rows.append(u), cols.append(int(s)), times.append(DAY0 + (u + j) * DAY)
        for j, s in enumerate(6 + rng.choice(6, 2, replace=False)):
            rows.append(u), cols.append(int(s)), times.append(DAY0 + (100 + u + j) * DAY)
    shape = (60, 12)
    likes = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    stamps = sp.csr_matrix((np.asarray(times, dtype=float), (rows, cols)), shape=shape)
    return likes, stamps


def test_ranker_learns_to_follow_recent_likes() -> None:
    likes, stamps = _trend_data()
    model = create("ranker", n_candidates=6, max_iter=20, min_samples_leaf=5).fit(
        likes, timestamps=stamps
    )
    recs = model.recommend([0, 1], n=4)
    assert {r.show for r in recs} <= set(range(6, 12))
    assert len(model.trees_["gb_roots"]) == 20


def test_ranker_without_timestamps_uses_a_random_label_split(tiny, metadata) -> None:
    likes, _ = tiny
    model = create("ranker", label_split="global-time", n_candidates=4, max_iter=3)
    model.fit(likes, metadata)  # no timestamps: falls back to the random holdout, no error
    assert len(model.recommend([0], n=3)) == 3
    assert len(FEATURES) == model.shows_.shape[1] + 11


def test_with_prior_by_hand() -> None:
    proba, window = np.array([0.2, 0.3]), np.array([1.0, 0.5])
    np.testing.assert_allclose(with_prior(proba, window, 0.0), [0.2, 0.3])  # the trees alone
    np.testing.assert_allclose(with_prior(proba, window, 1.0), [0.2, 0.15])  # order flips
    np.testing.assert_allclose(with_prior(proba, window, 2.0), [0.2, 0.075])


def test_ranker_prior_weighs_p_liked_by_last_weeks_likes(tiny) -> None:
    likes, stamps = tiny
    params = {**TINY_PARAMS["ranker"], "period": 1000}  # no pick within the list
    plain = create("ranker", prior=0.0, **params).fit(likes, timestamps=stamps)
    weighted = create("ranker", prior=1.0, **params).fit(likes, timestamps=stamps)
    # The newest like is day 29; days 22-29 hold s0: u8; s1: u8, u9; s2: u7; s3: u8; s4: u9;
    # s6: u7, u9; s7: u7, u8. (1 + likes) / (1 + the top show's 2):
    window = np.array([2, 3, 2, 2, 2, 1, 3, 3]) / 3
    np.testing.assert_allclose(np.exp(weighted.shows_[:, WINDOW_COLUMN]), window)
    # The prior only weighs the scores: the same trees, candidates ordered by P x window.
    for key, value in plain.trees_.items():
        np.testing.assert_array_equal(weighted.trees_[key], value)
    (cand,), X = plain._pairs(liked_rows([[0]], 8))
    proba = 1.0 / (1.0 + np.exp(-boosting_decision(plain.trees_, X)))
    by_trees = cand[np.lexsort((cand, -proba))].tolist()
    by_both = cand[np.lexsort((cand, -proba * window[cand]))].tolist()
    assert by_both != by_trees  # the case is one where the prior changes the order
    assert [r.show for r in plain.recommend([0], n=len(cand))] == by_trees
    assert [r.show for r in weighted.recommend([0], n=len(cand))] == by_both
