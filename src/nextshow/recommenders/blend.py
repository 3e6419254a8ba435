"""Blend: a weighted sum of the normalised scores of two or more registered models.

Score fusion as in Fox & Shaw's CombSUM ("Combination of multiple searches", TREC-2, 1994):
each component's scores are normalised per user over the candidate shows (liked shows left out,
so they cannot stretch the scale), then summed with the given weights. Typical use: a similarity
model + recent popularity. Cost: the sum of the components' costs.

Params: ``components`` = ``[{"name": "ease", "params": {"l2": 500.0}, "weight": 1.0}, ...]``,
``normalize`` = ``minmax`` | ``rank`` | ``max``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders import kinds
from nextshow.recommenders.base import MAX_BECAUSE, Recommender, ShowMetadata, State, liked_rows
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param
from nextshow.recommenders.similarity import normalise_candidates

DEFAULT_COMPONENTS = (
    {"name": "ease", "params": {"l2": 500.0}, "weight": 1.0},
    {"name": "recent-popularity", "params": {"mode": "decay", "days": 14.0}, "weight": 1.0},
)


def check_components(value: Any) -> list[dict[str, Any]]:
    """A list of at least two {name, params, weight} dicts; each component's params are checked
    by its own class and completed with its defaults, so get_params() is the full config."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise ValueError(f"must be a list of at least two components, got {value!r}")
    out = []
    for i, comp in enumerate(value):
        if not isinstance(comp, Mapping) or set(comp) - {"name", "params", "weight"}:
            raise ValueError(f"component {i} must be a dict with name, params, weight: {comp!r}")
        name = comp.get("name")
        if not isinstance(name, str) or name not in kinds.names():
            raise ValueError(f"component {i} has unknown model name {name!r}")
        params = comp.get("params", {})
        if not isinstance(params, Mapping):
            raise ValueError(f"component {i} params must be a dict, got {params!r}")
        weight = comp.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ValueError(f"component {i} weight must be a number >= 0, got {weight!r}")
        full = kinds.create(name, **params).get_params()
        out.append({"name": name, "params": full, "weight": float(weight)})
    return out


@register
class Blend(Recommender):
    """Weighted sum of normalised component scores (see module docstring)."""

    name: ClassVar[str] = "blend"
    PARAMS = (
        Param("components", list, [dict(c) for c in DEFAULT_COMPONENTS], check=check_components),
        Param("normalize", str, "max", choices=("minmax", "rank", "max")),
    )
    components: list[dict[str, Any]]
    normalize: str
    models_: list[Recommender]

    def _parts(self) -> list[Recommender]:
        return [kinds.create(c["name"], **c["params"]) for c in self.components]

    @property
    def needs_timestamps(self) -> bool:  # type: ignore[override]
        return any(m.needs_timestamps for m in self._parts())  # instances: blends can nest

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        self.models_ = [m.fit(likes, metadata, timestamps) for m in self._parts()]

    def _scores(self, liked: np.ndarray) -> np.ndarray:
        return self._scores_batch(liked_rows([liked], self.n_shows_))[0]

    def _parts_batch(self, rows: sp.csr_matrix) -> list[np.ndarray]:
        """Each component's weighted, normalised scores (zeros for a zero weight)."""
        parts = []
        for comp, model in zip(self.components, self.models_, strict=True):
            part = np.zeros(rows.shape, dtype=np.float64)
            if comp["weight"] > 0:
                scores = normalise_candidates(model._scores_batch(rows), rows, self.normalize)
                part = comp["weight"] * scores
            parts.append(part)
        return parts

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        total = np.zeros(rows.shape, dtype=np.float64)
        for part in self._parts_batch(rows):
            total += part
        return total

    def _popularity_share(self, liked: np.ndarray, shows: np.ndarray) -> np.ndarray:
        # Each component's share of the blended score, weighted by its own popularity share.
        parts = [p[0, shows] for p in self._parts_batch(liked_rows([liked], self.n_shows_))]
        total = np.sum(parts, axis=0)
        shares = [m._popularity_share(liked, shows) for m in self.models_]
        popular = np.sum([p * sh for p, sh in zip(parts, shares, strict=True)], axis=0)
        return np.clip(np.divide(popular, total, out=np.ones(len(shows)), where=total > 0), 0, 1)

    def _because(self, liked: np.ndarray, shows: np.ndarray) -> list[tuple[int, ...]]:
        # Merge the components' reasons, heaviest component first.
        order = np.argsort([-c["weight"] for c in self.components], kind="stable")
        reasons = [self.models_[i]._because(liked, shows) for i in order]
        out = []
        for j in range(len(shows)):
            merged: list[int] = []
            for per_model in reasons:
                merged += [s for s in per_model[j] if s not in merged]
            out.append(tuple(merged[:MAX_BECAUSE]))
        return out

    def _state(self) -> State:
        state: State = {}
        for i, model in enumerate(self.models_):
            state.update({f"c{i}__{k}": v for k, v in model._state().items()})
        return state

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        self.models_ = self._parts()
        for i, model in enumerate(self.models_):
            prefix = f"c{i}__"
            model.n_shows_ = self.n_shows_
            model._set_state(
                {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            )
