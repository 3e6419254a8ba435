"""The protocol object: each split rule, data without timestamps, determinism with seed 42."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.evaluation.protocol import Protocol
from nextshow.evaluation.splits import RandomHoldout, make_holdout


class _Data:
    """The two attributes a protocol reads from interactions."""

    def __init__(self, likes: sp.csr_matrix, timestamps: sp.csr_matrix | None) -> None:
        self.likes, self.timestamps = likes, timestamps


def _data(timed: bool = True, users: int = 30, shows: int = 25) -> _Data:
    """User u likes shows u, u+1, ..., u+9 (mod shows) at times 100*u + j (deterministic)."""
    rows, cols, times = [], [], []
    for u in range(users):
        for j in range(10):
            rows.append(u)
            cols.append((u + j) % shows)
            times.append(100.0 * j + u)
    likes = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(users, shows))
    ts = sp.csr_matrix((np.array(times), (rows, cols)), shape=(users, shows))
    return _Data(likes, ts if timed else None)


def _held(split, user: int) -> list[int]:
    return sorted(split.held_out(user).tolist())


def test_auto_is_global_time_with_timestamps_and_random_without() -> None:
    protocol = Protocol()
    assert protocol.rule_for(True) == "global-time"
    assert protocol.rule_for(False) == "random"
    assert protocol.split_likes(_data()).rule == "global-time"
    assert protocol.split_likes(_data(timed=False)).rule == "random"


def test_global_time_holds_out_everything_after_one_cut() -> None:
    # Times 100*j + u: the 80 % quantile cut falls inside j = 7, so every user keeps j <= 7
    # (or part of it) and holds out j = 8, 9: no training like is later than any test like.
    data = _data()
    split = Protocol(split="global-time").split_likes(data)
    train_times = split.train_timestamps.data
    test_times = data.timestamps.multiply(split.test).data
    assert train_times.max() < test_times.min()
    assert split.test.nnz + split.train.nnz + split.dropped == data.likes.nnz


def test_user_time_holds_out_each_users_last_likes() -> None:
    split = Protocol(split="user-time").split_likes(_data())
    # 10 likes -> the last 2 by time, j = 8, 9: shows u+8, u+9.
    assert _held(split, 0) == [8, 9]
    assert _held(split, 3) == [11, 12]


def test_time_rules_refuse_data_without_timestamps() -> None:
    with pytest.raises(ValueError, match="needs like timestamps"):
        Protocol(split="global-time").split_likes(_data(timed=False))
    with pytest.raises(ValueError, match="needs like timestamps"):
        Protocol(split="user-time").split_likes(_data(timed=False))


def test_random_split_is_seeded_and_not_show_order() -> None:
    data = _data(timed=False)
    a = Protocol(split="random").split_likes(data)
    b = Protocol(split="random", seed=42).split_likes(data)
    c = Protocol(split="random", seed=7).split_likes(data)
    assert all(_held(a, u) == _held(b, u) for u in range(30))
    assert any(_held(a, u) != _held(c, u) for u in range(30))
    # Show-index order would always hold out the two highest-numbered liked shows.
    by_index = [sorted((u + j) % 25 for j in range(10))[-2:] for u in range(30)]
    assert any(_held(a, u) != by_index[u] for u in range(30))
    assert all(len(_held(a, u)) == 2 for u in range(30))


def test_random_split_ignores_timestamps() -> None:
    timed = RandomHoldout().split(_data().likes, _data().timestamps)
    untimed = RandomHoldout().split(_data().likes)
    assert (timed.test != untimed.test).nnz == 0


def test_validation_split_comes_from_training_part_only() -> None:
    for rule in ("global-time", "user-time", "random"):
        split, validation = Protocol(split=rule).splits(_data())
        assert validation.rule == rule
        assert validation.train.nnz + validation.test.nnz + validation.dropped == split.train.nnz
        assert split.test.multiply(validation.test).nnz == 0


def test_bad_protocol_values_are_refused() -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        Protocol(split="weekly")
    with pytest.raises(ValueError, match="k must be"):
        Protocol(k=0)
    with pytest.raises(ValueError, match="min_likes"):
        Protocol(min_likes=1)
    with pytest.raises(ValueError, match="time_budget"):
        Protocol(time_budget=0)
    with pytest.raises(ValueError, match="split rule must be one of"):
        make_holdout("weekly")
    assert Protocol().with_changes(k=5).k == 5
    assert Protocol().as_dict()["seed"] == 42


def test_a_sample_that_holds_every_test_user_changes_nothing() -> None:
    from nextshow.evaluation.protocol import run_evaluation
    from tests.evaluation.test_evaluate import _interactions

    data = _interactions()
    everyone = Protocol(tune=False, max_test_users=None)
    n_test = len(everyone.split_likes(data).test_users)
    covering = Protocol(tune=False, max_test_users=n_test)
    a = run_evaluation(data, ["popularity", "itemknn"], protocol=everyone)
    b = run_evaluation(data, ["popularity", "itemknn"], protocol=covering)
    assert [m.metrics for m in a.models] == [m.metrics for m in b.models]
    assert a.split == b.split and a.split["eligible_test_users"] == n_test


def test_the_sample_is_seeded_sized_and_reported() -> None:
    data = _data()
    full = Protocol(max_test_users=None).split_likes(data)
    size = len(full.test_users) // 2
    a, validation = Protocol(max_test_users=size).splits(data)
    b = Protocol(max_test_users=size).split_likes(data)
    c = Protocol(max_test_users=size, seed=7).split_likes(data)
    assert len(a.test_users) == size and np.array_equal(a.test_users, b.test_users)
    assert not np.array_equal(a.test_users, c.test_users)
    assert set(a.test_users.tolist()) <= set(full.test_users.tolist())
    assert (a.train != full.train).nnz == 0  # training does not depend on the sample
    assert a.describe()["eligible_test_users"] == len(full.test_users)
    assert len(validation.test_users) <= size
    with pytest.raises(ValueError, match="max_test_users"):
        Protocol(max_test_users=0)
