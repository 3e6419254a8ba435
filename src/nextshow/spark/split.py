"""The evaluation protocol's holdouts (:mod:`nextshow.evaluation.splits`) as Spark window
functions, so the Spark engine scores models on the NumPy engine's split.

- ``user-time``: a user with ``n >= min_likes`` likes holds out the last
  ``min(n - 1, max(1, floor(f * n + 0.5)))`` of them, ordered by (time, column).
- ``global-time``: one cut-off, the like time of rank ``floor((n - 1) * (1 - f))`` among all
  likes (numpy's ``quantile(..., method="lower")``); later likes leave training; a user with at
  least ``min_likes`` likes on both sides of it holds out the later ones, others' are dropped.
- ``random``: as ``user-time``, ordered by a seeded hash of (user, column) instead of time. The
  NumPy engine draws its keys from one random stream in matrix order, which a distributed job
  cannot reproduce, so this split is seeded and random but not the NumPy one.

:func:`protocol_holdout` picks the rule as :meth:`Protocol.rule_for` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nextshow.evaluation.protocol import Protocol
from nextshow.evaluation.splits import DEFAULT_MIN_LIKES, DEFAULT_TEST_FRACTION
from nextshow.spark.frames import COL, TIME, USER

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


@dataclass(frozen=True)
class SparkSplit:
    """Training likes and held-out likes (both ``(user, col, t)``), as DataFrames."""

    train: DataFrame
    test: DataFrame


def _check(min_likes: int, test_fraction: float) -> None:
    if min_likes < 2 or not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"min_likes must be >= 2 and test_fraction in (0, 1), got {min_likes}, {test_fraction}"
        )


def _tagged(likes: DataFrame, held_out: Column) -> SparkSplit:
    from pyspark.sql import functions as F

    tagged = likes.select(USER, COL, TIME, held_out.alias("held_out")).persist()
    return SparkSplit(
        train=tagged.where(~F.col("held_out")).select(USER, COL, TIME),
        test=tagged.where(F.col("held_out")).select(USER, COL, TIME),
    )


def _last_share(
    likes: DataFrame, order: tuple[Column | str, ...], min_likes: int, test_fraction: float
) -> SparkSplit:
    """Each prolific user's last ``test_fraction`` of likes in ``order`` (the per-user rules)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    n = F.count(F.lit(1)).over(Window.partitionBy(USER))
    rank = F.row_number().over(Window.partitionBy(USER).orderBy(*order)) - 1
    # floor(x + 0.5) in double, as numpy computes it: round half up, never half to even.
    wanted = F.floor(F.lit(test_fraction) * n + F.lit(0.5))
    n_test = F.when(n >= min_likes, F.least(n - 1, F.greatest(F.lit(1), wanted))).otherwise(0)
    return _tagged(likes, rank >= n - n_test)


def temporal_holdout(
    likes: DataFrame,
    *,
    timed: bool,
    min_likes: int = DEFAULT_MIN_LIKES,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> SparkSplit:
    """The ``user-time`` rule: ordered by (time, column) when ``timed``, else by column."""
    _check(min_likes, test_fraction)
    return _last_share(likes, (TIME, COL) if timed else (COL,), min_likes, test_fraction)


def random_holdout(
    likes: DataFrame,
    *,
    seed: int,
    min_likes: int = DEFAULT_MIN_LIKES,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> SparkSplit:
    """The ``random`` rule with a seeded hash of (user, column) as each like's key."""
    from pyspark.sql import functions as F

    _check(min_likes, test_fraction)
    key = F.xxhash64(F.lit(seed), F.col(USER), F.col(COL))
    return _last_share(likes, (key, COL), min_likes, test_fraction)


def cut_time(likes: DataFrame, test_fraction: float) -> float | None:
    """The ``global-time`` cut-off: the like time of rank ``floor((n - 1) * (1 - f))``.

    Counted per distinct time, so only (time, count) pairs are ordered, never every like.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    n = likes.count()
    if n == 0:
        return None
    rank = math.floor((n - 1) * (1.0 - test_fraction))  # numpy's "lower" quantile index
    upto = F.sum("n").over(Window.orderBy(TIME).rowsBetween(Window.unboundedPreceding, 0))
    counts = likes.groupBy(TIME).agg(F.count(F.lit(1)).alias("n"))
    row = counts.select(TIME, upto.alias("upto")).where(F.col("upto") > rank).agg(F.min(TIME))
    return float(row.first()[0])


def global_time_holdout(
    likes: DataFrame,
    *,
    min_likes: int = DEFAULT_MIN_LIKES,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> SparkSplit:
    """The ``global-time`` rule (module docstring); ``likes`` must all have a time."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    _check(min_likes, test_fraction)
    cut = cut_time(likes, test_fraction)
    after = F.col(TIME) > F.lit(cut if cut is not None else 0.0)
    per_user = Window.partitionBy(USER)
    n = F.count(F.lit(1)).over(per_user)
    n_after = F.sum(after.cast("int")).over(per_user)
    eligible = (n >= min_likes) & (n_after > 0) & (n_after < n)
    tagged = likes.select(
        USER, COL, TIME, after.alias("after"), eligible.alias("eligible")
    ).persist()
    return SparkSplit(
        train=tagged.where(~F.col("after")).select(USER, COL, TIME),
        test=tagged.where(F.col("after") & F.col("eligible")).select(USER, COL, TIME),
    )


def protocol_holdout(likes: DataFrame, protocol: Protocol, *, timed: bool) -> SparkSplit:
    """``likes`` split by ``protocol``'s rule for this data (refused as by the NumPy engine)."""
    rule = protocol.rule_for(timed)
    options = {"min_likes": protocol.min_likes, "test_fraction": protocol.test_fraction}
    if rule == "global-time":
        return global_time_holdout(likes, **options)
    if rule == "random":
        return random_holdout(likes, seed=protocol.seed, **options)
    return temporal_holdout(likes, timed=timed, **options)
