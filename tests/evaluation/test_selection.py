"""Model choice: candidates that cannot run are skipped with their reason; the coverage floor."""

from __future__ import annotations

from nextshow.evaluation.selection import Skipped, cannot_run, choose

K = 10


def _m(ndcg: float, coverage: float) -> dict[str, float]:
    return {"ndcg@10": ndcg, "coverage@10": coverage}


def test_best_ndcg_among_candidates_above_ten_times_popularity_coverage() -> None:
    scores = {
        "popularity": _m(0.09, 0.004),  # floor = 10 x 0.004 = 0.04
        "recent-popularity": _m(0.12, 0.003),  # best NDCG but one list for all: below the floor
        "ease": _m(0.06, 0.09),
        "ranker": _m(0.10, 0.05),
    }
    choice = choose(scores, K)
    assert choice.selected == "ranker"
    assert choice.floor == 0.04
    assert choice.eligible == ["ease", "ranker"]
    assert choice.below_floor == ["popularity", "recent-popularity"]
    assert "ranker" in choice.explain()


def test_first_listed_wins_a_tie_and_no_floor_without_popularity() -> None:
    choice = choose({"a": _m(0.1, 0.001), "b": _m(0.1, 0.5)}, K)
    assert choice.floor == 0.0
    assert choice.selected == "a"


def test_nobody_above_the_floor_still_chooses_and_says_so() -> None:
    choice = choose({"popularity": _m(0.09, 0.01), "x": _m(0.05, 0.02)}, K)
    assert choice.selected == "popularity"
    assert "no candidate reached" in choice.note


def test_skipped_candidates_are_reported_with_their_reason() -> None:
    skipped = [Skipped("time-aware", "needs like timestamps; this data has none")]
    choice = choose({"itemknn": _m(0.05, 0.1)}, K, skipped=skipped)
    assert choice.as_dict()["skipped"] == [
        {"model": "time-aware", "reason": "needs like timestamps; this data has none"}
    ]
    assert choose({}, K).selected is None


def test_cannot_run_names_the_reason() -> None:
    assert cannot_run("itemknn", has_timestamps=False, n_shows=100) is None
    assert "timestamps" in cannot_run("recent-popularity", has_timestamps=False, n_shows=100)
    assert "timestamps" in cannot_run("blend", has_timestamps=False, n_shows=100)
    assert cannot_run("time-aware", has_timestamps=True, n_shows=100) is None
    assert "GiB" in cannot_run("ease", has_timestamps=True, n_shows=200_000)
    assert "credits" in cannot_run("content", has_timestamps=True, n_shows=100, has_credits=False)
    assert cannot_run("content", has_timestamps=True, n_shows=100, has_credits=True) is None
