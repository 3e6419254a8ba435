"""Holdout metrics for a Spark-trained model, computed on the driver for a seeded user sample.

Fitting needs every like; scoring a ranking metric needs only the scored users' likes. So the
model is fitted on Spark, and the metrics are computed by the function ``nextshow evaluate``
scores with (:func:`~nextshow.evaluation.evaluate.score_lists`: accuracy, coverage and the
beyond-accuracy metrics, against the whole training part's like counts computed on Spark) for a
sample of test users drawn with the project seed. When the sample holds every test user the
metrics are the NumPy engine's, number for number (for the same arrays).

A sample of n users estimates a mean metric with standard error ``sd / sqrt(n)``: per-user
NDCG@10 has a standard deviation around 0.3, so 20,000 users give about +-0.002, well below the
differences the gate is meant to notice. Smaller samples call for a gate tolerance above twice
that error.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from nextshow.evaluation.evaluate import ModelEvaluation, recommend_users, score_lists
from nextshow.evaluation.splits import DEFAULT_TEST_FRACTION, Split, sample_users
from nextshow.recommenders.base import Recommender
from nextshow.spark.frames import COL, USER
from nextshow.spark.split import SparkSplit

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def sample_test_users(split: SparkSplit, max_users: int | None, seed: int) -> np.ndarray:
    """Sorted database ids of at most ``max_users`` (None: all) test users, drawn with ``seed``."""
    table = split.test.select(USER).distinct().orderBy(USER).toArrow()
    return sample_users(table.column(USER).to_numpy(), max_users, seed)


def _rows(spark: SparkSession, frame: DataFrame, users: np.ndarray, n_shows: int) -> sp.csr_matrix:
    """The likes of ``users`` (in that order) as a len(users) x n_shows indicator CSR."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    wanted = spark.createDataFrame(pa.table({USER: users}))
    table = frame.join(F.broadcast(wanted), USER).select(USER, COL).toArrow()
    rows = np.searchsorted(users, np.asarray(table.column(USER).to_numpy(), dtype=np.int64))
    cols = np.asarray(table.column(COL).to_numpy(), dtype=np.int64)
    data = np.ones(len(rows), dtype=np.float64)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(users), n_shows))
    matrix.sort_indices()
    return matrix


def sample_split(
    spark: SparkSession, split: SparkSplit, n_shows: int, *, max_users: int | None, seed: int
) -> Split:
    """The sampled test users' training and held-out likes as an ordinary :class:`Split`."""
    users = sample_test_users(split, max_users, seed)
    train = _rows(spark, split.train, users, n_shows)
    test = _rows(spark, split.test, users, n_shows)
    return Split(
        train=train,
        train_timestamps=None,
        test=test,
        test_users=np.arange(len(users), dtype=np.int64),
        min_likes=0,  # not re-split: the sample's rule is the Spark split's
        test_fraction=DEFAULT_TEST_FRACTION,
    )


def score_sample(
    model: Recommender,
    sample: Split,
    popularity: np.ndarray,
    *,
    k: int,
    seed: int,
    fit_seconds: float,
    chosen: dict[str, Any],
) -> ModelEvaluation:
    """``model``'s top-k metrics on a sampled split (the ``evaluate`` protocol's second half);
    ``popularity``: likes per show in the whole training part (not only the sample's)."""
    started = time.perf_counter()
    recommendations = recommend_users(model, sample, sample.test_users, k)
    recommend_seconds = time.perf_counter() - started
    relevant = sample.test[sample.test_users]
    scores, users = score_lists(recommendations, relevant, popularity, k=k, seed=seed)
    return ModelEvaluation(
        model=model.name,
        params=model.get_params(),
        metrics=scores,
        users=users,
        fit_seconds=fit_seconds,
        recommend_seconds=recommend_seconds,
        artifact_bytes=None,
        chosen=dict(chosen),
    )
