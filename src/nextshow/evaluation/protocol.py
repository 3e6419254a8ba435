"""The evaluation protocol the CLI, the quality benchmark and the training pipeline share.

For each model in turn: split, tune on validation (optional, :mod:`.tuning`), refit on the full
training part with the chosen parameters, score the test part once (:mod:`.evaluate`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from nextshow.evaluation.dataset import Interactions
from nextshow.evaluation.evaluate import (
    DEFAULT_K,
    DEFAULT_SEED,
    ModelEvaluation,
    ModelFactory,
    RunOptions,
    evaluate,
    kind_factory,
)
from nextshow.evaluation.grids import GRIDS
from nextshow.evaluation.splits import make_holdout, validation_split
from nextshow.evaluation.tuning import grid_search
from nextshow.progress import progress_bar

log = logging.getLogger(__name__)


@dataclass
class EvaluationResult:
    """Every model's test score from one run of the protocol, and how the run was set up."""

    models: list[ModelEvaluation]
    k: int
    seed: int
    min_likes: int
    tuned: bool
    data: dict[str, Any]
    split: dict[str, Any]
    validation: dict[str, Any] | None

    def best(self, metric: str = "ndcg") -> ModelEvaluation:
        """The model with the highest ``metric@k`` (first listed wins a tie)."""
        if not self.models:
            raise ValueError("no models were evaluated")
        return max(self.models, key=lambda m: m.metric(metric, self.k))

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["models"] = body.pop("models")  # last: the report's JSON has always listed it last
        return body


def run_evaluation(
    interactions: Interactions,
    model_names: Sequence[str],
    *,
    k: int = DEFAULT_K,
    min_likes: int = 5,
    tune: bool = True,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    split_rule: str = "user-time",
    grids: dict[str, dict[str, list[Any]]] | None = None,
    factories: dict[str, ModelFactory] | None = None,
) -> EvaluationResult:
    """The whole protocol for each model: tune on validation (when ``tune``), refit, score test.

    The test part is used exactly once per model, after its parameters are fixed. ``grids`` and
    ``factories`` default to ``evaluation.grids.GRIDS`` and the model kinds table. ``seed``
    reaches every model with a ``seed``/``random_state`` hyperparameter; the built-in models
    seed themselves with the project seed (42), so the same inputs give the same numbers.
    """
    if not model_names:
        raise ValueError("at least one model name is needed")
    grids = GRIDS if grids is None else grids
    factories = factories or {}
    options = RunOptions(k=k, seed=seed, progress=progress)
    split = make_holdout(split_rule, min_likes).split(interactions.likes, interactions.timestamps)
    validation = validation_split(split) if tune else None

    results: list[ModelEvaluation] = []
    with progress_bar(enabled=progress, total=len(model_names), desc="models", unit="model") as bar:
        for name in model_names:
            bar.set_postfix_str(name)
            factory = factories.get(name) or kind_factory(name)
            params: dict[str, Any] = {}
            trials: list[dict[str, Any]] = []
            if validation is not None and grids.get(name):
                search = grid_search(
                    name,
                    grids[name],
                    validation,
                    metadata=interactions.metadata,
                    options=options,
                    factory=factory,
                )
                params, trials = search.best_params, search.trials
            log.info("evaluating %s with %s", name, params)
            result = evaluate(
                name,
                params,
                split,
                metadata=interactions.metadata,
                options=options,
                factory=factory,
            )
            result.tuning = trials
            results.append(result)
            log.info(
                "%s: ndcg@%d %.4f (fit %.1fs, %d tuning fits)",
                name,
                k,
                result.metric("ndcg", k),
                result.fit_seconds,
                len(trials),
            )
            bar.update(1)
    return EvaluationResult(
        models=results,
        k=k,
        seed=seed,
        min_likes=min_likes,
        tuned=tune,
        data=interactions.describe(),
        split=split.describe(),
        validation=validation.describe() if validation is not None else None,
    )
