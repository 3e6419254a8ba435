"""Beyond-accuracy metrics: does a model show everyone the same ten blockbusters?

Accuracy alone rewards "most liked this week" for everybody. These say what else a list does:

- ``coverage@k`` (in :mod:`.metrics`): distinct shows in anyone's top k / all shows.
- ``novelty@k``: 1 - mean popularity percentile of the recommended shows (0: only the most
  liked shows; higher: less popular ones). A show's percentile is the share of shows with fewer
  training likes than it has.
- ``personalization@k``: 1 - mean overlap ``|A ∩ B| / k`` of two users' top-k lists, over seeded
  random pairs of users (0: everyone gets the same list; 1: no two lists share a show).
- ``longtail_ndcg@k``: NDCG@k counting only held-out likes outside the 10 % most-liked shows of
  the training part; users without such a like are dropped. The list itself is unchanged.

Every function takes ``recommendations`` (one list of show indices per user, best first; only
the first ``k`` count) and, where needed, per-show training like counts (``popularity``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nextshow.evaluation.metrics import metric_key, ndcg_at_k
from nextshow.metric_definitions import definition
from nextshow.recommenders.base import SEED, make_rng

HEAD_SHARE = 0.10  # the "most popular" head the long-tail metric ignores
PERSONALIZATION_PAIRS = 2000  # sampled user pairs: enough for 3 decimals, cheap for any k
BEYOND_NAMES = ("novelty", "personalization", "longtail_ndcg")


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def popularity_percentile(popularity: np.ndarray) -> np.ndarray:
    """Per show, the share of shows with strictly fewer likes (least liked: 0.0)."""
    pop = np.asarray(popularity, dtype=np.float64)
    if pop.ndim != 1 or len(pop) == 0:
        raise ValueError("popularity must be a non-empty 1-D array of like counts")
    return np.searchsorted(np.sort(pop), pop, side="left") / len(pop)


def novelty_at_k(recommendations: Sequence[Sequence[int]], popularity: np.ndarray, k: int) -> float:
    """1 - mean popularity percentile over every recommended show of every user (see above)."""
    _check_k(k)
    percentile = popularity_percentile(popularity)
    shows = [int(s) for rec in recommendations for s in list(rec)[:k]]
    if not shows:
        return 0.0
    return float(1.0 - percentile[np.asarray(shows)].mean())


def personalization_at_k(
    recommendations: Sequence[Sequence[int]],
    k: int,
    *,
    pairs: int = PERSONALIZATION_PAIRS,
    seed: int = SEED,
) -> float:
    """1 - mean ``|A ∩ B| / k`` over ``pairs`` seeded random pairs of distinct users.

    With fewer than two users there is nothing to compare: 0.0.
    """
    _check_k(k)
    n = len(recommendations)
    if n < 2:
        return 0.0
    tops = [set(int(s) for s in list(rec)[:k]) for rec in recommendations]
    rng = make_rng(seed)
    first = rng.integers(0, n, size=pairs)
    second = (first + rng.integers(1, n, size=pairs)) % n  # never the same user twice
    overlap = [len(tops[a] & tops[b]) / k for a, b in zip(first, second, strict=True)]
    return float(1.0 - np.mean(overlap))


def long_tail(popularity: np.ndarray, head_share: float = HEAD_SHARE) -> np.ndarray:
    """Boolean per show: outside the ``head_share`` most-liked shows (ties by the lower index)."""
    pop = np.asarray(popularity, dtype=np.float64)
    n_head = int(np.floor(head_share * len(pop)))
    tail = np.ones(len(pop), dtype=bool)
    if n_head:
        head = np.lexsort((np.arange(len(pop)), -pop))[:n_head]
        tail[head] = False
    return tail


def longtail_ndcg_at_k(
    recommendations: Sequence[Sequence[int]],
    relevant: Sequence[Sequence[int]],
    popularity: np.ndarray,
    k: int,
) -> tuple[float, int]:
    """Mean NDCG@k over users with a long-tail held-out like, counting only those likes.

    Returns (score, users scored); 0.0 when no user has a long-tail like.
    """
    tail = long_tail(popularity)
    scores = []
    for rec, rel in zip(recommendations, relevant, strict=True):
        kept = [int(s) for s in rel if tail[int(s)]]
        if kept:
            scores.append(ndcg_at_k(rec, kept, k))
    return (float(np.mean(scores)) if scores else 0.0), len(scores)


def beyond_accuracy(
    recommendations: Sequence[Sequence[int]],
    relevant: Sequence[Sequence[int]],
    popularity: np.ndarray,
    k: int,
    seed: int = SEED,
) -> dict[str, float]:
    """``novelty@k``, ``personalization@k`` and ``longtail_ndcg@k`` in one dict."""
    if len(recommendations) != len(relevant):
        raise ValueError("one list of recommendations per user is needed")
    tail_score, _ = longtail_ndcg_at_k(recommendations, relevant, popularity, k)
    return {
        metric_key("novelty", k): novelty_at_k(recommendations, popularity, k),
        metric_key("personalization", k): personalization_at_k(recommendations, k, seed=seed),
        metric_key("longtail_ndcg", k): tail_score,
    }


def definitions(k: int) -> dict[str, str]:
    """One-line definition of coverage and each beyond-accuracy metric, keyed ``name@k``."""
    return {metric_key(n, k): definition(metric_key(n, k)) for n in ("coverage", *BEYOND_NAMES)}
