"""The array scoring equals the per-user metric definitions, list for list."""

from __future__ import annotations

import numpy as np
import pytest

from nextshow.evaluation.beyond import beyond_accuracy
from nextshow.evaluation.evaluate import score_lists
from nextshow.evaluation.metrics import score_users
from nextshow.evaluation.scoring import accuracy, as_relevant_csr, as_top_array, beyond
from nextshow.recommenders.base import top_n, top_n_rows


def _random_lists(seed: int, users: int, shows: int, k: int):
    rng = np.random.default_rng(seed)
    recs, rel = [], []
    for _ in range(users):
        length = int(rng.integers(0, k + 3))  # some shorter than k, some longer
        recs.append(rng.choice(shows, size=min(length, shows), replace=False).tolist())
        rel.append(rng.choice(shows, size=int(rng.integers(0, 6)), replace=False).tolist())
    popularity = rng.integers(0, 50, size=shows).astype(np.float64)
    return recs, rel, popularity


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 10])
def test_arrays_equal_per_user_definitions(seed: int, k: int) -> None:
    recs, rel, popularity = _random_lists(seed, 300, 25, k)
    top = as_top_array(recs, k)
    held = as_relevant_csr(rel, len(popularity))
    expected = score_users(recs, rel, k, len(popularity))
    got = accuracy(top, held, k, len(popularity))
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
    expected_beyond = beyond_accuracy(recs, rel, popularity, k, seed=7)
    got_beyond = beyond(top, held, popularity, k, seed=7)
    for key, value in expected_beyond.items():
        assert got_beyond[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_score_lists_takes_lists_or_arrays_alike() -> None:
    recs, rel, popularity = _random_lists(3, 200, 30, 10)
    from_lists = score_lists(recs, rel, popularity, k=10)
    from_arrays = score_lists(as_top_array(recs, 10), as_relevant_csr(rel, 30), popularity, k=10)
    assert from_lists == from_arrays


def test_duplicate_shows_in_a_list_count_once_for_personalization() -> None:
    # The frozen gate maps every show the split does not know to one extra column.
    recs = [[5, 5, 1], [5, 2, 3]]
    assert beyond(as_top_array(recs, 3), as_relevant_csr([[1], [2]], 6), np.ones(6), 3)[
        "personalization@3"
    ] == pytest.approx(beyond_accuracy(recs, [[1], [2]], np.ones(6), 3)["personalization@3"])


def test_row_wise_top_n_equals_top_n_with_ties_and_exclusions() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, cols = int(rng.integers(1, 12)), int(rng.integers(1, 25))
        scores = rng.integers(0, 4, size=(rows, cols)).astype(np.float64)
        scores[rng.random((rows, cols)) < 0.3] = -np.inf
        scores[rng.random((rows, cols)) < 0.05] = np.inf
        n = int(rng.integers(1, 30))
        got = top_n_rows(scores, n)
        assert got.shape == (rows, n)
        for i in range(rows):
            expected = top_n(scores[i].copy(), n)
            assert got[i, : len(expected)].tolist() == expected.tolist()
            assert (got[i, len(expected) :] == -1).all()


@pytest.mark.parametrize("name", ["popularity", "itemknn", "rp3beta", "ease", "time-aware"])
def test_recommend_users_equals_recommend_batch(name: str) -> None:
    from nextshow.evaluation.dataset import InteractionRow, build_interactions
    from nextshow.evaluation.evaluate import recommend_users
    from nextshow.evaluation.splits import TemporalHoldout
    from nextshow.recommenders import kinds

    rng = np.random.default_rng(5)
    rows, t = [], 1_000_000
    for u in range(120):
        for s in rng.choice(30, size=int(rng.integers(2, 20)), replace=False):
            t += int(rng.integers(1, 1000))
            rows.append(InteractionRow(f"u{u}", f"s{s}", 9.0, None, t))
    data = build_interactions(rows)
    split = TemporalHoldout().split(data.likes, data.timestamps)
    model = kinds.create(name).fit(split.train, data.metadata, split.train_timestamps)
    users = split.test_users
    got = recommend_users(model, split, users, 10)
    expected = model.recommend_batch([split.liked(int(u)) for u in users], 10)
    for row, recs in zip(got, expected, strict=True):
        assert row[row >= 0].tolist() == [r.show for r in recs]
