"""Top-k ranking metrics, computed per user and then averaged over users.

Every function takes ``recommended`` (show indices, best first; only the first ``k`` count) and
``relevant`` (the user's held-out show indices, in any order). Relevance is binary. A user with no
held-out likes has no defined score: ``score_users`` drops such users explicitly and says how many.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METRIC_NAMES = ("precision", "recall", "ndcg", "hit", "coverage")


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def _hits(recommended: Sequence[int] | np.ndarray, relevant: Sequence[int] | np.ndarray, k: int):
    """A boolean per top-k position: is that show held out?"""
    _check_k(k)
    top = np.asarray(recommended, dtype=np.int64)[:k]
    return np.isin(top, np.asarray(relevant, dtype=np.int64))


def precision_at_k(recommended: Sequence[int], relevant: Sequence[int], k: int) -> float:
    """Share of the k slots filled with a held-out show (the original project's score).

    The denominator is k even when fewer than k shows were recommended: an empty slot is a miss.
    """
    return float(_hits(recommended, relevant, k).sum()) / k


def recall_at_k(recommended: Sequence[int], relevant: Sequence[int], k: int) -> float:
    """Share of the held-out shows found in the top k."""
    if len(relevant) == 0:
        raise ValueError("recall is undefined for a user without held-out likes")
    return float(_hits(recommended, relevant, k).sum()) / len(relevant)


def ndcg_at_k(recommended: Sequence[int], relevant: Sequence[int], k: int) -> float:
    """Normalised discounted cumulative gain: gain 1 per hit at rank r (1-based) worth 1/log2(r+1).

    The ideal ranking puts min(k, |relevant|) hits first, so a perfect list scores 1.0.
    """
    if len(relevant) == 0:
        raise ValueError("ndcg is undefined for a user without held-out likes")
    hits = _hits(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float(discounts[: len(hits)][hits].sum())
    ideal = float(discounts[: min(k, len(relevant))].sum())
    return dcg / ideal


def hit_rate_at_k(recommended: Sequence[int], relevant: Sequence[int], k: int) -> float:
    """1.0 when at least one held-out show is in the top k, else 0.0."""
    return 1.0 if _hits(recommended, relevant, k).any() else 0.0


def coverage_at_k(recommendations: Sequence[Sequence[int]], n_shows: int, k: int) -> float:
    """Catalogue coverage: distinct shows in anyone's top k, as a share of all ``n_shows``."""
    _check_k(k)
    if n_shows < 1:
        raise ValueError(f"n_shows must be >= 1, got {n_shows}")
    seen: set[int] = set()
    for recommended in recommendations:
        seen.update(int(s) for s in list(recommended)[:k])
    return len(seen) / n_shows


def metric_key(name: str, k: int) -> str:
    """The reported name of a metric, with its K: ``ndcg@10``."""
    return f"{name}@{k}"


def score_users(
    recommendations: Sequence[Sequence[int]],
    relevant: Sequence[Sequence[int]],
    k: int,
    n_shows: int,
) -> dict[str, float]:
    """Every metric at ``k``, averaged over users (one list of recommendations per user).

    Users without held-out likes are dropped before averaging (``users`` reports how many were
    scored, ``users_dropped`` how many were not); coverage counts every user's recommendations.
    """
    if len(recommendations) != len(relevant):
        raise ValueError("one list of recommendations per user is needed")
    scored = [(rec, rel) for rec, rel in zip(recommendations, relevant, strict=True) if len(rel)]
    per_user = {
        "precision": [precision_at_k(rec, rel, k) for rec, rel in scored],
        "recall": [recall_at_k(rec, rel, k) for rec, rel in scored],
        "ndcg": [ndcg_at_k(rec, rel, k) for rec, rel in scored],
        "hit": [hit_rate_at_k(rec, rel, k) for rec, rel in scored],
    }
    result = {
        metric_key(name, k): float(np.mean(values)) if values else 0.0
        for name, values in per_user.items()
    }
    result[metric_key("coverage", k)] = coverage_at_k(recommendations, n_shows, k)
    result["users"] = float(len(scored))
    result["users_dropped"] = float(len(relevant) - len(scored))
    return result
