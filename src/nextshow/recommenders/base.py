"""The one interface every recommender implements.

Orientation everywhere: ``likes`` is a ``scipy.sparse.csr_matrix`` of shape (n_users, n_shows) with
1.0 where a user liked a show; ``timestamps`` (optional) is a CSR matrix of the same shape and
sparsity holding each like's unix time in seconds. Show indices are column indices of ``likes``;
mapping them to database ids or IMDb ids is the caller's job (see ``ShowMetadata.show_ids``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class ShowMetadata:
    """Per-show side information, each array of length n_shows, aligned with the columns of likes.

    Missing values: ``start_year`` 0, ``imdb_rating`` NaN, ``imdb_votes`` 0, genres empty.
    """

    show_ids: np.ndarray  # int64 database ids (or any stable external id)
    titles: list[str] = field(default_factory=list)
    start_year: np.ndarray | None = None  # int32
    imdb_rating: np.ndarray | None = None  # float32
    imdb_votes: np.ndarray | None = None  # int64
    genres: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def n_shows(self) -> int:
        return len(self.show_ids)


@dataclass(frozen=True)
class Recommendation:
    """One recommended show: its column index, its score, and the liked shows that led to it."""

    show: int
    score: float
    because: tuple[int, ...] = ()


class Recommender(ABC):
    """fit on a users x shows CSR matrix of likes; recommend for an anonymous list of liked shows.

    ``__init__`` stores hyperparameters only; learned state ends in ``_`` and is set by ``fit``.
    """

    name: ClassVar[str]  # registry key, e.g. "itemknn"

    @abstractmethod
    def fit(
        self,
        likes: sp.csr_matrix,
        metadata: ShowMetadata | None = None,
        timestamps: sp.csr_matrix | None = None,
    ) -> Self:
        """Learn from likes (n_users x n_shows); returns self."""

    @abstractmethod
    def recommend(
        self, liked: list[int] | np.ndarray, n: int = 10, exclude: list[int] | None = None
    ) -> list[Recommendation]:
        """Top ``n`` shows for someone who liked ``liked`` (fold-in: no user row needed).

        Liked shows and ``exclude`` never appear in the result; results are sorted by score,
        highest first, ties broken by the lower show index (deterministic).
        """

    @abstractmethod
    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as plain JSON values."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the learned state as .npz + JSON (with format version and checksum)."""

    @classmethod
    @abstractmethod
    def load(cls, path: Path) -> Self:
        """Read what ``save`` wrote; refuse a corrupted or tampered artifact; never unpickle."""
