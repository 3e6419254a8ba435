"""EASE: embarrassingly shallow autoencoder, a closed-form item-item linear model.

Steck, "Embarrassingly Shallow Autoencoders for Sparse Data" (WWW 2019). ``B = argmin
|X - XB|^2 + l2 |B|^2`` with ``diag(B) = 0`` has the closed form ``B_ij = -P_ij / P_jj``,
``P = (X.T X + l2 I)^-1``. Cost: dense shows x shows (shows^2 x 8 bytes: 200 MB at 5,000
shows) and a shows^3 inversion; fine up to a few thousand shows. ``top_k > 0`` keeps only the
k largest positive weights per row, which shrinks the artifact (at some cost in accuracy).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import ShowMetadata
from nextshow.recommenders.item_similarity import ItemSimilarityRecommender
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param
from nextshow.recommenders.similarity import ease_weights, prune_dense


@register
class EASE(ItemSimilarityRecommender):
    """Score = liked row @ B (B from the closed form above)."""

    name: ClassVar[str] = "ease"
    PARAMS = (
        Param("l2", float, 500.0, low=0.0, low_open=True, doc="L2 regulariser"),
        Param("top_k", int, 0, low=0, doc="keep k weights per row (0 = dense)"),
    )
    l2: float
    top_k: int

    def _build_similarity(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> np.ndarray | sp.csr_matrix:
        B = ease_weights(likes, self.l2)
        return prune_dense(B, self.top_k) if self.top_k else B
