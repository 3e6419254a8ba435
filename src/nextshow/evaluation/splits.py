"""Train / test splits: the original "last 20 % of prolific reviewers' likes" holdout, made precise.

Rule (``TemporalHoldout``): a user with at least ``min_likes`` likes is a test user. Their likes are
ordered by time (ties by show index) when timestamps are known, else by show index; the last
``n_test = min(n - 1, max(1, floor(test_fraction * n + 0.5)))`` likes are held out (round half up,
at least one, and at least one kept for training), the rest stay in train. Every like of every
other user stays in train. For the default 20 % that is: 5–7 likes -> 1 held out, 8–12 -> 2, ...

A validation split (``validation_split``) applies the same rule to the training part only, so
hyperparameters are chosen without ever looking at the test part.

Orientation: every matrix is CSR (n_users, n_shows) over the same users and shows as the input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import SEED, make_rng

DEFAULT_MIN_LIKES = 5
DEFAULT_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Split:
    """A train part to fit on and a held-out part to score, over the same users and shows.

    ``test_users`` are the row indices of users with held-out likes (sorted); each has at least one
    training like, so every model is scored from the user's own history (fold-in).
    """

    train: sp.csr_matrix  # (n_users, n_shows) likes to fit on
    train_timestamps: sp.csr_matrix | None  # same sparsity as train
    test: sp.csr_matrix  # (n_users, n_shows) held-out likes, non-empty only for test_users
    test_users: np.ndarray  # int64 row indices
    min_likes: int
    test_fraction: float
    rule: str = "user-time"  # which holdout made it; validation_split applies the same one
    dropped: int = 0  # likes in neither part (global-time: other users' likes after the cut)
    eligible_users: int | None = None  # test users before sampling (None: not sampled)

    @property
    def n_users(self) -> int:
        return self.train.shape[0]

    @property
    def n_shows(self) -> int:
        return self.train.shape[1]

    def liked(self, user: int) -> np.ndarray:
        """The user's training likes (show indices), the input a model recommends from."""
        return self.train.indices[self.train.indptr[user] : self.train.indptr[user + 1]]

    def held_out(self, user: int) -> np.ndarray:
        """The user's held-out likes (show indices)."""
        return self.test.indices[self.test.indptr[user] : self.test.indptr[user + 1]]

    def describe(self) -> dict[str, Any]:
        return {
            "users": self.n_users,
            "shows": self.n_shows,
            "train_likes": int(self.train.nnz),
            "test_likes": int(self.test.nnz),
            "test_users": len(self.test_users),
            "eligible_test_users": (
                len(self.test_users) if self.eligible_users is None else self.eligible_users
            ),
            "min_likes": self.min_likes,
            "test_fraction": self.test_fraction,
            "rule": self.rule,
            "dropped_likes": self.dropped,
        }

    def sampled(self, max_users: int | None, seed: int = SEED) -> Split:
        """The same split scored on at most ``max_users`` of its test users, drawn with ``seed``
        (``sample_users``); the others' held-out likes stay out of training, so the sample's
        metrics estimate the whole split's without bias. All users fit: ``self`` unchanged."""
        if max_users is None or len(self.test_users) <= max_users:
            return self
        chosen = sample_users(self.test_users, max_users, seed)
        return replace(self, test_users=chosen, eligible_users=len(self.test_users))


def sample_users(users: np.ndarray, max_users: int | None, seed: int = SEED) -> np.ndarray:
    """At most ``max_users`` (None: all) of ``users`` (sorted), drawn without replacement with
    ``seed``: the one sampling rule of both engines, so the same ids and seed give the same
    sample."""
    users = np.asarray(users, dtype=np.int64)
    if max_users is None or len(users) <= max_users:
        return users
    pick = make_rng(seed).choice(len(users), size=max_users, replace=False)
    return np.sort(users[pick])


