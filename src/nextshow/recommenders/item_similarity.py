"""Shared base of every "liked history @ S" model: item kNN, EASE, RP3beta, time-aware.

A subclass only builds the shows x shows matrix ``S`` (row = liked show, column = candidate);
scoring, batch scoring, "because" and the artifact are the same for all of them.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import (
    Recommender,
    ShowMetadata,
    State,
    liked_rows,
    top_contributors,
)
from nextshow.recommenders.selection import stored_entries


def dense_scores(rows: sp.csr_matrix, S: np.ndarray | sp.csr_matrix) -> np.ndarray:
    """``rows @ S`` as a dense float64 array (rows: users x shows indicator, S: shows x shows).

    scipy computes each output row from that row's non-zeros in index order, so a batch gives
    bit-for-bit the numbers of one-row calls.
    """
    out = rows @ S
    if sp.issparse(out):
        out = out.toarray()
    return np.asarray(out, dtype=np.float64)


def contributions(
    S: np.ndarray | sp.csr_matrix, liked: np.ndarray, shows: np.ndarray
) -> np.ndarray:
    """``S[liked][:, shows]`` dense: how much each liked show adds to each candidate's score.

    A CSR ``S`` is read from its arrays (scipy's two fancy selections cost ~0.1 ms a request):
    the liked rows' stored entries in the shows' columns, added up in stored order as
    ``toarray`` adds them.
    """
    if not sp.issparse(S) or S.format != "csr" or len(shows) == 0:
        block = S[liked][:, shows]
        return block.toarray() if sp.issparse(block) else np.asarray(block)
    columns, back = np.unique(shows, return_inverse=True)
    which, column, value = stored_entries(S, np.asarray(liked, dtype=np.int64))
    at = np.minimum(np.searchsorted(columns, column), len(columns) - 1)
    hit = columns[at] == column
    out = np.zeros((len(liked), len(columns)), dtype=S.dtype)
    np.add.at(out, (which[hit], at[hit]), value[hit])
    return out[:, back]


class ItemSimilarityRecommender(Recommender):
    """Scores = sum over liked shows of ``S[liked, :]``; because = the largest contributors."""

    similarity_: np.ndarray | sp.csr_matrix

    @abstractmethod
    def _build_similarity(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> np.ndarray | sp.csr_matrix:
        """The shows x shows matrix S."""

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        self.similarity_ = self._build_similarity(likes, metadata, timestamps)

    def _scores(self, liked: np.ndarray) -> np.ndarray:
        return self._scores_batch(liked_rows([liked], self.n_shows_))[0]

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        return dense_scores(rows, self.similarity_)

    def _because(self, liked: np.ndarray, shows: np.ndarray) -> list[tuple[int, ...]]:
        return top_contributors(contributions(self.similarity_, liked, shows), liked)

    def _state(self) -> State:
        return {"similarity": self.similarity_}

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        self.similarity_ = arrays["similarity"]
