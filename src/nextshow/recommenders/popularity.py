"""Popularity baselines: the same list for everyone, minus what they already liked.

``popularity``: all-time like counts. ``recent-popularity``: likes near the newest like of the
training data ("now"), either inside a window or exponentially decayed with a half-life. On
time-ordered data such as MovieTweetings "what is popular now" is a strong baseline.
Cost: one pass over the likes; scoring is O(shows) per user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import Recommender, ShowMetadata, State
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param
from nextshow.recommenders.similarity import (
    decay_weights,
    like_counts,
    newest_time,
    reweighted,
    window_weights,
)


def recent_popularity(
    likes: sp.csr_matrix, timestamps: sp.csr_matrix, mode: str, days: float
) -> np.ndarray:
    """Per-show like weight near the newest timestamp: window counts or decayed counts.

    Ties (common with a short window) are broken by all-time counts, scaled below one like so
    they never overturn a real difference in recent likes.
    """
    now = newest_time(timestamps)
    if mode == "window":
        weights = window_weights(timestamps.data, now, days)
    else:
        weights = decay_weights(timestamps.data, now, days)
    return break_ties(like_counts(reweighted(likes, weights)), like_counts(likes))


def break_ties(recent: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Recent like weights plus all-time counts scaled below one like (orders equal weights)."""
    return recent + 1e-6 * total / (1.0 + total.max(initial=0.0))


class _ConstantScores(Recommender):
    """A model whose scores do not depend on the liked shows (popularity lists)."""

    popularity_: np.ndarray

    def _scores(self, liked: np.ndarray) -> np.ndarray:
        return self.popularity_.copy()

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.popularity_, (rows.shape[0], 1))

    def _popularity_share(self, liked: np.ndarray, shows: np.ndarray) -> np.ndarray:
        return np.ones(len(shows))  # the whole score is popularity

    def _state(self) -> State:
        return {"popularity": self.popularity_}

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        self.popularity_ = np.asarray(arrays["popularity"], dtype=np.float64)


@register
class Popularity(_ConstantScores):
    """Most-liked shows of all time (no parameters). Cost: O(likes) fit, O(shows) per user."""

    name: ClassVar[str] = "popularity"

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        self.popularity_ = like_counts(likes)


@register
class RecentPopularity(_ConstantScores):
    """Most-liked shows lately: likes in the last ``days`` before the newest like (``window``) or
    likes weighted ``0.5 ** (age / days)`` (``decay``, ``days`` = half-life).

    Time-decayed popularity as in Koren, "Collaborative filtering with temporal dynamics"
    (KDD 2009). Needs timestamps. Cost: O(likes) fit, O(shows) per user.
    """

    name: ClassVar[str] = "recent-popularity"
    needs_timestamps: ClassVar[bool] = True
    PARAMS = (
        Param("mode", str, "decay", choices=("decay", "window"), doc="decay or window"),
        Param("days", float, 14.0, low=0.0, low_open=True, doc="half-life or window, days"),
    )
    mode: str
    days: float

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        assert timestamps is not None  # checked by fit (needs_timestamps)
        self.popularity_ = recent_popularity(likes, timestamps, self.mode, self.days)