def n_held_out(n_likes: np.ndarray | int, test_fraction: float) -> np.ndarray:
    """How many of ``n_likes`` likes are held out: round half up, at least 1, at most n - 1."""
    n = np.asarray(n_likes, dtype=np.int64)
    # floor(x + 0.5) rather than round(): Python and numpy round half to even.
    wanted = np.floor(test_fraction * n + 0.5).astype(np.int64)
    return np.minimum(n - 1, np.maximum(1, wanted))


@dataclass(frozen=True)
class TemporalHoldout:
    """Hold out the last ``test_fraction`` of each prolific user's likes (see module docstring)."""

    min_likes: int = DEFAULT_MIN_LIKES
    test_fraction: float = DEFAULT_TEST_FRACTION
    rule = "user-time"

    def __post_init__(self) -> None:
        if isinstance(self.min_likes, bool) or not isinstance(self.min_likes, int | np.integer):
            raise ValueError(f"min_likes must be an integer >= 2, got {self.min_likes!r}")
        if self.min_likes < 2:
            # One like cannot be split into a training history and a held-out part.
            raise ValueError(f"min_likes must be an integer >= 2, got {self.min_likes}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(
                f"test_fraction must be in the open interval (0, 1), got {self.test_fraction}"
            )

    def split(self, likes: sp.csr_matrix, timestamps: sp.csr_matrix | None = None) -> Split:
        """Split ``likes`` (n_users x n_shows CSR); ``timestamps`` must share its sparsity."""
        likes, timestamps = _check_input(likes, timestamps)
        result = self._split(likes, timestamps)
        _check_split(result, likes)
        return result

    def _split(self, likes: sp.csr_matrix, timestamps: sp.csr_matrix | None) -> Split:
        n_users = likes.shape[0]
        counts = np.diff(likes.indptr).astype(np.int64)
        rows = np.repeat(np.arange(n_users, dtype=np.int64), counts)
        cols = likes.indices.astype(np.int64)
        # Order each row by (key, show index); rank = position within the row in that order.
        order = np.lexsort((cols, self._order_key(likes, timestamps), rows))
        rank = np.empty(likes.nnz, dtype=np.int64)
        rank[order] = np.arange(likes.nnz, dtype=np.int64) - likes.indptr[rows[order]]
        eligible = counts >= self.min_likes
        n_test = np.where(eligible, n_held_out(counts, self.test_fraction), 0)
        is_test = rank >= (counts - n_test)[rows]

        train = _subset(likes, rows, ~is_test)
        train_ts = _subset(timestamps, rows, ~is_test) if timestamps is not None else None
        test = _subset(likes, rows, is_test)
        return Split(
            train=train,
            train_timestamps=train_ts,
            test=test,
            test_users=np.flatnonzero(eligible).astype(np.int64),
            min_likes=self.min_likes,
            test_fraction=self.test_fraction,
            rule=self.rule,
        )

    def _order_key(self, likes: sp.csr_matrix, timestamps: sp.csr_matrix | None) -> np.ndarray:
        """Per like, the value that orders a user's likes (the last ones are held out)."""
        return timestamps.data if timestamps is not None else np.zeros(likes.nnz)


@dataclass(frozen=True)
class RandomHoldout(TemporalHoldout):
    """Hold out a seeded random ``test_fraction`` of each prolific user's likes.

    The rule for data without timestamps: ordering by show index (what ``user-time`` falls back
    to) would always hold out the shows numbered last, which is not a random holdout. Each like
    gets a uniform key from ``make_rng(seed)``; the likes with the largest keys are held out, so
    the same input and seed always give the same split. Timestamps, when given, are ignored.
    """

    seed: int = SEED
    rule = "random"

    def _order_key(self, likes: sp.csr_matrix, timestamps: sp.csr_matrix | None) -> np.ndarray:
        return make_rng(self.seed).random(likes.nnz)


