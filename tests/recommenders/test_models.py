"""Model-specific behaviour worked out by hand on tiny matrices."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.recommenders import create, kinds
from nextshow.recommenders.base import Recommender, liked_rows, make_rng, top_n
from nextshow.recommenders.discovery import interleave, with_discoveries
from nextshow.recommenders.item_similarity import dense_scores
from nextshow.recommenders.kinds import register
from nextshow.recommenders.popularity import recent_popularity
from nextshow.recommenders.similarity import max_rows, rp3beta_similarity
from tests.recommenders.conftest import DAY, DAY0, build


def test_popularity_order_and_ties_by_lower_index() -> None:
    """Counts s0..s4 = 2, 3, 1, 2, 0: s1 first, then s0 and s3 tie (lower index first), s2, s4."""
    likes, _ = build([[0, 1, 3], [1, 3], [0, 1, 2]], n_shows=5)
    model = create("popularity").fit(likes)
    assert [r.show for r in model.recommend([], n=5)] == [1, 0, 3, 2, 4]
    assert [r.score for r in model.recommend([], n=2)] == [3.0, 2.0]


def test_recent_popularity_favours_recent_likes() -> None:
    """s0 has 3 old likes, s1 has 2 likes on the newest day: all-time says s0, recent says s1."""
    rows, cols, times = [0, 1, 2, 3, 4], [0, 0, 0, 1, 1], [0, 0, 0, 60, 60]
    likes = sp.csr_matrix((np.ones(5), (rows, cols)), shape=(5, 3))
    stamps = sp.csr_matrix(
        (DAY0 + np.array(times, dtype=np.float64) * DAY, (rows, cols)), shape=(5, 3)
    )
    assert create("popularity").fit(likes).recommend([], 1)[0].show == 0
    for mode in ("decay", "window"):
        recent = create("recent-popularity", mode=mode, days=7.0).fit(likes, timestamps=stamps)
        assert recent.recommend([], 1)[0].show == 1
    with pytest.raises(ValueError, match="needs timestamps"):
        create("recent-popularity").fit(likes)


def test_itemknn_scores_are_summed_cosines() -> None:
    """The module docstring's 3x3 example: liked s0 -> s2 (0.7071) before s1 (0.5)."""
    likes = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=np.float64))
    recs = create("itemknn", k=5).fit(likes).recommend([0], n=2)
    assert [r.show for r in recs] == [2, 1]
    assert recs[0].score == pytest.approx(1 / np.sqrt(2))
    assert recs[0].because == (0,)
    # k=1: s1's only neighbour is s0 (0.5); s2's is s0; s0's is s2 -> s1 scores 0 from s0
    knn1 = create("itemknn", k=1).fit(likes)
    assert knn1.recommend([0], n=2)[1].score == 0.0


def test_because_orders_liked_shows_by_contribution() -> None:
    likes, _ = build([[0, 1, 2], [0, 2], [0, 2], [1, 2], [3, 2]], n_shows=4)
    rec = create("itemknn").fit(likes).recommend([0, 1, 3], n=1)[0]
    assert rec.show == 2
    # cos(s0,s2)=3/(√3·√5) > cos(s1,s2)=2/(√2·√5) > cos(s3,s2)=1/(1·√5)
    assert rec.because == (0, 1, 3)


def test_graph_votes_before_similarity() -> None:
    """k=1: s0->s1, s2->s1 (votes 2 for s1) although s3 is more similar to s0 in sum."""
    likes, _ = build([[0, 1], [0, 1], [2, 1], [2, 1], [0, 3], [3]], n_shows=4)
    model = create("graph", k=1).fit(likes)
    recs = model.recommend([0, 2], n=2)
    assert recs[0].show == 1
    assert int(recs[0].score) == 2  # two liked shows list s1 as their neighbour
    # cos(s2,s1) = 2/(√2·2) = 0.707 > cos(s0,s1) = 2/(√3·2) = 0.577
    assert recs[0].because == (2, 0)


def test_ease_recommend_equals_closed_form() -> None:
    likes, _ = build([[0, 1], [0, 1, 2], [1, 2, 3], [2, 3], [0, 3]], n_shows=4)
    X = likes.toarray()
    P = np.linalg.inv(X.T @ X + 2.0 * np.eye(4))
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0.0)
    recs = create("ease", l2=2.0).fit(likes).recommend([0], n=3)
    expected = B[0].copy()
    expected[0] = -np.inf
    assert [r.show for r in recs] == list(np.argsort(-expected, kind="stable")[:3])
    np.testing.assert_allclose([r.score for r in recs], np.sort(B[0, 1:])[::-1], atol=1e-12)


def test_time_aware_follows_recent_taste() -> None:
    """Old users pair s0 with s1; new users pair s0 with s2: a short half-life picks s2."""
    liked = [[0, 1]] * 4 + [[0, 2]] * 2
    likes, stamps = build(liked, n_shows=3)
    old_taste = create("itemknn").fit(likes).recommend([0], 1)[0].show
    assert old_taste == 1
    model = create("time-aware", half_life_days=2.0, pop_weight=0.0).fit(likes, timestamps=stamps)
    assert model.recommend([0], 1)[0].show == 2


