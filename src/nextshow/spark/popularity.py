"""All-time and recent popularity on Spark: one aggregation per show, one number per column.

The same rule as :func:`nextshow.recommenders.popularity.recent_popularity`: likes near "now"
(the newest like), counted in a window or decayed with a half-life, ties broken by all-time
counts scaled below one like.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nextshow.recommenders.popularity import break_ties
from nextshow.recommenders.similarity import DAY
from nextshow.spark.frames import COL, TIME

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def like_counts(likes: DataFrame, n_shows: int) -> np.ndarray:
    """Likes per column (float64, length ``n_shows``)."""
    from pyspark.sql import functions as F

    return weighted_counts(likes, n_shows, F.lit(1.0))[1]


def weighted_counts(
    likes: DataFrame, n_shows: int, weight: Column
) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the sum of ``weight`` over its likes, and its number of likes."""
    from pyspark.sql import functions as F

    sums = likes.groupBy(COL).agg(
        F.sum(weight).alias("recent"), F.count(F.lit(1)).cast("double").alias("n")
    )
    table = sums.toArrow()
    cols = np.asarray(table.column(COL).to_numpy(), dtype=np.int64)
    recent = np.zeros(n_shows, dtype=np.float64)
    total = np.zeros(n_shows, dtype=np.float64)
    recent[cols] = table.column("recent").to_numpy()
    total[cols] = table.column("n").to_numpy()
    return recent, total


def recent_popularity(likes: DataFrame, n_shows: int, mode: str, days: float) -> np.ndarray:
    """Per-column like weight near the newest like (``mode`` "window" or "decay")."""
    from pyspark.sql import functions as F

    now = likes.agg(F.max(TIME)).first()[0] or 0.0
    if mode == "window":
        weight = (F.col(TIME) >= F.lit(now - days * DAY)).cast("double")
    elif mode == "decay":
        age = F.greatest(F.lit(now) - F.col(TIME), F.lit(0.0))
        weight = F.pow(F.lit(0.5), age / F.lit(days * DAY))
    else:
        raise ValueError(f"mode must be decay or window, got {mode!r}")
    return break_ties(*weighted_counts(likes, n_shows, weight))
