"""Train from a snapshot, evaluate with the evaluation harness, write the artifact, register.

When the final model's recipe is known before the evaluation (a named model with given params,
or its defaults untuned), the final fit runs in a thread beside the evaluation: two independent
fits of the same cost, one per core (at the original scale the ranker's train + register took
12 s one after the other). Otherwise the evaluation decides the params and the fit follows it.

The order makes a crash harmless: the artifact is written under a fresh key first, and the
version row (with its checksum) is inserted last, in one transaction. A crash before that leaves
at most an unreferenced artifact folder, never a half-registered version.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
import typing
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from nextshow import __version__
from nextshow.config import Settings, get_settings
from nextshow.evaluation.dataset import Interactions
from nextshow.evaluation.evaluate import (
    ModelEvaluation,
    RunOptions,
    evaluate,
    kind_factory,
    make_model,
    parse_model_names,
)
from nextshow.evaluation.protocol import Protocol, run_evaluation
from nextshow.evaluation.selection import Choice
from nextshow.evaluation.splits import TemporalHoldout
from nextshow.pipeline.data import interactions_from_snapshot, uses_catalogue
from nextshow.progress import progress_bar
from nextshow.recommenders.base import Recommender
from nextshow.registry.artifact_store import ArtifactStore, folder_sha256
from nextshow.registry.snapshots import read_snapshot
from nextshow.registry.versions import register_version
from nextshow.spark.engine import SparkTraining
from nextshow.spark.models import check_spark_model

log = logging.getLogger(__name__)

STAGES = ("load snapshot", "evaluate", "fit on all data", "write artifact", "register")
ENGINES = ("numpy", "spark")


@dataclass(frozen=True)
class TrainOptions:
    """What to train and how to evaluate it (the same protocol as ``nextshow evaluate``).

    ``model`` None: the pipeline chooses among ``candidates`` (``"all"``: every registered model
    that can run on the data) by the protocol's gate metric on validation, with the coverage
    floor (``evaluation.selection.choose``).
    """

    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    protocol: Protocol = field(default_factory=Protocol)
    candidates: str = "all"
    engine: str = "numpy"  # "spark": fit on Spark, score a seeded user sample on the driver

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.engine == "spark" and self.model is not None:
            check_spark_model(self.model)  # before a JVM is started for nothing


def protocol_from_settings(settings: Settings, **changes: Any) -> Protocol:
    """The protocol every pipeline path uses: the settings' split, time budget and test-user
    sample, seed 42."""
    base = Protocol(
        split=settings.eval_split,
        time_budget=settings.train_time_budget,
        max_test_users=settings.eval_max_test_users or None,
    )
    return base.with_changes(**changes)


def train_options(
    settings: Settings,
    *,
    model: str | None = None,
    params: dict[str, Any] | None = None,
    protocol: Protocol | None = None,
    engine: str = "numpy",
) -> TrainOptions:
    """Options of a pipeline run: ``model``, else the optional override
    ``NEXTSHOW_DEFAULT_MODEL``, else the pipeline chooses among the candidate models."""
    return TrainOptions(
        model=model or settings.default_model,
        params=dict(params or {}),
        protocol=protocol or protocol_from_settings(settings),
        candidates=settings.candidate_models,
        engine=engine,
    )


@dataclass(frozen=True)
class TrainResult:
    version_id: int
    snapshot_id: str
    model: str
    engine: str
    params: dict[str, Any]
    metrics: dict[str, float]
    fit_seconds: float
    artifact_uri: str
    artifact_sha256: str
    artifact_bytes: int
    wall_seconds: float
    choice: dict[str, Any] | None = None  # how the model was chosen (None: it was given)


def git_commit() -> str | None:
    """The source tree's commit when running from a git checkout, else None."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def evaluate_recipe(
    interactions: Interactions, options: TrainOptions, *, progress: bool = False
) -> tuple[ModelEvaluation, Choice | None]:
    """Score a model recipe with the protocol: fixed params as given, one model tuned on
    validation, or (no model) every candidate, choosing one. Returns its evaluation and the
    choice (None when the model was given).

    A store without likes (a fresh TV catalogue) has nothing to tune on or choose with: a named
    model's defaults are scored (every metric 0, no test users) and it still trains, a content
    model being useful; without a model name that is an error naming one that needs no likes.
    """
    protocol = options.protocol
    no_likes = interactions.likes.nnz == 0
    if no_likes and options.model is None:
        raise ValueError("no likes yet, so no model can be chosen: name one (--model content)")
    if options.model is not None and (options.params or no_likes):
        # Nothing to split by time without likes: the per-user holdout gives an empty test part.
        split = (
            TemporalHoldout(min_likes=protocol.min_likes).split(
                interactions.likes, interactions.timestamps
            )
            if no_likes
            else protocol.split_likes(interactions)
        )
        run = RunOptions(
            k=protocol.k, seed=protocol.seed, measure_artifact=False, progress=progress
        )
        evaluation = evaluate(
            options.model, options.params, split, metadata=interactions.metadata, options=run
        )
        return evaluation, None
    names = [options.model] if options.model else parse_model_names(options.candidates)
    result = run_evaluation(interactions, names, protocol=protocol, progress=progress)
    if options.model is not None:
        if not result.models:
            raise ValueError(f"{options.model} cannot run here: {result.skipped[0].reason}")
        return result.models[0], None
    choice = result.choice
    if choice is None or choice.selected is None:
        reasons = "; ".join(f"{s.model}: {s.reason}" for s in result.skipped)
        raise ValueError(f"no candidate model could run on this snapshot ({reasons})")
    log.info("%s", choice.explain())
    return result.get(choice.selected), choice


