"""Forest (trees as arrays), blend and ALS specifics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from nextshow.recommenders import create
from nextshow.recommenders.base import liked_rows
from nextshow.recommenders.forest import FEATURES, export_forest, forest_predict_proba


def test_forest_arrays_predict_like_sklearn() -> None:
    rng = np.random.default_rng(42)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=0.3, size=400) > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=7, max_depth=6, random_state=42).fit(X, y)
    X_new = rng.normal(size=(300, 5))
    X_new[:5] = X[:5]  # rows sitting exactly on training values (threshold ties)
    expected = forest.predict_proba(X_new)[:, 1]
    np.testing.assert_allclose(forest_predict_proba(export_forest(forest), X_new), expected)


def test_forest_model_uses_metadata_features(tiny, metadata) -> None:
    likes, stamps = tiny
    model = create("forest", n_estimators=3, n_candidates=5, holdout=1).fit(likes, metadata, stamps)
    rows_features = model._features(liked_rows([[0, 6]], 8), [np.array([1, 4])])
    assert rows_features.shape == (2, len(FEATURES))
    # genre overlap: s1 Comedy vs liked {Drama}: 0; s4 Crime: 0. year distance: s1 2005 vs 2000
    assert rows_features[0, FEATURES.index("year_distance")] == 5.0
    assert rows_features[1, FEATURES.index("imdb_rating")] == pytest.approx(9.0)
    assert rows_features[0, FEATURES.index("n_liked")] == 2.0


def test_blend_weights_pick_the_component(tiny) -> None:
    likes, stamps = tiny
    only_pop = create(
        "blend",
        components=[
            {"name": "popularity", "params": {}, "weight": 1.0},
            {"name": "itemknn", "params": {}, "weight": 0.0},
        ],
    ).fit(likes, timestamps=stamps)
    pop = create("popularity").fit(likes)
    for liked in ([0], [3, 4]):
        assert [r.show for r in only_pop.recommend(liked, 5)] == [
            r.show for r in pop.recommend(liked, 5)
        ]


def test_blend_checks_components() -> None:
    with pytest.raises(ValueError, match=r"'components'.*unknown model name 'nope'"):
        create("blend", components=[{"name": "nope"}, {"name": "ease"}])
    with pytest.raises(ValueError, match=r"'components'.*'l2' must be > 0"):
        create("blend", components=[{"name": "ease", "params": {"l2": -1.0}}, {"name": "ease"}])
    with pytest.raises(ValueError, match="at least two"):
        create("blend", components=[{"name": "ease"}])
    full = create("blend").get_params()["components"]
    assert full[0] == {"name": "ease", "params": {"l2": 500.0, "top_k": 0}, "weight": 1.0}


def test_als_fold_in_is_the_least_squares_solution(tiny) -> None:
    likes, _ = tiny
    model = create("als", factors=3, iterations=5, alpha=3.0).fit(likes)
    Y = model.item_factors_
    liked = [1, 4, 6]
    A = Y.T @ Y + model.regularization * np.eye(3) + 2.0 * Y[liked].T @ Y[liked]
    u = np.linalg.solve(A, 3.0 * Y[liked].sum(axis=0))
    np.testing.assert_allclose(model._scores(np.array(liked)), Y @ u, rtol=1e-10)


def test_forest_without_timestamps_needs_a_timeless_generator(tiny) -> None:
    likes, _ = tiny
    model = create("forest", generator="itemknn", n_estimators=3, n_candidates=5, holdout=1)
    assert len(model.fit(likes).recommend([0, 1], 3)) == 3
    with pytest.raises(ValueError, match="needs timestamps"):
        create("forest", n_estimators=3, n_candidates=5, holdout=1).fit(likes)
