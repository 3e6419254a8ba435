"""Item-based nearest neighbours: ``itemknn`` (summed cosine) and ``graph`` (neighbour votes).

Item kNN: Sarwar et al., "Item-based collaborative filtering recommendation algorithms" (WWW 2001);
Deshpande & Karypis, "Item-based top-N recommendation algorithms" (TOIS 2004). Cost: the sparse
product X.T @ X (sum over users of likes^2) and shows x k storage; scoring is one sparse product.

Cosine on a 3-user x 3-show example (X, users x shows)::

        s0 s1 s2          |s0| = sqrt(2), |s1| = sqrt(2), |s2| = 1
    u0   1  1  0          cos(s0, s1) = 1 / (sqrt2 * sqrt2) = 0.5
    u1   1  0  1          cos(s0, s2) = 1 / (sqrt2 * 1)     = 0.7071
    u2   0  1  0          cos(s1, s2) = 0

so a user who liked s0 gets s2 (0.707) before s1 (0.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import ShowMetadata
from nextshow.recommenders.item_similarity import ItemSimilarityRecommender, dense_scores
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param
from nextshow.recommenders.similarity import cosine_similarity, top_k_per_row


@register
class ItemKNN(ItemSimilarityRecommender):
    """Score = sum of cosine similarities (shrunk) between the liked shows and the candidate;
    every show keeps only its ``k`` most similar shows. Cost: see module docstring."""

    name: ClassVar[str] = "itemknn"
    PARAMS = (
        Param("k", int, 100, low=1, doc="neighbours kept per show"),
        Param("shrink", float, 0.0, low=0.0, doc="added to the cosine denominator"),
    )
    k: int
    shrink: float

    def _build_similarity(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> sp.csr_matrix:
        return top_k_per_row(cosine_similarity(likes, self.shrink), self.k)


@register
class GraphVotes(ItemSimilarityRecommender):
    """The original author's graph: each show linked to its ``k`` nearest shows (cosine); a
    candidate's score is the number of liked shows linking to it, ties broken by the summed
    similarity. Cost: as item kNN.

    The score is ``votes + summed_similarity / (len(liked) + 1)``: cosine <= 1, so the second term
    is below 1 and only orders shows with equal votes.
    """

    name: ClassVar[str] = "graph"
    PARAMS = (Param("k", int, 20, low=1, doc="links per show"),)
    k: int
    links_: sp.csr_matrix

    def _build_similarity(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> sp.csr_matrix:
        return top_k_per_row(cosine_similarity(likes), self.k)

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        super()._fit(likes, metadata, timestamps)
        self._make_links()

    def _make_links(self) -> None:
        links = self.similarity_.copy()
        links.data = np.ones_like(links.data)
        self.links_ = links

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        votes = dense_scores(rows, self.links_)
        sims = dense_scores(rows, self.similarity_)
        n_liked = np.diff(rows.indptr).astype(np.float64)[:, np.newaxis]
        return votes + sims / (n_liked + 1.0)

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        super()._set_state(arrays)
        self._make_links()
