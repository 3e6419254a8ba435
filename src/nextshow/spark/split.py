"""The evaluation's per-user temporal holdout (:class:`nextshow.evaluation.splits.TemporalHoldout`)
as one window function, so the Spark engine scores models on exactly the NumPy engine's split.

A user with ``n >= min_likes`` likes holds out the last ``min(n - 1, max(1, floor(f * n + 0.5)))``
of them, ordered by (time, column) when every like has a time, else by column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nextshow.evaluation.splits import DEFAULT_MIN_LIKES, DEFAULT_TEST_FRACTION
from nextshow.spark.frames import COL, TIME, USER

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclass(frozen=True)
class SparkSplit:
    """Training likes and held-out likes (both ``(user, col, t)``), as DataFrames."""

    train: DataFrame
    test: DataFrame


def temporal_holdout(
    likes: DataFrame,
    *,
    timed: bool,
    min_likes: int = DEFAULT_MIN_LIKES,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> SparkSplit:
    """Split ``likes`` (``(user, col, t)``) with the holdout rule of the module docstring."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if min_likes < 2 or not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"min_likes must be >= 2 and test_fraction in (0, 1), got {min_likes}, {test_fraction}"
        )
    order = (TIME, COL) if timed else (COL,)
    n = F.count(F.lit(1)).over(Window.partitionBy(USER))
    rank = F.row_number().over(Window.partitionBy(USER).orderBy(*order)) - 1
    # floor(x + 0.5) in double, as numpy computes it: round half up, never half to even.
    wanted = F.floor(F.lit(test_fraction) * n + F.lit(0.5))
    n_test = F.when(n >= min_likes, F.least(n - 1, F.greatest(F.lit(1), wanted))).otherwise(0)
    tagged = likes.select(USER, COL, TIME, (rank >= n - n_test).alias("held_out")).persist()
    return SparkSplit(
        train=tagged.where(~F.col("held_out")).select(USER, COL, TIME),
        test=tagged.where(F.col("held_out")).select(USER, COL, TIME),
    )
