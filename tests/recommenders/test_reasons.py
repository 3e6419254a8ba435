"""The reason rules: contributors first, popularity named when it carries the score."""

from __future__ import annotations

import pytest

from nextshow.recommenders.reasons import (
    BECAUSE,
    MOST_POPULAR,
    POPULAR,
    Reason,
    nothing_known,
    reason_for,
)

TITLES = {1: "Pulp Fiction", 2: "The Dark Knight", 3: "Inception", 4: "Heat"}


def test_personal_reason_names_at_most_three_contributors_in_order() -> None:
    reason = reason_for([3, 1, 2, 4], popularity_share=0.1)
    assert reason == Reason(BECAUSE, (3, 1, 2))
    assert reason.text(TITLES) == "Because you liked Inception, Pulp Fiction and The Dark Knight."
    assert reason_for([2], 0.0).text(TITLES) == "Because you liked The Dark Knight."


def test_popularity_carrying_the_score_is_said_with_the_top_contributor() -> None:
    reason = reason_for([2, 1, 3], popularity_share=0.8)
    assert reason == Reason(POPULAR, (2,))
    assert reason.text(TITLES) == "Popular this month with people who like The Dark Knight."
    assert reason.text(TITLES, recent=False) == "Popular with people who like The Dark Knight."
    assert reason_for([2], popularity_share=0.5).kind == POPULAR  # half is "most"


def test_no_contributor_never_claims_a_liked_show() -> None:
    reason = reason_for([], popularity_share=0.0)
    assert reason == Reason(POPULAR, ())
    assert reason.text(TITLES) == "Popular this month."


def test_nothing_known_says_so_plainly() -> None:
    reason = nothing_known()
    assert reason.kind == MOST_POPULAR and reason.shows == ()
    assert "most popular" in reason.text(TITLES)
    assert "because" not in reason.text(TITLES).lower()


def test_share_outside_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="popularity_share"):
        reason_for([1], 1.5)