@dataclass(frozen=True)
class GlobalTimeHoldout(TemporalHoldout):
    """One cut-off time for everyone: nothing liked after it is seen in training.

    The per-user rule lets a model fitted on other users' later likes "predict" a user's past
    (on the demo data, popularity measured at the global end scores far better than popularity
    as each user saw it). This rule removes that leak: the cut is the ``1 - test_fraction``
    quantile of all like times; every like after it leaves the training part; a user with at
    least ``min_likes`` likes, one or more before the cut and one or more after it, is a test
    user and their likes after the cut are held out; other users' later likes are dropped.
    """

    rule = "global-time"

    def _split(self, likes: sp.csr_matrix, timestamps: sp.csr_matrix | None) -> Split:
        if timestamps is None:
            raise ValueError("the global-time split needs like timestamps")
        n_users = likes.shape[0]
        counts = np.diff(likes.indptr).astype(np.int64)
        rows = np.repeat(np.arange(n_users, dtype=np.int64), counts)
        times = timestamps.data
        cut = np.quantile(times, 1.0 - self.test_fraction, method="lower") if len(times) else 0
        after = times > cut
        before_counts = np.bincount(rows[~after], minlength=n_users)
        after_counts = np.bincount(rows[after], minlength=n_users)
        eligible = (counts >= self.min_likes) & (before_counts > 0) & (after_counts > 0)
        is_test = after & eligible[rows]
        train = _subset(likes, rows, ~after)
        return Split(
            train=train,
            train_timestamps=_subset(timestamps, rows, ~after),
            test=_subset(likes, rows, is_test),
            test_users=np.flatnonzero(eligible).astype(np.int64),
            min_likes=self.min_likes,
            test_fraction=self.test_fraction,
            rule=self.rule,
            dropped=int(after.sum() - is_test.sum()),
        )


@dataclass(frozen=True)
class HeldOutShows(TemporalHoldout):
    """Cold start: hold out every like of a seeded random ``test_fraction`` of the liked shows.

    A model is judged on recommending shows it has never seen liked. The held-out shows are
    drawn (seed ``seed``) among the shows with at least one like; all their likes leave the
    training part. A user with at least ``min_likes`` likes, one or more of them on kept shows
    and one or more on held-out shows, is a test user; other users' likes of held-out shows are
    dropped (in neither part), so no model ever sees them.
    """

    test_fraction: float = 0.1
    seed: int = SEED
    rule = "held-out-shows"

    def _split(self, likes: sp.csr_matrix, timestamps: sp.csr_matrix | None) -> Split:
        n_users, n_shows = likes.shape
        counts = np.diff(likes.indptr).astype(np.int64)
        rows = np.repeat(np.arange(n_users, dtype=np.int64), counts)
        liked_shows = np.flatnonzero(np.bincount(likes.indices, minlength=n_shows))
        n_out = int(np.floor(self.test_fraction * len(liked_shows) + 0.5))
        rng = np.random.default_rng(self.seed)
        held = np.zeros(n_shows, dtype=bool)
        held[rng.choice(liked_shows, size=min(n_out, len(liked_shows)), replace=False)] = True
        out = held[likes.indices]
        kept_counts = np.bincount(rows[~out], minlength=n_users)
        out_counts = np.bincount(rows[out], minlength=n_users)
        eligible = (counts >= self.min_likes) & (kept_counts > 0) & (out_counts > 0)
        is_test = out & eligible[rows]
        return Split(
            train=_subset(likes, rows, ~out),
            train_timestamps=_subset(timestamps, rows, ~out) if timestamps is not None else None,
            test=_subset(likes, rows, is_test),
            test_users=np.flatnonzero(eligible).astype(np.int64),
            min_likes=self.min_likes,
            test_fraction=self.test_fraction,
            rule=self.rule,
            dropped=int(out.sum() - is_test.sum()),
        )


SPLIT_RULES: dict[str, type[TemporalHoldout]] = {
    TemporalHoldout.rule: TemporalHoldout,
    GlobalTimeHoldout.rule: GlobalTimeHoldout,
    RandomHoldout.rule: RandomHoldout,
    HeldOutShows.rule: HeldOutShows,
}
TIMED_RULES = frozenset({TemporalHoldout.rule, GlobalTimeHoldout.rule})  # need like times
SEEDED_RULES = frozenset({RandomHoldout.rule, HeldOutShows.rule})  # draw with a seed


