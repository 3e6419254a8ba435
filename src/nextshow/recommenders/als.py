"""ALS: matrix factorisation for implicit feedback, with an exact least-squares fold-in.

Hu, Koren, Volinsky, "Collaborative Filtering for Implicit Feedback Datasets" (ICDM 2008);
conjugate-gradient solver of Takács, Pilászy, Tikk (RecSys 2011), as implemented by
``implicit`` (only used to train; the artifact holds the show factors as a plain array).
Cost: fit O(iterations x (likes x factors^2 + (users + shows) x factors^3)); fold-in one
factors x factors solve per user; scores O(shows x factors).

Fold-in for an anonymous user who liked L (confidence ``alpha`` per like, as implicit uses it)::

    A = YᵀY + reg·I + (alpha - 1) Σ_{i∈L} y_i y_iᵀ      b = alpha Σ_{i∈L} y_i
    u = A⁻¹ b,  score_j = y_j·u = Σ_{i∈L} alpha · y_jᵀ A⁻¹ y_i

so each liked show's share of a score is exact, which gives ``because``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import (
    SEED,
    Recommender,
    ShowMetadata,
    State,
    liked_rows,
    top_contributors,
)
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param


@register
class ALS(Recommender):
    """Implicit-feedback ALS (see module docstring); deterministic: random_state 42, 1 thread."""

    name: ClassVar[str] = "als"
    PARAMS = (
        Param("factors", int, 32, low=1),
        Param("regularization", float, 0.05, low=0.0, low_open=True),
        Param("alpha", float, 2.0, low=1.0, doc="confidence of a like (implicit's alpha)"),
        Param("iterations", int, 15, low=1),
    )
    factors: int
    regularization: float
    alpha: float
    iterations: int
    item_factors_: np.ndarray
    gram_: np.ndarray

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        # One BLAS thread: implicit warns otherwise, and results stay reproducible.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                dtype=np.float64,
                random_state=SEED,
                num_threads=1,  # implicit's parallel updates are not bit-for-bit reproducible
            )
            model.fit(likes, show_progress=False)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float64)
        self._prepare()

    def _prepare(self) -> None:
        Y = self.item_factors_
        self.gram_ = Y.T @ Y + self.regularization * np.eye(Y.shape[1])
        # Row i holds y_i y_iᵀ flattened, so one sparse product sums them over a user's likes.
        self._outer = np.einsum("if,ig->ifg", Y, Y).reshape(Y.shape[0], -1)

    def _user_systems(self, rows: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        f = self.factors
        extra = np.asarray(rows @ self._outer).reshape(-1, f, f)
        A = self.gram_[np.newaxis] + (self.alpha - 1.0) * extra
        b = self.alpha * np.asarray(rows @ self.item_factors_)
        return A, b

    def _scores(self, liked: np.ndarray) -> np.ndarray:
        return self._scores_batch(liked_rows([liked], self.n_shows_))[0]

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        A, b = self._user_systems(rows)
        users = np.linalg.solve(A, b[..., np.newaxis])[..., 0]
        # One matrix-vector product per user: a single (users x factors) @ (factors x shows)
        # product would round differently depending on the batch size (BLAS blocking).
        return np.stack([self.item_factors_ @ u for u in users])

    def _because(self, liked: np.ndarray, shows: np.ndarray) -> list[tuple[int, ...]]:
        A, _ = self._user_systems(liked_rows([liked], self.n_shows_))
        Y = self.item_factors_
        solved = np.linalg.solve(A[0], Y[liked].T)  # factors x len(liked): A⁻¹ y_i
        contrib = self.alpha * (Y[shows] @ solved).T  # len(liked) x len(shows)
        return top_contributors(contrib, liked)

    def _state(self) -> State:
        return {"item_factors": self.item_factors_}

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        self.item_factors_ = np.asarray(arrays["item_factors"], dtype=np.float64)
        self._prepare()
