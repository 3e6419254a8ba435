"""One candidate model through the protocol: can it run, tune it on validation, score it on test.

A candidate that cannot run on the data (no timestamps, too many shows for a dense model), that
starts after the time budget is spent, or whose fit fails is skipped with a one-line reason,
so ``nextshow evaluate --models all`` and the pipeline's choice always run to the end.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from nextshow.evaluation.dataset import Interactions
from nextshow.evaluation.evaluate import ModelEvaluation, ModelFactory, RunOptions, evaluate
from nextshow.evaluation.selection import Skipped, cannot_run
from nextshow.evaluation.splits import Split
from nextshow.evaluation.tuning import grid_search

log = logging.getLogger(__name__)

# Failures that mean "this model cannot run on this data", not a bug in the harness.
MODEL_FAILURES = (ValueError, np.linalg.LinAlgError, MemoryError)


def run_candidate(
    name: str,
    interactions: Interactions,
    split: Split,
    validation: Split | None,
    *,
    options: RunOptions,
    grid: dict[str, list[Any]] | None,
    factory: ModelFactory,
    registered: bool,
    deadline: float | None,
    first: bool = False,
) -> ModelEvaluation | Skipped:
    """Tune ``name`` on ``validation`` (its grid, or its defaults scored there), then fit on
    ``split.train`` and score ``split.test`` once; or say why it was skipped.

    Past ``deadline`` a candidate is skipped unless it is the ``first`` to run (a run always
    has a result); a grid search stops at the deadline after its first point.
    """
    if registered:
        metadata = interactions.metadata
        reason = cannot_run(
            name,
            has_timestamps=interactions.timestamps is not None,
            n_shows=interactions.n_shows,
            has_credits=metadata is not None and metadata.credits is not None,
        )
        if reason:
            return Skipped(name, reason)
    if deadline is not None and not first and time.monotonic() > deadline:
        return Skipped(name, "the time budget was spent before it started")
    params: dict[str, Any] = {}
    trials: list[dict[str, Any]] = []
    scores: dict[str, float] = {}
    trial = RunOptions(k=options.k, seed=options.seed, measure_artifact=False)
    try:
        if validation is not None and grid:
            search = grid_search(
                name,
                grid,
                validation,
                metadata=interactions.metadata,
                options=options,
                factory=factory,
                deadline=deadline,
            )
            params, trials, scores = search.best_params, search.trials, search.best_metrics
            if search.stopped_early:
                log.warning("%s: time budget reached after %d grid points", name, len(trials))
        elif validation is not None:
            scores = evaluate(
                name, {}, validation, metadata=interactions.metadata, options=trial, factory=factory
            ).metrics
        log.info("evaluating %s with %s", name, params)
        result = evaluate(
            name, params, split, metadata=interactions.metadata, options=options, factory=factory
        )
    except MODEL_FAILURES as err:
        log.warning("%s skipped: %s", name, err)
        return Skipped(name, f"failed on this data: {err}")
    result.tuning = trials
    result.validation = scores
    log.info(
        "%s: ndcg@%d %.4f (fit %.1fs, %d tuning fits)",
        name,
        options.k,
        result.metric("ndcg", options.k),
        result.fit_seconds,
        len(trials),
    )
    return result
