"""The holdout rule on tiny matrices drawn by hand, and its checks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.evaluation.splits import TemporalHoldout, n_held_out, validation_split


def _matrices(entries: dict[int, dict[int, float]], shape: tuple[int, int]):
    """likes and timestamps CSR from {user: {show: time}}."""
    rows, cols, times = [], [], []
    for user, shows in entries.items():
        for show, t in shows.items():
            rows.append(user)
            cols.append(show)
            times.append(t)
    likes = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    ts = sp.csr_matrix((np.array(times, dtype=float), (rows, cols)), shape=shape)
    return likes, ts


# user 0: 8 likes; by time: 1(10) 3(20) 5(30) 7(40) 6(50) 4(60) | 2(70) 0(80)  -> 2 held out
# user 1: 4 likes (< min_likes 5)                                               -> all train
# user 2: 5 likes, all at time 100: ties by show index -> 2 3 4 5 | 6           -> 1 held out
ENTRIES = {
    0: {0: 80, 1: 10, 2: 70, 3: 20, 4: 60, 5: 30, 6: 50, 7: 40},
    1: {0: 5, 1: 6, 2: 7, 3: 8},
    2: {2: 100, 3: 100, 4: 100, 5: 100, 6: 100},
}
SHAPE = (3, 8)


def _row(matrix: sp.csr_matrix, user: int) -> list[int]:
    return sorted(matrix.indices[matrix.indptr[user] : matrix.indptr[user + 1]].tolist())


def test_last_twenty_percent_by_time_is_held_out() -> None:
    likes, ts = _matrices(ENTRIES, SHAPE)
    split = TemporalHoldout().split(likes, ts)
    assert split.test_users.tolist() == [0, 2]
    assert _row(split.test, 0) == [0, 2]
    assert _row(split.train, 0) == [1, 3, 4, 5, 6, 7]
    assert _row(split.test, 1) == []
    assert _row(split.train, 1) == [0, 1, 2, 3]
    assert _row(split.test, 2) == [6]
    # the train timestamps keep the train sparsity and the right times
    assert split.train_timestamps is not None
    assert split.train_timestamps[0, 4] == 60
    assert np.array_equal(split.train_timestamps.indices, split.train.indices)


def test_without_timestamps_order_is_show_index() -> None:
    likes, _ = _matrices(ENTRIES, SHAPE)
    split = TemporalHoldout().split(likes)
    assert _row(split.test, 0) == [6, 7]
    assert split.train_timestamps is None


def test_min_likes_filter() -> None:
    likes, ts = _matrices(ENTRIES, SHAPE)
    assert TemporalHoldout(min_likes=4).split(likes, ts).test_users.tolist() == [0, 1, 2]
    assert TemporalHoldout(min_likes=6).split(likes, ts).test_users.tolist() == [0]


@pytest.mark.parametrize(
    ("n", "held"), [(2, 1), (5, 1), (7, 1), (8, 2), (12, 2), (13, 3), (100, 20)]
)
def test_rounding_half_up_at_least_one(n: int, held: int) -> None:
    assert int(n_held_out(n, 0.2)) == held


def test_never_holds_out_everything() -> None:
    assert int(n_held_out(2, 0.9)) == 1


def test_no_overlap_and_nothing_lost() -> None:
    likes, ts = _matrices(ENTRIES, SHAPE)
    split = TemporalHoldout().split(likes, ts)
    assert split.train.multiply(split.test).nnz == 0
    assert (split.train + split.test - likes).nnz == 0


def test_validation_is_carved_from_train_only() -> None:
    likes, ts = _matrices(ENTRIES, SHAPE)
    split = TemporalHoldout().split(likes, ts)
    val = validation_split(split)
    # user 0's train part (6 likes) -> its latest, show 4 (time 60), is the validation like;
    # user 2 keeps only 4 train likes, below min_likes: no validation part.
    assert val.test_users.tolist() == [0]
    assert _row(val.test, 0) == [4]
    assert _row(val.train, 0) == [1, 3, 5, 6, 7]
    assert val.test.multiply(split.test).nnz == 0
    assert val.train.multiply(split.test).nnz == 0
    assert (val.train + val.test - split.train).nnz == 0


def test_deterministic() -> None:
    likes, ts = _matrices(ENTRIES, SHAPE)
    a = TemporalHoldout().split(likes, ts)
    b = TemporalHoldout().split(likes.copy(), ts.copy())
    for x, y in ((a.train, b.train), (a.test, b.test)):
        assert np.array_equal(x.indptr, y.indptr)
        assert np.array_equal(x.indices, y.indices)
    assert np.array_equal(a.test_users, b.test_users)


@pytest.mark.parametrize("min_likes", [0, 1, -3, 2.5, True])
def test_bad_min_likes(min_likes) -> None:
    with pytest.raises(ValueError, match=r"min_likes must be an integer >= 2"):
        TemporalHoldout(min_likes=min_likes)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_bad_test_fraction(fraction: float) -> None:
    with pytest.raises(ValueError, match=r"open interval \(0, 1\)"):
        TemporalHoldout(test_fraction=fraction)


def test_bad_inputs() -> None:
    likes, _ = _matrices(ENTRIES, SHAPE)
    with pytest.raises(ValueError, match="CSR"):
        TemporalHoldout().split(likes.toarray())
    with pytest.raises(ValueError, match="CSR"):
        TemporalHoldout().split(likes.tocoo())
    _, other = _matrices({**ENTRIES, 1: {**ENTRIES[1], 7: 3.0}}, SHAPE)
    with pytest.raises(ValueError, match="same sparsity"):
        TemporalHoldout().split(likes, other)


def test_global_time_split_never_trains_on_the_future():
    """Three users, 12 likes. The 80 % quantile (lower) of the sorted times
    1 1 2 2 3 3 4 5 8 8 9 9 is the 9th, 8: only the likes at t=9 are after the cut.

    user 0: shows 0,1,2,3,4 at t=1,2,3,8,9 -> test user; show 4 held out
    user 1: shows 0,1,2,3,4 at t=1,2,3,4,5 -> nothing after the cut: not a test user
    user 2: shows 5,6 at t=8,9             -> fewer than 5 likes: show 6 dropped, 5 trains
    """
    import scipy.sparse as sp

    from nextshow.evaluation.splits import GlobalTimeHoldout, make_holdout

    rows = [0] * 5 + [1] * 5 + [2] * 2
    cols = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]
    times = [1, 2, 3, 8, 9, 1, 2, 3, 4, 5, 8, 9]
    likes = sp.csr_matrix(([1.0] * 12, (rows, cols)), shape=(3, 7))
    stamps = sp.csr_matrix((np.array(times, float), (rows, cols)), shape=(3, 7))
    split = GlobalTimeHoldout().split(likes, stamps)
    assert split.test_users.tolist() == [0]
    assert split.held_out(0).tolist() == [4]
    assert split.train_timestamps.data.max() == 8
    assert split.dropped == 1 and split.rule == "global-time"
    validation = validation_split(split)
    assert validation.rule == "global-time"
    with pytest.raises(ValueError, match="timestamps"):
        GlobalTimeHoldout().split(likes)
    with pytest.raises(ValueError, match="split rule"):
        make_holdout("weekly")


def test_held_out_shows_split_hides_every_like_of_a_tenth_of_the_shows():
    from nextshow.evaluation.splits import HeldOutShows, make_holdout

    rng = np.random.default_rng(7)
    likes = sp.csr_matrix((rng.random((60, 50)) < 0.25).astype(float))
    split = make_holdout("held-out-shows", min_likes=3).split(likes)
    held = np.flatnonzero(np.asarray(split.test.sum(axis=0)).ravel())
    liked = np.flatnonzero(np.asarray(likes.sum(axis=0)).ravel())
    # 10 % of the liked shows (round half up), none of their likes left in train
    hidden = np.setdiff1d(liked, np.flatnonzero(np.asarray(split.train.sum(axis=0)).ravel()))
    assert len(hidden) == int(np.floor(0.1 * len(liked) + 0.5))
    assert set(held) <= set(hidden)
    assert split.rule == "held-out-shows" and split.test_fraction == 0.1
    # every test user has kept likes to recommend from and held-out likes to find
    for user in split.test_users:
        assert len(split.liked(user)) and len(split.held_out(user))
        assert set(split.held_out(user)) <= set(hidden)
    assert split.dropped == likes[:, hidden].nnz - split.test.nnz
    # seeded: the same shows every time; another seed, other shows
    again = HeldOutShows(min_likes=3).split(likes)
    assert (again.test != split.test).nnz == 0
    other = HeldOutShows(min_likes=3, seed=1).split(likes)
    assert (other.test != split.test).nnz > 0
    # validation carves other shows out of the training part only
    validation = validation_split(split)
    assert validation.rule == "held-out-shows"
    assert validation.test.multiply(split.test).nnz == 0