def fit_final(
    interactions: Interactions, model: str, params: dict[str, Any], seed: int
) -> Recommender:
    """The model that will serve: the chosen params fitted on every like of the snapshot."""
    recommender = make_model(kind_factory(model), params, seed)
    return recommender.fit(interactions.likes, interactions.metadata, interactions.timestamps)


class Trainer(typing.Protocol):
    """What the pipeline needs from a training engine, for one snapshot."""

    def evaluate(
        self, options: TrainOptions, *, progress: bool = False
    ) -> tuple[ModelEvaluation, Choice | None]: ...

    def fit(self, model: str, params: dict[str, Any], seed: int) -> Recommender: ...

    def close(self) -> None: ...


@dataclass
class NumpyTrainer:
    """The snapshot as CSR matrices in this process (the default engine)."""

    interactions: Interactions

    def evaluate(
        self, options: TrainOptions, *, progress: bool = False
    ) -> tuple[ModelEvaluation, Choice | None]:
        # The bars of the evaluation (per model, tuning trial, test user) move inside train's
        # "evaluate" stage, which is most of a training run.
        return evaluate_recipe(self.interactions, options, progress=progress)

    def fit(self, model: str, params: dict[str, Any], seed: int) -> Recommender:
        return fit_final(self.interactions, model, params, seed)

    def close(self) -> None:
        pass


@dataclass
class SparkTrainer:
    """The snapshot's likes on Spark (:mod:`nextshow.spark`); metrics from a sampled holdout."""

    training: SparkTraining

    def evaluate(
        self, options: TrainOptions, *, progress: bool = False
    ) -> tuple[ModelEvaluation, Choice | None]:
        # Spark reports its own progress in its logs and UI; no bar here.
        if options.model is None:
            names = parse_model_names(options.candidates)
            return self.training.choose(names, options.protocol)
        return self.training.evaluate(options.model, options.params, options.protocol), None

    def fit(self, model: str, params: dict[str, Any], seed: int) -> Recommender:
        return self.training.fit(model, params)

    def close(self) -> None:
        self.training.close()


def open_trainer(
    store: ArtifactStore,
    snapshot_id: str,
    engine: str,
    settings: Settings | None = None,
    *,
    model: str | None = None,
) -> Trainer:
    """The snapshot loaded by ``engine`` ("numpy": into this process; "spark": on Spark); a
    content ``model`` sees every catalogue show and the credits (numpy engine)."""
    if engine == "spark":
        training = SparkTraining.open(settings or get_settings(), store, snapshot_id)
        return SparkTrainer(training)
    catalogue = model is not None and uses_catalogue(model)
    return NumpyTrainer(
        interactions_from_snapshot(read_snapshot(store, snapshot_id), catalogue=catalogue)
    )


