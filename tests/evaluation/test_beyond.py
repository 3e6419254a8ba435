"""Beyond-accuracy metrics on small cases worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nextshow.evaluation.beyond import (
    beyond_accuracy,
    definitions,
    long_tail,
    longtail_ndcg_at_k,
    novelty_at_k,
    personalization_at_k,
    popularity_percentile,
)

# Training like counts of 5 shows:  s0=10  s1=5  s2=5  s3=1  s4=0
POP = np.array([10.0, 5.0, 5.0, 1.0, 0.0])


def test_popularity_percentile_counts_strictly_less_popular_shows() -> None:
    # s0: 4 of 5 shows have fewer likes; s1 and s2: 2 (s3, s4); s3: 1; s4: 0.
    np.testing.assert_allclose(popularity_percentile(POP), [0.8, 0.4, 0.4, 0.2, 0.0])


def test_novelty_is_one_minus_mean_percentile() -> None:
    # user A top-2 = s0, s1 -> percentiles 0.8, 0.4; user B top-2 = s3, s4 -> 0.2, 0.0.
    # mean percentile = 1.4 / 4 = 0.35 -> novelty 0.65. s2 is past k and does not count.
    assert novelty_at_k([[0, 1, 2], [3, 4]], POP, 2) == pytest.approx(0.65)
    assert novelty_at_k([[0], [0]], POP, 10) == pytest.approx(0.2)  # blockbuster only


def test_personalization_zero_for_identical_lists_and_one_for_disjoint() -> None:
    same = [[1, 2, 3]] * 5
    assert personalization_at_k(same, 3) == pytest.approx(0.0)
    disjoint = [[1, 2], [3, 4], [5, 6]]
    assert personalization_at_k(disjoint, 2) == pytest.approx(1.0)


def test_personalization_of_two_users_by_hand() -> None:
    # Two users, top-4 lists share 2 shows: every sampled pair is (A, B) -> 1 - 2/4 = 0.5.
    assert personalization_at_k([[1, 2, 3, 4], [3, 4, 5, 6]], 4) == pytest.approx(0.5)
    assert personalization_at_k([[1, 2, 3]], 3) == 0.0  # nobody to compare with


def test_personalization_is_seeded() -> None:
    recs = [[i % 7, (i * 3) % 11] for i in range(50)]
    assert personalization_at_k(recs, 2) == personalization_at_k(recs, 2)
    assert personalization_at_k(recs, 2, seed=1) != pytest.approx(
        personalization_at_k(recs, 2), abs=1e-12
    )


def test_long_tail_drops_the_top_ten_percent() -> None:
    # 20 shows, popularity 20..1: the head is the 2 most liked (s0, s1).
    pop = np.arange(20, 0, -1, dtype=float)
    tail = long_tail(pop)
    assert not tail[0] and not tail[1] and tail[2:].all()


def test_longtail_ndcg_counts_only_tail_likes() -> None:
    pop = np.arange(20, 0, -1, dtype=float)  # head = s0, s1
    # user A held out s0 (head) and s5 (tail); recommended s0, s5: only s5 counts, at rank 2:
    # DCG = 1/log2(3), ideal (one tail like) = 1 -> 0.6309.
    # user B held out s1 only (head): dropped.
    score, users = longtail_ndcg_at_k([[0, 5], [1]], [[0, 5], [1]], pop, 2)
    assert users == 1
    assert score == pytest.approx(1 / math.log2(3))


def test_beyond_accuracy_keys_and_definitions() -> None:
    out = beyond_accuracy([[0, 1], [3, 4]], [[1], [4]], POP, 2)
    assert set(out) == {"novelty@2", "personalization@2", "longtail_ndcg@2"}
    assert set(definitions(2)) == {*out, "coverage@2"}
    with pytest.raises(ValueError, match="one list"):
        beyond_accuracy([[0]], [], POP, 2)
    with pytest.raises(ValueError, match="k must be"):
        novelty_at_k([[0]], POP, 0)
