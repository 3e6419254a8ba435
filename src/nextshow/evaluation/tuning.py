"""Grid search on the validation split: the test part is never seen while choosing parameters."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nextshow.evaluation.evaluate import ModelEvaluation, ModelFactory, RunOptions, evaluate
from nextshow.evaluation.metrics import metric_key
from nextshow.evaluation.splits import Split
from nextshow.progress import progress_bar
from nextshow.recommenders.base import ShowMetadata

SELECTION_METRIC = "ndcg"


@dataclass(frozen=True)
class SearchResult:
    """The chosen parameters and every trial (params and validation metrics) in grid order."""

    best_params: dict[str, Any]
    best_score: float
    trials: list[dict[str, Any]]
    best_metrics: dict[str, float] = field(default_factory=dict)  # every metric of the best
    stopped_early: bool = False  # the time budget ran out before the last grid point


def expand_grid(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of a ``{param: [values]}`` grid, in declared order (last key fastest)."""
    for key, values in grid.items():
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(f"grid values for {key!r} must be a non-empty list")
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def grid_search(
    model_name: str,
    grid: dict[str, list[Any]],
    validation: Split,
    *,
    metadata: ShowMetadata | None = None,
    options: RunOptions | None = None,
    factory: ModelFactory | None = None,
    deadline: float | None = None,
) -> SearchResult:
    """Score every grid point on ``validation``; the best ``ndcg@k`` wins (earliest on a tie).

    ``validation`` must come from ``splits.validation_split`` so its held-out part is carved from
    the training part only. ``deadline`` (a ``time.monotonic()`` value) stops the search after
    the point that passes it; the first point is always scored.
    """
    options = options or RunOptions()
    trial_options = RunOptions(k=options.k, seed=options.seed, measure_artifact=False)
    return best_of_grid(
        model_name,
        grid,
        lambda params: evaluate(
            model_name,
            params,
            validation,
            metadata=metadata,
            options=trial_options,
            factory=factory,
        ),
        k=options.k,
        progress=options.progress,
        deadline=deadline,
    )


def best_of_grid(
    model_name: str,
    grid: dict[str, list[Any]],
    score: Callable[[dict[str, Any]], ModelEvaluation],
    *,
    k: int,
    progress: bool = False,
    deadline: float | None = None,
) -> SearchResult:
    """Run ``score`` (fit + validation metrics) on every grid point; the best ``ndcg@k`` wins,
    the earliest on a tie. Any engine's evaluation can be searched this way."""
    key = metric_key(SELECTION_METRIC, k)
    trials: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any], dict[str, float]] | None = None
    points = expand_grid(grid)
    stopped = False
    with progress_bar(
        enabled=progress, total=len(points), desc=f"tune {model_name}", unit="fit", leave=False
    ) as bar:
        for params in points:
            result = score(params)
            trials.append(
                {"params": params, "metrics": result.metrics, "fit_seconds": result.fit_seconds}
            )
            value = result.metrics[key]
            if best is None or value > best[0]:
                best = (value, params, result.metrics)
            bar.update(1)
            if deadline is not None and time.monotonic() > deadline and len(trials) < len(points):
                stopped = True
                break
    assert best is not None  # expand_grid never returns an empty list
    return SearchResult(
        best_params=dict(best[1]),
        best_score=best[0],
        trials=trials,
        best_metrics=dict(best[2]),
        stopped_early=stopped,
    )
