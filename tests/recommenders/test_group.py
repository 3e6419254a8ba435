"""Group scoring on hand-computed cases: fits, the three strategies, the misery veto."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from nextshow.recommenders.group import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    member_fit,
    rank_group,
)
from nextshow.schemas import group as group_schema

INF = np.inf

# Two members, five shows; show 4 is member 0's like (excluded for the whole group).
# Candidates are shows 0..3. Member 0 ranks them 0 > 1 > 2 > 3: fits 1, 2/3, 1/3, 0.
# Member 1 ranks them 2 > 1 > 0 > 3: fits 1/3, 2/3, 1, 0. Means: 2/3, 2/3, 2/3, 0.
SCORES = np.array([[5.0, 4.0, 1.0, 0.0, -INF], [1.0, 4.0, 5.0, 0.0, 2.0]])


def test_fit_is_the_share_of_candidates_ranked_lower() -> None:
    candidates = np.isfinite(SCORES).all(axis=0)
    fit = member_fit(SCORES, candidates)
    np.testing.assert_allclose(fit[0], [1, 2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(fit[1], [1 / 3, 2 / 3, 1, 0, 0])


def test_ties_share_the_lowest_fit() -> None:
    # No signal (all zeros) is no fit at all, not a middling one.
    fit = member_fit(np.array([[2.0, 0.0, 0.0, 0.0]]), np.ones(4, dtype=bool))
    np.testing.assert_allclose(fit, [[1, 0, 0, 0]])


def test_one_candidate_has_no_order() -> None:
    assert member_fit(np.array([[3.0, -INF]]), np.array([True, False])).tolist() == [[0, 0]]


def test_average_ties_go_to_the_lower_index() -> None:
    ranking = rank_group(SCORES, 5, "average")
    assert ranking.shows.tolist() == [0, 1, 2, 3]  # show 4 is a member's like
    np.testing.assert_allclose(ranking.score, [2 / 3, 2 / 3, 2 / 3, 0])
    assert not ranking.vetoed.any()


def test_least_misery_serves_the_least_served_member() -> None:
    ranking = rank_group(SCORES, 4, "least-misery")
    # Minimum fits: 1/3, 2/3, 1/3, 0; shows 0 and 2 tie on minimum and mean: lower index first.
    assert ranking.shows.tolist() == [1, 0, 2, 3]
    np.testing.assert_allclose(ranking.score, [2 / 3, 1 / 3, 1 / 3, 0])
    np.testing.assert_allclose(ranking.fit, [[2 / 3, 1, 1 / 3, 0], [2 / 3, 1 / 3, 1, 0]])


def test_average_without_misery_drops_a_show_in_anyones_bottom_half() -> None:
    ranking = rank_group(SCORES, 4)
    # Only show 1 is in nobody's bottom half (fit < 0.5); the vetoed ones only fill the list.
    assert ranking.shows.tolist() == [1, 0, 2, 3]
    assert ranking.vetoed.tolist() == [False, True, True, True]
    # A lower share vetoes less: at 0.3 only show 3 (fit 0 for both) is dropped.
    lenient = rank_group(SCORES, 4, misery_share=0.3)
    assert lenient.shows.tolist() == [0, 1, 2, 3]
    assert lenient.vetoed.tolist() == [False, False, False, True]


def test_average_lets_the_majority_outvote_one_member() -> None:
    # Members 0 and 1 love show 0, member 2 ranks it last; nobody ranks show 1 last.
    # Fits: show 0 (1, 1, 0), show 1 (2/3, 1/3, 2/3); means 2/3 and 5/9, minimums 0 and 1/3.
    scores = np.array([[3.0, 2.0, 1.0, 0.0], [3.0, 1.0, 0.0, 2.0], [0.0, 2.0, 3.0, 1.0]])
    assert rank_group(scores, 1, "average").shows.tolist() == [0]
    assert rank_group(scores, 1, "least-misery").shows.tolist() == [1]
    without_misery = rank_group(scores, 1, "average-without-misery", misery_share=0.3)
    assert without_misery.shows.tolist() == [1]
    np.testing.assert_allclose(without_misery.score, [5 / 9])


def test_n_cuts_and_bad_input_is_refused() -> None:
    assert len(rank_group(SCORES, 2).shows) == 2
    with pytest.raises(ValueError, match="unknown strategy"):
        rank_group(SCORES, 2, "median")
    with pytest.raises(ValueError, match="n must be positive"):
        rank_group(SCORES, 0)
    with pytest.raises(ValueError, match="finite or -inf"):
        rank_group(np.array([[1.0, np.nan]]), 1)
    with pytest.raises(ValueError, match="members x shows"):
        rank_group(np.array([1.0, 2.0]), 1)


def test_the_api_names_the_same_strategies() -> None:
    assert get_args(group_schema.Strategy) == STRATEGIES
    assert group_schema.DEFAULT_STRATEGY == DEFAULT_STRATEGY
