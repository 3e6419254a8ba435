"""Model name -> Spark fit: the learned arrays of a nextshow recommender, computed on Spark.

Each fit returns exactly the arrays the NumPy model's ``_state`` holds, and
:meth:`Recommender.with_state` turns them into the ordinary fitted model on the driver. From
there on (recommend, save, load, serve) nothing depends on the engine that trained it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders import Recommender, ShowVocabulary, create
from nextshow.spark import similarity as sim
from nextshow.spark.als import als_item_factors
from nextshow.spark.popularity import like_counts, recent_popularity

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

State = dict[str, np.ndarray | sp.csr_matrix]
SparkFit = Callable[["DataFrame", int, dict[str, Any]], State]


def _itemknn(likes: DataFrame, n_shows: int, p: dict[str, Any]) -> State:
    top = sim.top_k(sim.cosine(likes, p["shrink"]), p["k"])
    return {"similarity": sim.to_csr(top, n_shows)}


def _graph(likes: DataFrame, n_shows: int, p: dict[str, Any]) -> State:
    return {"similarity": sim.to_csr(sim.top_k(sim.cosine(likes), p["k"]), n_shows)}


def _rp3beta(likes: DataFrame, n_shows: int, p: dict[str, Any]) -> State:
    top = sim.top_k(sim.rp3beta(likes, p["alpha"], p["beta"]), p["k"])
    return {"similarity": sim.to_csr(top, n_shows)}


def _popularity(likes: DataFrame, n_shows: int, p: dict[str, Any]) -> State:
    return {"popularity": like_counts(likes, n_shows)}


def _recent_popularity(likes: DataFrame, n_shows: int, p: dict[str, Any]) -> State:
    return {"popularity": recent_popularity(likes, n_shows, p["mode"], p["days"])}


def _als(likes: DataFrame, n_shows: int, p: dict[str, Any]) -> State:
    return {"item_factors": als_item_factors(likes, n_shows, **p)}


SPARK_FITS: dict[str, SparkFit] = {
    "als": _als,
    "graph": _graph,
    "itemknn": _itemknn,
    "popularity": _popularity,
    "recent-popularity": _recent_popularity,
    "rp3beta": _rp3beta,
}


def spark_models() -> list[str]:
    """Names of the models the Spark engine trains (sorted)."""
    return sorted(SPARK_FITS)


def check_spark_model(name: str) -> None:
    """ValueError naming the supported models when ``name`` has no Spark fit."""
    if name not in SPARK_FITS:
        raise ValueError(
            f"model {name!r} has no Spark engine; --engine spark trains: "
            f"{', '.join(spark_models())}"
        )


def fit_on_spark(
    name: str,
    params: dict[str, Any],
    likes: DataFrame,
    vocabulary: ShowVocabulary,
    *,
    timed: bool = True,
) -> Recommender:
    """``name`` with ``params`` (checked as for any model) fitted on ``likes`` (user, col, t),
    column ``i`` being ``vocabulary``'s show ``i``; ``timed``: every like has a time (a model
    that needs times is refused otherwise)."""
    check_spark_model(name)
    model = create(name, **params)
    if model.needs_timestamps and not timed:
        raise ValueError(f"{model!r} needs like times, and some likes of this snapshot have none")
    started = time.perf_counter()
    arrays = SPARK_FITS[name](likes, len(vocabulary), model.get_params())
    fitted = model.with_state(arrays, vocabulary)
    log.info("fitted %r on Spark in %.2fs", fitted, time.perf_counter() - started)
    return fitted
