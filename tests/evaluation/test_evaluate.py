"""evaluate / tuning / run_evaluation: same inputs give the same numbers; test data unseen."""

from __future__ import annotations

import numpy as np
import pytest

from nextshow.evaluation.dataset import InteractionRow, Interactions, build_interactions
from nextshow.evaluation.evaluate import RunOptions, evaluate, parse_model_names
from nextshow.evaluation.protocol import Protocol, run_evaluation
from nextshow.evaluation.splits import TemporalHoldout, validation_split
from nextshow.evaluation.tuning import expand_grid, grid_search


def _interactions(seed: int = 0, users: int = 80, shows: int = 40) -> Interactions:
    """Random likes with a popularity skew and increasing timestamps (deterministic)."""
    return build_interactions(_rows(seed, users, shows))


def _rows(seed: int = 0, users: int = 80, shows: int = 40) -> list[InteractionRow]:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, shows + 1)
    rows = []
    t = 1_000_000
    for u in range(users):
        n = int(rng.integers(3, 15))
        for s in rng.choice(shows, size=n, replace=False, p=weights / weights.sum()):
            t += int(rng.integers(1, 1000))
            rows.append(InteractionRow(f"u{u}", f"tt{s:07d}", float(rng.integers(6, 11)), None, t))
    return rows


def test_evaluate_is_deterministic_and_scores_test_users() -> None:
    data = _interactions()
    split = TemporalHoldout().split(data.likes, data.timestamps)
    a = evaluate("itemknn", {"k": 10}, split, metadata=data.metadata)
    b = evaluate("itemknn", {"k": 10}, split, metadata=data.metadata)
    assert a.metrics == b.metrics
    assert a.users == len(split.test_users)
    assert set(a.metrics) == {
        *("precision@10", "recall@10", "ndcg@10", "hit@10", "coverage@10"),
        *("novelty@10", "personalization@10", "longtail_ndcg@10"),
    }
    assert a.artifact_bytes is not None and a.artifact_bytes > 0
    assert a.params["k"] == 10


def test_popularity_by_hand() -> None:
    """u0 liked a then b then c (time order); u1 liked a, b; u2 liked a. Held out for u0: c.

    Train counts: a 3, b 2 -> top-1 for u0 (a, b excluded) is the next show by index: c.
    """
    rows = [
        InteractionRow("u0", "a", 9, None, 1),
        InteractionRow("u0", "b", 9, None, 2),
        InteractionRow("u0", "c", 9, None, 3),
        InteractionRow("u1", "a", 9, None, 1),
        InteractionRow("u1", "b", 9, None, 1),
        InteractionRow("u2", "a", 9, None, 1),
    ]
    data = build_interactions(rows)
    split = TemporalHoldout(min_likes=3).split(data.likes, data.timestamps)
    result = evaluate("popularity", {}, split, options=RunOptions(k=1))
    assert result.metrics["precision@1"] == 1.0
    assert result.metrics["ndcg@1"] == 1.0
    assert result.metrics["coverage@1"] == pytest.approx(1 / 3)


def test_grid_search_picks_best_on_validation_only() -> None:
    data = _interactions()
    split = TemporalHoldout().split(data.likes, data.timestamps)
    validation = validation_split(split)
    grid = {"k": [1, 5, 20]}
    search = grid_search("itemknn", grid, validation)
    scores = [trial["metrics"]["ndcg@10"] for trial in search.trials]
    assert [trial["params"] for trial in search.trials] == expand_grid(grid)
    assert search.best_score == max(scores)
    assert search.best_params == expand_grid(grid)[scores.index(max(scores))]


def test_run_evaluation_twice_gives_the_same_numbers() -> None:
    data = _interactions(seed=3)
    grids = {"itemknn": {"k": [2, 10]}, "popularity": {}}
    runs = [
        run_evaluation(data, ["popularity", "itemknn"], grids=grids, protocol=Protocol())
        for _ in range(2)
    ]
    first, second = (r.as_dict() for r in runs)
    for run in (first, second):
        for model in run["models"]:
            model.pop("fit_seconds")
            model.pop("recommend_seconds")
            for trial in model["tuning"]:
                trial.pop("fit_seconds")
    assert first == second
    itemknn = runs[0].models[1]
    assert len(itemknn.tuning) == 2
    assert itemknn.params["k"] in (2, 10)
    assert runs[0].validation is not None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"k must be in \[1, 1000\]"):
        RunOptions(k=0)
    with pytest.raises(ValueError, match="unknown model"):
        parse_model_names("popularity,nope")
    with pytest.raises(ValueError, match="non-empty list"):
        expand_grid({"k": []})
    with pytest.raises(ValueError):
        run_evaluation(_interactions(), ["popularity"], protocol=Protocol(min_likes=1))


def _untimed(seed: int = 0) -> Interactions:
    """The same kind of likes without any timestamp."""
    rows = [r._replace(timestamp=None) for r in _rows(seed)]
    return build_interactions(rows)


def test_models_all_runs_to_the_end_with_and_without_timestamps() -> None:
    """Every registered model either runs or is skipped with its reason; a choice is made."""
    names = parse_model_names("all")
    for data in (_interactions(seed=5), _untimed(seed=5)):
        result = run_evaluation(data, names, protocol=Protocol(tune=False))
        ran = {m.model for m in result.models}
        skipped = {s.model: s.reason for s in result.skipped}
        assert ran | set(skipped) == set(names)
        assert result.selected in ran
        assert result.as_dict()["selected"] == result.selected
        if data.timestamps is None:
            assert result.split["rule"] == "random"
            assert "timestamps" in skipped["recent-popularity"]
            assert "timestamps" in skipped["time-aware"]
        else:
            assert result.split["rule"] == "global-time"
        # This data has genres and years but no IMDb people: content models wait for them.
        assert "credits" in skipped["content"] and "credits" in skipped["hybrid"]
        assert set(skipped) - {"content", "hybrid"} <= {"recent-popularity", "time-aware", "blend"}
        if data.timestamps is not None:
            assert set(skipped) == {"content", "hybrid"}


def test_time_budget_skips_the_candidates_that_start_after_it() -> None:
    data = _interactions(seed=6)
    result = run_evaluation(
        data,
        ["popularity", "itemknn", "rp3beta"],
        protocol=Protocol(time_budget=1e-9),
    )
    assert [m.model for m in result.models] == ["popularity"]  # the first always starts
    assert all("time budget" in s.reason for s in result.skipped)


def test_quick_candidates_are_known_fast_models_with_the_floor_reference() -> None:
    """``quick`` (a first start's choice) keeps "all"'s order and includes popularity, whose
    coverage sets the floor; the multi-fit and dense models wait for the full choice."""
    quick = parse_model_names("quick")
    assert quick == [name for name in parse_model_names("all") if name in quick]
    assert "popularity" in quick
    assert not {"ease", "blend", "ranker", "als"} & set(quick)
    result = run_evaluation(_interactions(seed=5), quick, protocol=Protocol(tune=False))
    assert result.selected in quick
