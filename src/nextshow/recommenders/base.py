"""The one interface every recommender implements.

Orientation everywhere: ``likes`` is a ``scipy.sparse.csr_matrix`` of shape (n_users, n_shows) with
1.0 where a user liked a show; ``timestamps`` (optional) is a CSR matrix of the same shape and
sparsity holding each like's unix time in seconds. Show indices are column indices of ``likes``;
which show each column is travels with the model as its ``vocabulary_`` (a
:class:`~nextshow.recommenders.vocabulary.ShowVocabulary`, saved inside the artifact).

The public methods (``fit``, ``recommend``, ``recommend_batch``, ``save``, ``load``) do the shared
work once: check the input, refuse use before ``fit``, mask liked and excluded shows, pick the top
``n`` deterministically (ties by the lower show index). Subclasses write only the private part:
``_fit``, ``_scores`` (one anonymous user; fold-in, no user row needed), optionally a vectorised
``_scores_batch``, ``_because`` and ``_state``/``_set_state`` for the artifact.
"""

from __future__ import annotations

import logging
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.artifact import Artifact, ArtifactError, read_artifact, write_artifact
from nextshow.recommenders.params import Param, check_params
from nextshow.recommenders.selection import (  # noqa: F401  (also imported from here)
    MAX_BECAUSE,
    SCORE_BLOCK,
    indicator_rows,
    liked_rows,
    top_contributors,
    top_n,
    top_n_rows,
)
from nextshow.recommenders.vocabulary import ShowVocabulary

if TYPE_CHECKING:
    from nextshow.recommenders.content_features import ShowCredits

log = logging.getLogger(__name__)

SEED = 42

# What a subclass puts in an artifact: named dense arrays or CSR matrices.
State = dict[str, "np.ndarray | sp.csr_matrix"]


def make_rng(seed: int = SEED) -> np.random.Generator:
    """The project's one source of randomness: every seeded step asks here (default seed 42)."""
    return np.random.default_rng(seed)


class SparseFormatWarning(UserWarning):
    """A likes/timestamps matrix was not CSR and was converted (a copy was made)."""


class NotFittedError(RuntimeError):
    """A recommender was used before ``fit`` (or ``load``)."""


@dataclass(frozen=True)
class ShowMetadata:
    """Per-show side information, each array of length n_shows, aligned with the columns of likes.

    Missing values: ``start_year`` 0, ``imdb_rating`` NaN, ``imdb_votes`` 0, genres empty,
    title type "". ``credits`` (who created, wrote, directed and starred in each show) comes
    from IMDb's people datasets when the catalogue has them (see recommenders/content.py).
    """

    show_ids: np.ndarray  # int64 database ids (or any stable external id), unique
    titles: list[str] = field(default_factory=list)
    start_year: np.ndarray | None = None  # int32
    imdb_rating: np.ndarray | None = None  # float32
    imdb_votes: np.ndarray | None = None  # int64
    genres: list[tuple[str, ...]] = field(default_factory=list)
    imdb_ids: list[str] = field(default_factory=list)  # "" where unknown
    title_types: list[str] = field(default_factory=list)
    credits: ShowCredits | None = None

    @property
    def n_shows(self) -> int:
        return len(self.show_ids)

    @property
    def vocabulary(self) -> ShowVocabulary:
        """Which show each column is, as the model will carry it (ValueError on repeated ids)."""
        return ShowVocabulary(self.show_ids, tuple(self.imdb_ids))


@dataclass(frozen=True)
class Recommendation:
    """One recommended show: its column index, its score, the liked shows that led to it, and
    (content models) the concrete tie in words: "created by Vince Gilligan, like Breaking Bad"."""

    show: int
    score: float
    because: tuple[int, ...] = ()
    popularity_share: float = 0.0  # how much of the score popularity carries, in [0, 1]
    reason: str = ""  # the model's own words for its tie to the liked shows, if any


