"""Blend and ALS specifics."""

from __future__ import annotations

import numpy as np
import pytest

from nextshow.recommenders import create


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
