"""The training pipeline's Spark engine: evaluate a recipe on the holdout, fit on every like.

The same :class:`~nextshow.evaluation.protocol.Protocol` as the NumPy engine
(:func:`nextshow.pipeline.train.evaluate_recipe`): its split rule (:mod:`.split`); with tuning,
the model's grid searched on a validation split carved from the training part by the same rule;
the test part scored once with the chosen parameters. Fitting runs on Spark; scoring runs on the
driver for a seeded sample of users with the NumPy engine's scoring function (:mod:`.evaluate`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nextshow.config import Settings
from nextshow.evaluation.evaluate import ModelEvaluation
from nextshow.evaluation.grids import grid_for
from nextshow.evaluation.protocol import Protocol
from nextshow.evaluation.selection import Choice, Skipped, cannot_run, choose
from nextshow.evaluation.splits import Split
from nextshow.evaluation.tuning import best_of_grid
from nextshow.recommenders import Recommender
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.spark.evaluate import sample_split, score_sample
from nextshow.spark.frames import SparkLikes, read_likes
from nextshow.spark.models import check_spark_model, fit_on_spark, spark_models
from nextshow.spark.popularity import like_counts
from nextshow.spark.session import get_spark
from nextshow.spark.split import SparkSplit, protocol_holdout

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

ENGINE = "spark"


@dataclass
class SparkTraining:
    """One snapshot's likes on Spark, ready to evaluate recipes and fit final models."""

    spark: SparkSession
    likes: SparkLikes

    @classmethod
    def open(cls, settings: Settings, store: ArtifactStore, snapshot_id: str) -> SparkTraining:
        spark = get_spark(settings)
        return cls(spark, read_likes(spark, store, snapshot_id))

    @property
    def n_shows(self) -> int:
        return self.likes.n_shows

    def split(self, likes: DataFrame, protocol: Protocol) -> SparkSplit:
        return protocol_holdout(likes, protocol, timed=self.likes.timed)

    def fit(
        self, model: str, params: dict[str, Any], likes: DataFrame | None = None
    ) -> Recommender:
        """``model`` fitted on Spark on ``likes`` (default: every like of the snapshot)."""
        frame = self.likes.frame if likes is None else likes
        return fit_on_spark(model, params, frame, self.likes.vocabulary, timed=self.likes.timed)

    def sample(self, split: SparkSplit, protocol: Protocol) -> tuple[Split, np.ndarray]:
        """The protocol's seeded sample of ``split``'s test users (``max_test_users``, as on the
        NumPy engine), and the training part's likes per show."""
        sample = sample_split(
            self.spark, split, self.n_shows, max_users=protocol.max_test_users, seed=protocol.seed
        )
        return sample, like_counts(split.train, self.n_shows)

    def _fit_and_score(
        self,
        model: str,
        params: dict[str, Any],
        train: DataFrame,
        sample: tuple[Split, np.ndarray],
        protocol: Protocol,
    ) -> ModelEvaluation:
        started = time.perf_counter()
        fitted = self.fit(model, params, train)
        fit_seconds = time.perf_counter() - started
        users, popularity = sample
        return score_sample(
            fitted,
            users,
            popularity,
            k=protocol.k,
            seed=protocol.seed,
            fit_seconds=fit_seconds,
            chosen=params,
        )

    def evaluate(self, model: str, params: dict[str, Any], protocol: Protocol) -> ModelEvaluation:
        """Holdout metrics of ``model`` under ``protocol``: ``params`` as given, or (no params,
        ``protocol.tune``) tuned on validation."""
        check_spark_model(model)
        split = self.split(self.likes.frame, protocol)
        chosen, trials, validation_scores = dict(params), [], {}
        grid = grid_for(model)
        if protocol.tune and not params and grid:
            validation = self.split(split.train, protocol)
            val_sample = self.sample(validation, protocol)
            search = best_of_grid(
                model,
                grid,
                lambda p: self._fit_and_score(model, p, validation.train, val_sample, protocol),
                k=protocol.k,
            )
            chosen, trials = search.best_params, search.trials
            validation_scores = dict(search.best_metrics)
        sample = self.sample(split, protocol)
        result = self._fit_and_score(model, chosen, split.train, sample, protocol)
        result.tuning = trials
        result.validation = validation_scores
        log.info("spark %s %s: %s on %d test users", model, chosen, result.metrics, result.users)
        return result

    def choose(self, names: list[str], protocol: Protocol) -> tuple[ModelEvaluation, Choice]:
        """Every candidate in ``names`` that Spark trains and this data allows, each tuned and
        scored as :meth:`evaluate` does; the choice is the NumPy engine's rule
        (:func:`~nextshow.evaluation.selection.choose`: gate metric on validation, coverage
        floor), so both engines pick alike from the same scores. Returns the chosen model's
        evaluation and the choice."""
        results: dict[str, ModelEvaluation] = {}
        skipped: list[Skipped] = []
        for name in names:
            reason = (
                f"has no Spark engine (Spark trains {', '.join(spark_models())})"
                if name not in spark_models()
                else cannot_run(name, has_timestamps=self.likes.timed, n_shows=self.n_shows)
            )
            if reason is not None:
                log.info("spark: skipped %s: %s", name, reason)
                skipped.append(Skipped(name, reason))
                continue
            results[name] = self.evaluate(name, {}, protocol)
        scores = {name: (m.validation or m.metrics) for name, m in results.items()}
        choice = choose(scores, protocol.k, skipped=skipped)
        if choice.selected is None:
            reasons = "; ".join(f"{s.model}: {s.reason}" for s in skipped)
            raise ValueError(f"no candidate model could run on Spark ({reasons})")
        log.info("%s", choice.explain())
        return results[choice.selected], choice

    def close(self) -> None:
        """Drop the cached likes (the session stays: spark-submit or the caller owns it)."""
        self.likes.frame.unpersist()
