"""RP3beta: a popularity-penalised three-step random walk on the user-show graph.

Paudel, Christoffel, Newell, Bernstein, "Updatable, accurate, diverse, and scalable
recommendations for interactive applications" (ACM TiiS 2017); P^3alpha from Cooper et al.
(WWW 2014). The walk on the original author's graph, with the hub bias removed.
Cost: the sparse product X.T @ X, then shows x k storage; scoring is one sparse product.
"""

from __future__ import annotations

from typing import ClassVar

import scipy.sparse as sp

from nextshow.recommenders.base import ShowMetadata
from nextshow.recommenders.item_similarity import ItemSimilarityRecommender
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param
from nextshow.recommenders.similarity import rp3beta_similarity, top_k_per_row


@register
class RP3beta(ItemSimilarityRecommender):
    """Score = sum over liked shows of the walk probability to the candidate divided by the
    candidate's popularity ** beta (alpha sharpens the transition probabilities)."""

    name: ClassVar[str] = "rp3beta"
    PARAMS = (
        Param("alpha", float, 1.0, low=0.0, low_open=True, doc="transition exponent"),
        Param("beta", float, 0.5, low=0.0, high=2.0, doc="popularity penalty exponent"),
        Param("k", int, 200, low=1, doc="neighbours kept per show"),
    )
    alpha: float
    beta: float
    k: int

    def _build_similarity(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> sp.csr_matrix:
        return top_k_per_row(rp3beta_similarity(likes, self.alpha, self.beta), self.k)
