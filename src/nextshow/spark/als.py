"""Implicit-feedback ALS with Spark MLlib, giving the show factors nextshow's ALS serves with.

MLlib solves the same model as ``implicit`` (Hu, Koren, Volinsky, ICDM 2008) with two
differences in parametrisation, translated here so ``factors``, ``regularization``, ``alpha``
and ``iterations`` mean what they mean for :class:`nextshow.recommenders.als.ALS`:

- confidence: MLlib uses ``1 + alpha * r``, implicit ``alpha * r``; a like (r = 1) gets
  nextshow's confidence ``alpha`` with MLlib's ``alpha - 1``;
- regularisation: MLlib scales ``regParam`` by each user's (show's) number of likes (ALS-WR),
  implicit does not. Passing ``regularization`` unchanged regularises heavy users and popular
  shows more; the factors differ, so the scores agree within a tolerance, not bit for bit.

Only the show factors leave Spark: the served model folds a new user in on the driver
(``ALS._scores``), so user factors are never collected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nextshow.recommenders.base import SEED
from nextshow.spark.frames import COL, USER

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

INT_MAX = 2**31 - 1


def als_item_factors(
    likes: DataFrame,
    n_shows: int,
    *,
    factors: int,
    regularization: float,
    alpha: float,
    iterations: int,
    seed: int = SEED,
) -> np.ndarray:
    """Show factors (n_shows x factors, float64) from MLlib's ALS on ``likes`` (user, col)."""
    from pyspark.ml.param import Params
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    # zope.interface (imported with scrapy/twisted by the collector, e.g. earlier in the same
    # test process) leaves a `__provides__` descriptor on typing.Generic that raises
    # AttributeError when read through a subclass; pyspark's Params._copy_params reads every name
    # in dir(cls) of every ML class and would trip over it. A plain attribute on their common base
    # shadows the descriptor.
    if "__provides__" not in Params.__dict__:
        Params.__provides__ = None

    # MLlib needs int ids: database user ids fit (checked, not silently wrapped).
    top = likes.agg(F.max(USER)).first()[0] or 0
    if top > INT_MAX:
        raise ValueError(f"user id {top} does not fit MLlib's int ids; renumber users first")
    ratings = likes.select(
        F.col(USER).cast("int").alias(USER), F.col(COL).alias(COL), F.lit(1.0).alias("r")
    )
    model = ALS(
        rank=factors,
        maxIter=iterations,
        regParam=regularization,
        alpha=alpha - 1.0,
        implicitPrefs=True,
        userCol=USER,
        itemCol=COL,
        ratingCol="r",
        seed=seed,
        nonnegative=False,
    ).fit(ratings)
    table = model.itemFactors.toArrow()
    ids = np.asarray(table.column("id").to_numpy(), dtype=np.int64)
    out = np.zeros((n_shows, factors), dtype=np.float64)
    if len(ids):
        flat = table.column("features").combine_chunks().flatten().to_numpy()
        out[ids] = np.asarray(flat, dtype=np.float64).reshape(len(ids), factors)
    return out
