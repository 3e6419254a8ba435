"""Fit a model on a split's training part and score its top-k on the held-out part.

``evaluate`` scores one model with fixed parameters; ``run_evaluation`` is the whole protocol the
CLI and the training pipeline share: split, tune on validation (optional), refit on the full
training part with the chosen parameters, score the test part, for each model in turn.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nextshow.evaluation.dataset import Interactions
from nextshow.evaluation.metrics import metric_key, score_users
from nextshow.evaluation.splits import Split, make_holdout, validation_split
from nextshow.progress import progress_bar
from nextshow.recommenders.base import Recommender, ShowMetadata

log = logging.getLogger(__name__)

DEFAULT_K = 10
DEFAULT_SEED = 42
SEED_PARAMS = ("seed", "random_state")  # hyperparameter names models use for their seed
BATCH_USERS = 256  # users per recommend_batch call: large enough to vectorise, small for memory

ModelFactory = Callable[..., Recommender]  # (**params) -> an unfitted model


@dataclass(frozen=True)
class RunOptions:
    """How to run an evaluation; travels unchanged from the CLI to every model."""

    k: int = DEFAULT_K
    seed: int = DEFAULT_SEED
    progress: bool = False
    measure_artifact: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.k <= 1000:
            raise ValueError(f"k must be in [1, 1000], got {self.k}")


@dataclass
class ModelEvaluation:
    """One model's score on one split, with what it cost."""

    model: str
    params: dict[str, Any]  # every hyperparameter of the fitted model, defaults included
    metrics: dict[str, float]
    users: int  # test users scored
    fit_seconds: float
    recommend_seconds: float
    artifact_bytes: int | None  # None when not measured (tuning trials)
    tuning: list[dict[str, Any]] = field(default_factory=list)  # validation trials, grid order
    chosen: dict[str, Any] = field(default_factory=dict)  # the params set explicitly (grid pick)

    def metric(self, name: str, k: int) -> float:
        return self.metrics[metric_key(name, k)]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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
        return {
            "k": self.k,
            "seed": self.seed,
            "min_likes": self.min_likes,
            "tuned": self.tuned,
            "data": self.data,
            "split": self.split,
            "validation": self.validation,
            "models": [m.as_dict() for m in self.models],
        }


def registry_factory(name: str) -> ModelFactory:
    """A factory creating ``name`` from the project's recommender registry."""
    from nextshow.recommenders import registry

    return lambda **params: registry.create(name, **params)


def parse_model_names(text: str) -> list[str]:
    """``"all"`` or ``"a,b,c"`` -> registered model names, in the given (or registry) order.

    Unknown names raise ValueError listing the known ones, before any data is read.
    """
    from nextshow.recommenders import registry

    known = registry.names()
    if text.strip() == "all":
        if not known:
            raise ValueError("no recommenders are registered")
        return known
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("--models needs 'all' or comma-separated model names")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return list(dict.fromkeys(names))  # a model named twice is evaluated once


def make_model(factory: ModelFactory, params: dict[str, Any], seed: int) -> Recommender:
    """Create a model; a model with a seed hyperparameter gets ``seed`` unless params set one."""
    model = factory(**params)
    defaults = model.get_params()
    extra = {p: seed for p in SEED_PARAMS if p in defaults and p not in params}
    return factory(**params, **extra) if extra else model


def recommend_users(
    model: Recommender,
    split: Split,
    users: Sequence[int] | np.ndarray,
    k: int,
    *,
    progress: bool = False,
    desc: str = "users",
) -> list[list[int]]:
    """Top-k show indices for each user, recommended from their training likes only.

    Users go to ``recommend_batch`` in chunks: vectorised scoring where the model has it, and a
    progress bar that moves.
    """
    liked = [split.liked(int(u)) for u in users]
    out: list[list[int]] = []
    with progress_bar(
        enabled=progress, total=len(liked), desc=desc, unit="user", leave=False
    ) as bar:
        for start in range(0, len(liked), BATCH_USERS):
            chunk = liked[start : start + BATCH_USERS]
            out.extend([r.show for r in recs] for recs in model.recommend_batch(chunk, k))
            bar.update(len(chunk))
    return out


def _artifact_bytes(model: Recommender) -> int:
    """Bytes on disk of everything ``save`` writes (a file or a folder)."""
    with tempfile.TemporaryDirectory(prefix="nextshow-eval-") as tmp:
        model.save(Path(tmp) / "model")
        return sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())


def evaluate(
    model_name: str,
    params: dict[str, Any],
    split: Split,
    *,
    metadata: ShowMetadata | None = None,
    options: RunOptions | None = None,
    factory: ModelFactory | None = None,
) -> ModelEvaluation:
    """Fit ``model_name`` with ``params`` on ``split.train``, score top-k on ``split.test``.

    ``factory`` defaults to the recommender registry; the quality benchmark passes its own for
    models outside the registry. Fit time is wall-clock seconds of ``fit`` alone.
    """
    options = options or RunOptions()
    factory = factory or registry_factory(model_name)
    model = make_model(factory, params, options.seed)
    started = time.perf_counter()
    model.fit(split.train, metadata, split.train_timestamps)
    fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    recommendations = recommend_users(
        model, split, split.test_users, options.k, progress=options.progress, desc=model_name
    )
    recommend_seconds = time.perf_counter() - started
    relevant = [split.held_out(int(u)) for u in split.test_users]
    scores = score_users(recommendations, relevant, options.k, split.n_shows)
    users = int(scores.pop("users"))
    scores.pop("users_dropped")
    return ModelEvaluation(
        model=model_name,
        params=model.get_params(),
        metrics=scores,
        users=users,
        fit_seconds=fit_seconds,
        recommend_seconds=recommend_seconds,
        artifact_bytes=_artifact_bytes(model) if options.measure_artifact else None,
        chosen=dict(params),
    )


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
    ``factories`` default to ``evaluation.grids.GRIDS`` and the recommender registry. ``seed``
    reaches every model with a ``seed``/``random_state`` hyperparameter; the registry's models
    seed themselves with the project seed (42), so the same inputs give the same numbers.
    """
    from nextshow.evaluation.grids import GRIDS
    from nextshow.evaluation.tuning import grid_search

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
            factory = factories.get(name) or registry_factory(name)
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