def test_top_n_ties_and_masking() -> None:
    scores = np.array([1.0, 3.0, 3.0, -np.inf, 0.0, 3.0])
    assert top_n(scores, 2).tolist() == [1, 2]
    assert top_n(scores, 10).tolist() == [1, 2, 5, 0, 4]


def test_make_rng_is_seeded() -> None:
    assert make_rng().integers(1 << 30) == make_rng(42).integers(1 << 30)


def test_kinds_refuse_duplicates_and_bad_params() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @register
        class Again(Recommender):  # refused: same name as EASE
            name = "ease"

    assert kinds.get("ease").name == "ease"
    with pytest.raises(KeyError, match="no recommender named 'nope'"):
        kinds.get("nope")
    with pytest.raises(ValueError, match="'l2' must be > 0"):
        create("ease", l2=0.0)
    with pytest.raises(ValueError, match="'k' must be an int"):
        create("itemknn", k=2.5)
    with pytest.raises(ValueError, match="'k' must be an int"):
        create("itemknn", k=True)
    with pytest.raises(ValueError, match="'mode' must be one of"):
        create("recent-popularity", mode="hourly")
    with pytest.raises(ValueError, match="unknown parameter"):
        create("popularity", k=3)
    assert repr(create("ease", l2=500)) == "EASE(l2=500.0, top_k=0)"


def test_fit_checks_input(tiny) -> None:
    likes, _ = tiny
    model = create("itemknn")
    with pytest.raises(ValueError, match=r"scipy\.sparse"):
        model.fit(likes.toarray())
    with pytest.raises(ValueError, match="same sparsity"):
        model.fit(likes, timestamps=sp.csr_matrix(likes.shape))
    from nextshow.recommenders.base import SparseFormatWarning

    with pytest.warns(SparseFormatWarning):
        model.fit(likes.tocoo())


def test_interleave_gives_every_period_th_place_to_a_pick() -> None:
    """Head order s0..s5; picks prefer s5 then s4; period 3, guard 2 (s0, s1 never picks).

    Head places r + r // 2: s0 0, s1 1, s2 3, s3 4 (s4, s5 later); pick places (q + 1) * 3 - 1:
    s5 2, s4 5. The list reads s0 s1 [s5] s2 s3 [s4].
    """
    head = np.array([[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]])
    picks = np.array([[9.0, 9.0, 0.0, 0.0, 1.0, 2.0]])  # s0, s1 score high but sit in the guard
    scores, is_pick = interleave(head, picks, period=3, guard=2)
    assert np.argsort(-scores[0], kind="stable").tolist() == [0, 1, 5, 2, 3, 4]
    np.testing.assert_allclose(scores[0], 1.0 / (1.0 + np.array([0, 1, 3, 4, 5, 2])))
    assert is_pick[0].tolist() == [False, False, False, False, True, True]
    # a pick score of zero is no pick: without picks the head order is kept
    plain, none = interleave(head, np.zeros_like(picks), period=3, guard=2)
    assert np.argsort(-plain[0], kind="stable").tolist() == [0, 1, 2, 3, 4, 5] and not none.any()
    with pytest.raises(ValueError, match="period"):
        interleave(head, picks, period=1)


def test_discoveries_put_a_personal_pick_every_period_places() -> None:
    """60 shows (more than the guard). Long ago three people liked s0, s50 and s55, and four
    people each liked every other show; lately s0..s4 were liked by 10, 9, 8, 7, 6 people (the
    last 40 users, inside the 120-day window). Someone who liked s50, under a recent-popularity
    head with a pick in every third place: s0, s1, [s55, reached by the walk from s50], s2, s3,
    s4 (no second pick: the walk from s50 reaches only s0, which the head shows anyway)."""
    liked = [[0, 50, 55]] * 3
    liked += [[s] for s in range(5, 60) if s not in (50, 55) for _ in range(4)]
    liked += [[s] for s in reversed(range(5)) for _ in range(10 - s)]  # newest: s0's likers
    likes, stamps = build(liked, n_shows=60)
    recent = max_rows(recent_popularity(likes, stamps, "window", 120.0))
    walk = rp3beta_similarity(likes, 1.0, 0.5)
    rows = liked_rows([np.array([50])], 60)

    def order(taste: float) -> tuple[list[int], np.ndarray]:
        head = np.tile(recent, (1, 1))
        scores, is_pick = with_discoveries(
            head, dense_scores(rows, walk), recent, rows, period=3, taste=taste
        )
        return np.argsort(-scores[0], kind="stable")[:6].tolist(), is_pick[0]

    shows, is_pick = order(4.0)
    assert shows == [0, 1, 55, 2, 3, 4]
    assert np.flatnonzero(is_pick).tolist() == [55]
    # taste 0: the pick is the walk's reach weighted by popularity alone, still s55
    assert order(0.0)[0][2] == 55