def as_csr(matrix: Any, what: str) -> sp.csr_matrix:
    """A canonical float64 CSR copy (sorted indices, duplicates summed) of a sparse matrix.

    Other sparse formats are converted with a :class:`SparseFormatWarning`; dense input is refused,
    because a dense users x shows matrix is exactly what this code never wants to hold.
    """
    if not sp.issparse(matrix):
        raise ValueError(f"{what} must be a scipy.sparse CSR matrix, got {type(matrix).__name__}")
    if matrix.format != "csr":
        warnings.warn(
            f"{what} is {matrix.format.upper()}, converted to CSR (pass CSR to avoid the copy)",
            SparseFormatWarning,
            stacklevel=3,
        )
    out = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    out.sum_duplicates()  # also sorts indices: timestamps line up with likes entry by entry
    if out.ndim != 2:
        raise ValueError(f"{what} must be 2-D, got shape {out.shape}")
    return out


class Recommender(ABC):
    """fit on a users x shows CSR matrix of likes; recommend for an anonymous list of liked shows.

    ``__init__`` stores hyperparameters only (checked against ``PARAMS``); learned state ends in
    ``_`` and is set by ``fit`` or ``load``, the show vocabulary (``vocabulary_``) included.
    """

    name: ClassVar[str]  # key in the kinds table, e.g. "itemknn"
    PARAMS: ClassVar[tuple[Param, ...]] = ()
    needs_timestamps: ClassVar[bool] = False

    n_shows_: int
    vocabulary_: ShowVocabulary

    def __init__(self, **params: Any) -> None:
        self._params = check_params(type(self).__name__, self.PARAMS, params)
        for key, value in self._params.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as plain JSON values."""
        return dict(self._params)

    # ---------------------------------------------------------------- fit
    def fit(
        self,
        likes: sp.csr_matrix,
        metadata: ShowMetadata | None = None,
        timestamps: sp.csr_matrix | None = None,
        *,
        vocabulary: ShowVocabulary | None = None,
    ) -> Self:
        """Learn from likes (n_users x n_shows); returns self.

        The model keeps which show each column is: ``vocabulary``, else the metadata's ids, else
        column ``i`` = show ``i``; it is saved in the artifact with the learned state.
        """
        likes = as_csr(likes, "likes")
        if likes.nnz and (not np.all(np.isfinite(likes.data)) or likes.data.min() < 0):
            raise ValueError("likes must hold finite non-negative values")
        if timestamps is not None:
            timestamps = as_csr(timestamps, "timestamps")
            if timestamps.shape != likes.shape:
                raise ValueError(
                    f"timestamps shape {timestamps.shape} differs from likes shape {likes.shape}"
                )
            if not (
                np.array_equal(timestamps.indptr, likes.indptr)
                and np.array_equal(timestamps.indices, likes.indices)
            ):
                raise ValueError("timestamps must have the same sparsity pattern as likes")
        elif self.needs_timestamps:
            raise ValueError(f"{self!r} needs timestamps (a CSR like likes with unix times)")
        if metadata is not None and metadata.n_shows != likes.shape[1]:
            raise ValueError(
                f"metadata has {metadata.n_shows} shows, likes has {likes.shape[1]} columns"
            )
        if vocabulary is None:
            vocabulary = (
                metadata.vocabulary
                if metadata is not None
                else ShowVocabulary.positional(likes.shape[1])
            )
        if len(vocabulary) != likes.shape[1]:
            raise ValueError(
                f"vocabulary has {len(vocabulary)} shows, likes has {likes.shape[1]} columns"
            )
        start = time.perf_counter()
        self._fit(likes, metadata, timestamps)
        self.n_shows_ = int(likes.shape[1])
        self.vocabulary_ = vocabulary
        log.info(
            "fitted %r on %d users x %d shows (%d likes) in %.2fs",
            self,
            likes.shape[0],
            likes.shape[1],
            likes.nnz,
            time.perf_counter() - start,
        )
        return self

    @abstractmethod
    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        """Learn the state; inputs are already checked canonical float64 CSR."""

    # ---------------------------------------------------------------- scoring
    @abstractmethod
    def _scores(self, liked: np.ndarray) -> np.ndarray:
        """float64 scores over all shows for one user's (sorted, unique, valid) liked indices."""

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        """Scores (n_rows x n_shows) for an indicator matrix of liked shows.

        Default: one ``_scores`` call per row. Models that score as ``rows @ S`` override this with
        one sparse product, which gives the same numbers row by row.
        """
        out = np.empty(rows.shape, dtype=np.float64)
        for i in range(rows.shape[0]):
            out[i] = self._scores(rows.indices[rows.indptr[i] : rows.indptr[i + 1]])
        return out

    def _because(self, liked: np.ndarray, shows: np.ndarray) -> list[tuple[int, ...]]:
        """For each recommended show, the liked shows that led to it (at most 3). Default: none."""
        return [() for _ in shows]

    def _popularity_share(self, liked: np.ndarray, shows: np.ndarray) -> np.ndarray:
        """For each recommended show, the share of its score that popularity alone gives, in
        [0, 1] (reasons say "popular" from half). Default: 0, a purely personal score."""
        return np.zeros(len(shows))

    def _reasons(
        self, liked: np.ndarray, shows: np.ndarray, because: list[tuple[int, ...]]
    ) -> list[str]:
        """For each recommended show, its tie to the liked shows in words. Default: none."""
        return ["" for _ in shows]

    # ---------------------------------------------------------------- recommend
    def _check_fitted(self) -> None:
        if not hasattr(self, "n_shows_"):
            raise NotFittedError(f"{self!r} is not fitted: call fit() or load() first")

    def _check_indices(self, values: Sequence[int] | np.ndarray | None, what: str) -> np.ndarray:
        arr = np.asarray([] if values is None else values)
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{what} must be a 1-D list of integer show indices, got {arr!r}")
        bad = arr[(arr < 0) | (arr >= self.n_shows_)]
        if bad.size:
            raise ValueError(
                f"{what} has show indices outside 0..{self.n_shows_ - 1}: {bad[:5].tolist()}"
            )
        return np.unique(arr.astype(np.int64))

    def recommend(
        self, liked: Sequence[int] | np.ndarray, n: int = 10, exclude: Sequence[int] | None = None
    ) -> list[Recommendation]:
        """Top ``n`` shows for someone who liked ``liked`` (fold-in: no user row needed).

        Liked shows and ``exclude`` never appear in the result; results are sorted by score,
        highest first, ties broken by the lower show index (deterministic).
        """
        self._check_fitted()
        liked_arr = self._check_indices(liked, "liked")
        excl = self._check_indices(exclude, "exclude")
        n = self._check_n(n)
        scores = np.array(self._scores(liked_arr), dtype=np.float64)
        return self._select(scores, liked_arr, excl, n)

    def recommend_batch(
        self,
        liked_lists: Sequence[Sequence[int] | np.ndarray],
        n: int = 10,
        exclude: Sequence[Sequence[int] | None] | None = None,
    ) -> list[list[Recommendation]]:
        """``recommend`` for many anonymous users at once; equals one ``recommend`` call per user.

        Scoring is vectorised where the model allows (one sparse product for similarity models).
        """
        self._check_fitted()
        n = self._check_n(n)
        if exclude is not None and len(exclude) != len(liked_lists):
            raise ValueError(f"exclude has {len(exclude)} lists for {len(liked_lists)} users")
        liked_arrs = [self._check_indices(row, f"liked[{i}]") for i, row in enumerate(liked_lists)]
        excls = [
            self._check_indices(None if exclude is None else exclude[i], f"exclude[{i}]")
            for i in range(len(liked_arrs))
        ]
        results: list[list[Recommendation]] = []
        # Chunks bound the dense (chunk x n_shows) score block's memory.
        chunk = 512
        for start in range(0, len(liked_arrs), chunk):
            part = liked_arrs[start : start + chunk]
            if len(part) == 1:
                # One user (a served request is a batch of one): the per-user scoring, which
                # skips building a one-row sparse matrix (~0.2 ms a request for item kNN).
                scores = np.array(self._scores(part[0]), dtype=np.float64)[np.newaxis]
            else:
                scores = self._scores_batch(liked_rows(part, self.n_shows_))
            for j, row in enumerate(part):
                results.append(self._select(scores[j].copy(), row, excls[start + j], n))
        return results

    def top_n_batch(self, rows: sp.csr_matrix, n: int = 10) -> np.ndarray:
        """The show indices ``recommend_batch`` would return, for the users whose liked shows are
        the rows of ``rows`` (an indicator CSR, n_users x n_shows), as one (n_users x n) array
        padded with -1. Whole blocks at once: no per-user Python, no reasons; for evaluations.
        """
        self._check_fitted()
        n = self._check_n(n)
        if rows.shape[1] != self.n_shows_:
            raise ValueError(f"rows have {rows.shape[1]} columns, the model {self.n_shows_} shows")
        rows = indicator_rows(rows)
        # Blocks of about 2M scores (16 MB, a few copies while ranking) whatever the catalogue.
        chunk = min(4096, max(64, SCORE_BLOCK // max(1, self.n_shows_)))
        out = np.empty((rows.shape[0], n), dtype=np.int64)
        for start in range(0, rows.shape[0], chunk):
            block = rows[start : start + chunk]
            scores = np.array(self._scores_batch(block), dtype=np.float64)
            if scores.shape != block.shape:
                raise RuntimeError(f"{self!r} produced scores of shape {scores.shape}")
            if np.isnan(scores).any():
                raise RuntimeError(f"{self!r} produced NaN scores")
            owners = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
            scores[owners, block.indices] = -np.inf  # liked shows are never recommended
            out[start : start + block.shape[0]] = top_n_rows(scores, n, overwrite=True)
        return out

    @staticmethod
    def _check_n(n: int) -> int:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        return int(n)

    def _select(
        self, scores: np.ndarray, liked: np.ndarray, exclude: np.ndarray, n: int
    ) -> list[Recommendation]:
        if scores.shape != (self.n_shows_,):
            raise RuntimeError(f"{self!r} produced scores of shape {scores.shape}")
        # NaN would sort unpredictably; a model producing it is a bug, not a ranking.
        if np.isnan(scores).any():
            raise RuntimeError(f"{self!r} produced NaN scores")
        scores[liked] = -np.inf
        scores[exclude] = -np.inf
        shows = top_n(scores, n)
        because = self._because(liked, shows) if len(liked) and len(shows) else []
        if not because:
            because = [() for _ in shows]
        share = np.ones(len(shows))  # nothing liked: only popularity can have chosen them
        if len(liked) and len(shows):
            share = np.clip(self._popularity_share(liked, shows), 0.0, 1.0)
        reasons = self._reasons(liked, shows, because) if len(shows) else []
        return [
            Recommendation(
                show=int(s),
                score=float(scores[s]),
                because=tuple(b),
                popularity_share=float(p),
                reason=r,
            )
            for s, b, p, r in zip(shows, because, share, reasons, strict=True)
        ]

    # ---------------------------------------------------------------- artifact
    @abstractmethod
    def _state(self) -> State:
        """The learned arrays to save (dense ndarrays or CSR matrices), by name."""

    @abstractmethod
    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        """Restore what ``_state`` returned (``arrays`` as read back from the artifact)."""

    def save(self, path: Path | str) -> None:
        """Write the learned state and the vocabulary as .npz + JSON (format version, checksum)."""
        self._check_fitted()
        write_artifact(
            Path(path),
            name=self.name,
            params=self.get_params(),
            arrays=self._state(),
            n_shows=self.n_shows_,
            vocabulary=self.vocabulary_.to_arrays(),
        )

    @classmethod
    def load(cls, path: Path | str) -> Self:
        """Read what ``save`` wrote; refuse a corrupted or tampered artifact; never unpickle."""
        return cls.from_artifact(read_artifact(Path(path)), Path(path))

    @classmethod
    def from_artifact(cls, art: Artifact, path: Path) -> Self:
        """The model an already read and checked artifact describes (``path`` names errors)."""
        where = path / "model.json"
        if art.name != cls.name:
            raise ArtifactError(where, f"holds model {art.name!r}, not {cls.name!r}")
        # A parameter added since the artifact was saved takes the value it was saved without.
        legacy = {p.name: p.legacy for p in cls.PARAMS if p.legacy is not None}
        try:
            model = cls(**{**legacy, **art.params})
        except ValueError as err:
            raise ArtifactError(where, f"bad params: {err}") from err
        try:
            vocabulary = ShowVocabulary.from_arrays(art.vocabulary)
        except ValueError as err:
            raise ArtifactError(path / "arrays.npz", f"bad vocabulary: {err}") from err
        try:
            return model.with_state(art.arrays, vocabulary)
        except KeyError as err:
            raise ArtifactError(path / "arrays.npz", f"missing array {err}") from err

    def with_state(self, arrays: Mapping[str, Any], vocabulary: ShowVocabulary) -> Self:
        """Adopt arrays made elsewhere (an artifact, Spark) as ``fit`` would (KeyError: missing)."""
        self.n_shows_ = len(vocabulary)  # first: composite models hand it on to their parts
        self.vocabulary_ = vocabulary
        self._set_state(arrays)
        return self
