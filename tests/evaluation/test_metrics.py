"""Metrics on small cases worked out by hand."""

from __future__ import annotations

import math

import pytest

from nextshow.evaluation.metrics import (
    coverage_at_k,
    hit_rate_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    score_users,
)

# recommended 7, 3, 9, 1 (best first); held out {3, 1, 5}.
# top-3 = 7, 3, 9: one hit, at rank 2.
REC = [7, 3, 9, 1]
REL = [3, 1, 5]


def test_precision_counts_hits_over_k() -> None:
    assert precision_at_k(REC, REL, 3) == pytest.approx(1 / 3)
    assert precision_at_k(REC, REL, 4) == pytest.approx(2 / 4)


def test_precision_empty_slots_are_misses() -> None:
    # Only two shows recommended for k=5: the three empty slots still count in the denominator.
    assert precision_at_k([3, 1], REL, 5) == pytest.approx(2 / 5)


def test_recall_divides_by_held_out_count() -> None:
    assert recall_at_k(REC, REL, 3) == pytest.approx(1 / 3)
    assert recall_at_k(REC, REL, 4) == pytest.approx(2 / 3)


def test_ndcg_by_hand() -> None:
    # k=3: DCG = 1/log2(3); ideal = min(3, 3) hits -> 1 + 1/log2(3) + 1/log2(4).
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3) + 0.5)
    assert ndcg_at_k(REC, REL, 3) == pytest.approx(expected)
    # k=4: hits at ranks 2 and 4 -> 1/log2(3) + 1/log2(5); ideal still 3 hits.
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 0.5)
    assert ndcg_at_k(REC, REL, 4) == pytest.approx(expected)


def test_ndcg_ideal_is_capped_by_k_and_by_held_out() -> None:
    assert ndcg_at_k([5, 6], [5], 10) == pytest.approx(1.0)  # one held out, found first
    assert ndcg_at_k([6, 5], [5], 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k([1, 2], [1, 2, 3, 4], 2) == pytest.approx(1.0)  # ideal = min(k, 4) = 2
    assert ndcg_at_k([9, 8], [1], 2) == 0.0


def test_hit_rate() -> None:
    assert hit_rate_at_k(REC, REL, 1) == 0.0
    assert hit_rate_at_k(REC, REL, 2) == 1.0


def test_coverage_counts_distinct_shows_in_top_k() -> None:
    # top-2 lists: {7, 3} and {3, 4} -> 3 distinct of 10 shows; the 9 beyond k does not count.
    assert coverage_at_k([[7, 3, 9], [3, 4]], n_shows=10, k=2) == pytest.approx(0.3)


def test_score_users_averages_and_drops_users_without_held_out() -> None:
    scores = score_users([[1, 2], [3, 4], [5, 6]], [[2], [9], []], k=2, n_shows=10)
    assert scores["precision@2"] == pytest.approx((0.5 + 0.0) / 2)
    assert scores["recall@2"] == pytest.approx((1.0 + 0.0) / 2)
    assert scores["hit@2"] == pytest.approx(0.5)
    assert scores["ndcg@2"] == pytest.approx((1 / math.log2(3)) / 2)
    assert scores["coverage@2"] == pytest.approx(0.6)
    assert scores["users"] == 2
    assert scores["users_dropped"] == 1


@pytest.mark.parametrize("k", [0, -1])
def test_bad_k_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        precision_at_k(REC, REL, k)


def test_undefined_for_user_without_held_out() -> None:
    with pytest.raises(ValueError):
        ndcg_at_k(REC, [], 3)
    with pytest.raises(ValueError):
        recall_at_k(REC, [], 3)