def make_holdout(
    rule: str = "user-time",
    min_likes: int = DEFAULT_MIN_LIKES,
    test_fraction: float | None = None,
    seed: int = SEED,
) -> TemporalHoldout:
    """The holdout named ``rule``: ``user-time`` (the original heuristic), ``global-time``
    (leak-free), ``random`` (seeded, for data without timestamps) or ``held-out-shows`` (cold
    start: a seeded ``test_fraction`` of the shows). ``test_fraction`` None: the rule's own."""
    if rule not in SPLIT_RULES:
        raise ValueError(f"split rule must be one of {', '.join(SPLIT_RULES)}, got {rule!r}")
    options: dict[str, float | int] = {"min_likes": min_likes}
    if test_fraction is not None:
        options["test_fraction"] = test_fraction
    if rule in SEEDED_RULES:
        options["seed"] = seed
    return SPLIT_RULES[rule](**options)  # type: ignore[arg-type]


def validation_split(split: Split, holdout: TemporalHoldout | None = None) -> Split:
    """Carve a validation split out of ``split.train`` with the same rule (never touching test).

    Its ``train`` is the original training part minus the validation likes; its ``test`` holds the
    validation likes. Used for hyperparameter search only.
    """
    holdout = holdout or make_holdout(split.rule, split.min_likes, split.test_fraction)
    return holdout.split(split.train, split.train_timestamps)


def _subset(matrix: sp.csr_matrix, rows: np.ndarray, keep: np.ndarray) -> sp.csr_matrix:
    """The entries of ``matrix`` where ``keep`` is true, with the row/column order unchanged."""
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix(
        (matrix.data[keep], matrix.indices[keep], indptr.astype(matrix.indptr.dtype)),
        shape=matrix.shape,
    )


def _check_input(
    likes: sp.csr_matrix, timestamps: sp.csr_matrix | None
) -> tuple[sp.csr_matrix, sp.csr_matrix | None]:
    if not sp.issparse(likes) or likes.format != "csr":
        raise ValueError("likes must be a scipy.sparse CSR matrix (n_users x n_shows)")
    if not likes.has_sorted_indices:
        likes = likes.sorted_indices()
    if timestamps is not None:
        if not sp.issparse(timestamps) or timestamps.format != "csr":
            raise ValueError("timestamps must be a CSR matrix with the same sparsity as likes")
        if not timestamps.has_sorted_indices:
            timestamps = timestamps.sorted_indices()
        if (
            timestamps.shape != likes.shape
            or not np.array_equal(timestamps.indptr, likes.indptr)
            or not np.array_equal(timestamps.indices, likes.indices)
        ):
            raise ValueError("timestamps must have exactly the same sparsity as likes")
    return likes, timestamps


def _check_split(split: Split, likes: sp.csr_matrix) -> None:
    """The invariants every split must keep; a failure here is a bug, so it raises loudly."""
    if split.train.shape != likes.shape or split.test.shape != likes.shape:
        raise AssertionError("split changed the matrix shape")
    if split.train.nnz + split.test.nnz + split.dropped != likes.nnz:
        raise AssertionError("split lost or duplicated likes")
    if split.train.multiply(split.test).nnz:
        raise AssertionError("a like is both in train and test")
    train_counts = np.diff(split.train.indptr)
    test_counts = np.diff(split.test.indptr)
    if np.any(train_counts[split.test_users] == 0):
        raise AssertionError("a test user has no training history")
    if np.any(test_counts[split.test_users] == 0):
        raise AssertionError("a test user has no held-out likes")
    others = np.ones(likes.shape[0], dtype=bool)
    others[split.test_users] = False
    if np.any(test_counts[others]):
        raise AssertionError("a non-test user has held-out likes")
    if split.train_timestamps is not None and not (
        np.array_equal(split.train_timestamps.indptr, split.train.indptr)
        and np.array_equal(split.train_timestamps.indices, split.train.indices)
    ):
        raise AssertionError("train timestamps lost the sparsity of train")