def evaluate_on_snapshot(
    store: ArtifactStore,
    snapshot_id: str,
    options: TrainOptions,
    settings: Settings | None = None,
) -> ModelEvaluation:
    """``options``' recipe scored on a snapshot by its engine (the gate's re-evaluation)."""
    trainer = open_trainer(store, snapshot_id, options.engine, settings, model=options.model)
    try:
        return trainer.evaluate(options)[0]
    finally:
        trainer.close()


def known_recipe(options: TrainOptions) -> bool:
    """Whether the final model's params are known before the evaluation: a named model with
    given params or untuned defaults, on the in-process engine (Spark fits on its cluster)."""
    return (
        options.engine == "numpy"
        and options.model is not None
        and (bool(options.params) or not options.protocol.tune)
    )


def timed_fit(
    trainer: Trainer, model: str, params: dict[str, Any], seed: int
) -> tuple[Recommender, float]:
    """The final fit and its seconds."""
    started = time.perf_counter()
    return trainer.fit(model, params, seed), time.perf_counter() - started


def train_version(
    sessions: sessionmaker[Session],
    store: ArtifactStore,
    *,
    snapshot_id: str,
    options: TrainOptions,
    progress: bool = False,
    settings: Settings | None = None,
) -> TrainResult:
    """Snapshot -> evaluate -> fit on all data -> artifact -> registered candidate version.

    ``settings`` configure the Spark engine (master, memory, sample size); default: the process's.
    """
    started = time.perf_counter()
    with progress_bar(enabled=progress, total=len(STAGES), desc="train", unit="stage") as bar:

        def stage(name: str) -> None:
            bar.set_postfix_str(name)
            log.info("train %s: %s", options.model or "(choosing)", name)

        stage(STAGES[0])
        trainer = open_trainer(store, snapshot_id, options.engine, settings, model=options.model)
        bar.update(1)

        stage(STAGES[1])
        seed = options.protocol.seed
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="final-fit") as pool:
            early: Future[tuple[Recommender, float]] | None = None
            if options.model is not None and known_recipe(options):
                early = pool.submit(timed_fit, trainer, options.model, options.params, seed)
            evaluation, choice = trainer.evaluate(options, progress=progress)
            model_name = evaluation.model
            bar.update(1)

            stage(STAGES[2])
            fitted = early.result() if early is not None else None
        if fitted is None or fitted[0].get_params() != evaluation.params:
            fitted = timed_fit(trainer, model_name, evaluation.params, seed)
        model, fit_seconds = fitted
        trainer.close()
        bar.update(1)

        stage(STAGES[3])
        key = f"models/{model_name}-{uuid.uuid4().hex[:12]}"
        with tempfile.TemporaryDirectory(prefix="nextshow-train-") as tmp:
            local = Path(tmp) / "model"
            # The artifact carries the model's vocabulary (database and IMDb id of each column,
            # from the snapshot's metadata), so the server needs nothing beside it.
            model.save(local)
            checksum, size = folder_sha256(local)
            store.upload_dir(local, key)
        bar.update(1)

        stage(STAGES[4])
        metrics = {**evaluation.metrics, "test_users": float(evaluation.users)}
        with sessions() as session, session.begin():
            version = register_version(
                session,
                model_name=model_name,
                params=evaluation.params,
                snapshot_id=snapshot_id,
                metrics=metrics,
                fit_seconds=fit_seconds,
                artifact_uri=store.uri(key),
                artifact_sha256=checksum,
                artifact_bytes=size,
                code_version=__version__,
                git_commit=git_commit(),
                engine=options.engine,
            )
            version_id = version.id
        bar.update(1)
    return TrainResult(
        version_id=version_id,
        snapshot_id=snapshot_id,
        model=model_name,
        engine=options.engine,
        params=evaluation.params,
        metrics=metrics,
        fit_seconds=fit_seconds,
        artifact_uri=store.uri(key),
        artifact_sha256=checksum,
        artifact_bytes=size,
        wall_seconds=time.perf_counter() - started,
        choice=choice.as_dict() if choice is not None else None,
    )
