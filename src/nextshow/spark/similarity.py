"""Show-show similarity on Spark: co-occurrence by a self-join on the user, cosine and RP3beta
weights by joins with per-show and per-user degrees, top-K per show by a window function.

The same maths as :mod:`nextshow.recommenders.similarity`, written as DataFrame operations
(see its docstrings for the formulas and papers). Cosine is bit-for-bit the NumPy value: the
co-occurrence counts are exact integers and the few float operations are done in the same
order. RP3beta sums a float per user, in an order Spark chooses, so it agrees to the last bits.

Cost: the self-join emits sum over users of likes^2 pairs, aggregated (map-side first) into at
most shows^2 rows; the top-K window keeps shows x K of them. Only those reach the driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from nextshow.spark.frames import COL, USER

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# Columns of a show-show frame: row show (liked), column show (candidate), value.
ROW, OTHER, VALUE = "i", "j", "value"


def _pairs(likes: DataFrame, weight: str | None = None) -> DataFrame:
    """Every (i, j) pair of distinct shows liked by one user, with that user's columns."""
    from pyspark.sql import functions as F

    left = likes.select(USER, F.col(COL).alias(ROW), *([weight] if weight else []))
    right = likes.select(USER, F.col(COL).alias(OTHER))
    return left.join(right, USER).where(F.col(ROW) != F.col(OTHER))


def degrees(likes: DataFrame, key: str = COL) -> DataFrame:
    """Likes per show (or per user with ``key="user"``): ``(key, n)``."""
    from pyspark.sql import functions as F

    return likes.groupBy(key).agg(F.count(F.lit(1)).cast("double").alias("n"))


def cooccurrence(likes: DataFrame) -> DataFrame:
    """``X.T @ X`` off the diagonal: users who liked both i and j, as ``(i, j, value)``."""
    from pyspark.sql import functions as F

    return _pairs(likes).groupBy(ROW, OTHER).agg(F.count(F.lit(1)).cast("double").alias(VALUE))


def cosine(likes: DataFrame, shrink: float = 0.0) -> DataFrame:
    """``cooc(i, j) / (|x_i| |x_j| + shrink)`` with ``|x_i| = sqrt(likes of i)``."""
    from pyspark.sql import functions as F

    norms = degrees(likes).select(COL, F.sqrt("n").alias("norm"))
    left = norms.select(F.col(COL).alias(ROW), F.col("norm").alias("norm_i"))
    right = norms.select(F.col(COL).alias(OTHER), F.col("norm").alias("norm_j"))
    denom = F.col("norm_i") * F.col("norm_j") + F.lit(float(shrink))
    return (
        cooccurrence(likes)
        .join(F.broadcast(left), ROW)
        .join(F.broadcast(right), OTHER)
        .select(ROW, OTHER, (F.col(VALUE) / denom).alias(VALUE))
    )


def rp3beta(likes: DataFrame, alpha: float, beta: float) -> DataFrame:
    """``W_ij = sum_u (1/deg_i)^alpha (1/deg_u)^alpha`` times ``deg_j^-beta``, i != j."""
    from pyspark.sql import functions as F

    alpha, beta = float(alpha), float(beta)
    users = degrees(likes, USER).select(USER, F.pow(1.0 / F.col("n"), alpha).alias("w_u"))
    shows = degrees(likes)
    step_i = shows.select(F.col(COL).alias(ROW), F.pow(1.0 / F.col("n"), alpha).alias("w_i"))
    penalty = shows.select(F.col(COL).alias(OTHER), F.pow(F.col("n"), -beta).alias("pen_j"))
    weighted = likes.join(users, USER)
    walk = (
        _pairs(weighted, "w_u")
        .join(F.broadcast(step_i), ROW)
        .groupBy(ROW, OTHER)
        .agg(F.sum(F.col("w_i") * F.col("w_u")).alias(VALUE))
    )
    return walk.join(F.broadcast(penalty), OTHER).select(
        ROW, OTHER, (F.col(VALUE) * F.col("pen_j")).alias(VALUE)
    )


def top_k(similarity: DataFrame, k: int) -> DataFrame:
    """The ``k`` largest entries of every row ``i`` (ties by the lower ``j``), zeros dropped,
    as :func:`nextshow.recommenders.similarity.top_k_per_row` keeps them."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = Window.partitionBy(ROW).orderBy(F.col(VALUE).desc(), F.col(OTHER).asc())
    return (
        similarity.where(F.col(VALUE) != 0.0)
        .withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= int(k))
        .select(ROW, OTHER, VALUE)
    )


def to_csr(similarity: DataFrame, n_shows: int) -> sp.csr_matrix:
    """Collect ``(i, j, value)`` to the driver as a shows x shows CSR (sorted indices)."""
    table = similarity.toArrow()
    rows = np.asarray(table.column(ROW).to_numpy(), dtype=np.int64)
    cols = np.asarray(table.column(OTHER).to_numpy(), dtype=np.int32)
    values = np.asarray(table.column(VALUE).to_numpy(), dtype=np.float64)
    matrix = sp.csr_matrix((values, (rows, cols)), shape=(n_shows, n_shows))
    matrix.sort_indices()
    return matrix
