"""Hybrid: collaborative and content scores blended per show by how much evidence the show has.

For a candidate show ``s`` with ``n_s`` likes in the training data, the weight of the
collaborative side is ``w_s = n_s / (n_s + evidence)`` and the score is
``w_s * collab_s + (1 - w_s) * c * content_s``, both sides normalised per user over the
candidates (``c`` = ``content_weight`` <= 1 lets validation temper cold shows against warm ones).
A show nobody has liked yet (``w_s = 0``) is scored by its content alone, so it can still be
recommended; a show with many likes is ranked mostly by what people co-like. A user whose liked
shows give the collaborative side nothing to go on (none of them was co-liked) is scored by
content alone. With zero likes in the store this is the content model; retraining as likes
arrive moves weight to the collaborative side. Per-item evidence weighting in the spirit of
Burke, "Hybrid recommender systems: survey and experiments" (UMUAI 2002), weighted hybrid.
Cost: the sum of the two models' costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders import kinds
from nextshow.recommenders.base import MAX_BECAUSE, Recommender, ShowMetadata, State, liked_rows
from nextshow.recommenders.content import Content
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param
from nextshow.recommenders.similarity import like_counts, normalise_candidates


def _collaborative(value: Any) -> str:
    if not isinstance(value, str) or value not in kinds.names():
        raise ValueError(f"must be a registered model name, got {value!r}")
    if getattr(kinds.get(value), "uses_catalogue", False):
        raise ValueError(f"{value!r} is not a collaborative model")
    return value


def _params(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a dict of parameters, got {value!r}")
    return dict(value)


def evidence_weights(likes: sp.csr_matrix, evidence: float) -> np.ndarray:
    """``n_s / (n_s + evidence)`` per show: 0 for a show nobody liked, towards 1 with many likes."""
    counts = like_counts(likes)
    return counts / (counts + evidence)


@register
class Hybrid(Recommender):
    """Evidence-weighted blend of a collaborative model and ``content`` (module docstring)."""

    name: ClassVar[str] = "hybrid"
    uses_catalogue: ClassVar[bool] = True
    PARAMS = (
        Param("collaborative", str, "itemknn", check=_collaborative, doc="collaborative model"),
        Param("collaborative_params", dict, {}, check=_params, doc="its parameters"),
        Param("content_params", dict, {}, check=_params, doc="parameters of content"),
        Param("evidence", float, 10.0, low=0.0, low_open=True, doc="likes for half weight"),
        Param("content_weight", float, 0.3, low=0.0, high=1.0, doc="scale of the content side"),
        Param("normalize", str, "max", choices=("max", "minmax", "rank")),
    )
    collaborative: str
    collaborative_params: dict[str, Any]
    content_params: dict[str, Any]
    evidence: float
    content_weight: float
    normalize: str

    collab_: Recommender
    content_: Content
    weight_: np.ndarray

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # Complete both sides' params with their defaults (checked), so get_params is the recipe.
        self._params["collaborative_params"] = self._collab_model().get_params()
        self._params["content_params"] = Content(**self.content_params).get_params()
        self.collaborative_params = self._params["collaborative_params"]
        self.content_params = self._params["content_params"]

    def _collab_model(self) -> Recommender:
        return kinds.create(self.collaborative, **self.collaborative_params)

    @property
    def needs_timestamps(self) -> bool:  # type: ignore[override]
        return self._collab_model().needs_timestamps

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        self.content_ = Content(**self.content_params).fit(likes, metadata)
        self.collab_ = self._collab_model().fit(likes, metadata, timestamps)
        self.weight_ = evidence_weights(likes, self.evidence)

    def _scores(self, liked: np.ndarray) -> np.ndarray:
        return self._scores_batch(liked_rows([liked], self.n_shows_))[0]

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        collab = normalise_candidates(self.collab_._scores_batch(rows), rows, self.normalize)
        content = normalise_candidates(self.content_._scores_batch(rows), rows, self.normalize)
        signal = (collab.max(axis=1, keepdims=True) > 0).astype(np.float64)
        weight = self.weight_[np.newaxis, :] * signal
        return weight * collab + (1.0 - weight) * self.content_weight * content

    def _because(self, liked: np.ndarray, shows: np.ndarray) -> list[tuple[int, ...]]:
        # The side that weighs more on a show explains it first.
        collab = self.collab_._because(liked, shows)
        content = self.content_._because(liked, shows)
        out = []
        for j, show in enumerate(shows):
            first, second = (collab, content) if self.weight_[show] >= 0.5 else (content, collab)
            merged = list(first[j]) + [s for s in second[j] if s not in first[j]]
            out.append(tuple(merged[:MAX_BECAUSE]))
        return out

    def _reasons(
        self, liked: np.ndarray, shows: np.ndarray, because: list[tuple[int, ...]]
    ) -> list[str]:
        content = self.content_._because(liked, shows)
        return [
            self.content_.reason(content[j][0], int(show))
            if self.weight_[show] < 0.5 and content[j]
            else ""
            for j, show in enumerate(shows)
        ]

    def _state(self) -> State:
        state: State = {"weight": self.weight_}
        state.update({f"collab__{k}": v for k, v in self.collab_._state().items()})
        state.update({f"content__{k}": v for k, v in self.content_._state().items()})
        return state

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        self.weight_ = np.asarray(arrays["weight"], dtype=np.float64)
        for attr, model in (
            ("collab_", self._collab_model()),
            ("content_", Content(**self.content_params)),
        ):
            prefix = attr.rstrip("_") + "__"
            model.n_shows_ = self.n_shows_
            model._set_state(
                {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            )
            setattr(self, attr, model)
