"""Ranker: a learned re-ranker over candidates from a personal and a "popular lately" generator.

Two generators propose candidates: an RP3beta walk from the liked shows (Paudel et al. 2017)
and recent popularity (likes decayed with a 7-day half-life). Gradient-boosted trees
(:mod:`.boosting`) score every candidate from :data:`ranker_features.FEATURES`: each
generator's score, popularity at several time scales, show age, IMDb rating and votes, genre
overlap and how the candidate sits against the person's taste. The two-stage set-up follows
Covington et al., "Deep Neural Networks for YouTube Recommendations" (RecSys 2016); how much
popularity should weigh against taste is learned from the data, not set by hand.

Learning without a leak: the training likes are split again (``label_split``: one cut-off
time for everyone, each user's last likes, or a seeded random holdout), ``cuts`` times, holding
out the last 10 %, 20 %, ... ; each time the features come from the part before the labels only
and the trees learn which candidates were liked afterwards. Several cuts give the trees several
"moments" to learn from, so what they learn is less tied to one week's hits. Counts enter as
ratios to the most liked show, which mean the same on the smaller earlier matrices. The
features are then refitted on every like for serving. The label split should mirror how the
model is used (what comes next: ``global-time``); it is a hyperparameter, tuned on validation.

Measured on the demo data's leak-free validation split (NDCG@10): 0.1268, against 0.1258 for
the best single signal (likes in the last 7 days); one cut and every negative kept: 0.1178; a
second walk over recent likes added nothing (0.1261) and was removed.

Every ``period``-th place of the list is a personal pick (:mod:`.discovery`: the walk score to
the power ``taste`` times recent popularity): the trees alone rank nearly everyone's list from
the same lately popular shows (coverage@10 3.9 % on the demo's user-time test split). On the
validation splits (NDCG@10 / coverage@10) one pick in ten costs little: user-time 0.1368 / 5.5 %
-> 0.1329 / 19.6 %, global-time 0.1245 / 1.9 % -> 0.1234 / 9.7 %; one in five 0.1192 / 15.3 %
(global-time).

The trees' P(liked) is weighed by the plain forecast ``(1 + likes in the last 7 days)`` to the
power ``prior`` (:func:`with_prior`; all-time likes without timestamps): what the trees learn
about a show's future from a few label cuts swings from one training window to the next, and
the product pulls the head back towards "liked this week". On five leak-free validation
origins of the demo data (the bench's validation split, one 10 % earlier, two and three
validation splits deep, one in between), ``prior`` 0 / 0.5 / 1 gave NDCG@10 0.1277 / 0.1333 /
0.1333 on average (0.5 better at 4 of 5 origins), coverage@10 8.5 / 7.3 / 6.3 %.

Cost: fit = cuts x (RP3beta + cosine: the sparse X.T @ X, and people x candidates feature rows)
+ the trees (``max_iter`` x kept rows); scoring = the walk, the candidates, their features and
trees x depth per candidate, each a compiled loop (:mod:`.kernels`, numba): ~0.4 ms a 5-show
request at the original scale, against ~1 ms as numpy array programs. The price is memory: numba
and LLVM add ~100 MB to a process that serves the ranker (the other models never load them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import (
    Recommender,
    ShowMetadata,
    State,
    liked_rows,
    make_rng,
    top_contributors,
    top_n,
)
from nextshow.recommenders.boosting import (
    BOOSTING_KEYS,
    boosting_decision,
    compile_forest,
    fit_boosting,
)
from nextshow.recommenders.discovery import interleave_ordered, pick_scores
from nextshow.recommenders.item_similarity import contributions
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param
from nextshow.recommenders.ranker_features import (
    FEATURES,
    RECENT_COLUMN,
    WINDOW_COLUMN,
    genre_matrix,
    pair_features,
    show_features,
)
from nextshow.recommenders.selection import csr_arrays, stored_cells
from nextshow.recommenders.similarity import cosine_similarity, rp3beta_similarity, top_k_per_row

LABEL_SPLITS = ("global-time", "user-time", "random")
LABEL_STEP = 0.1  # label split i holds out the last (i + 1) x 10 % of the likes
NO_PICKS = 1_000_000  # a ``period`` no list reaches: the ranker as it was before picks
MEMO_PEOPLE = 64  # a batch of at most this many people is kept for its reasons
CROWD_CACHE = 64  # mainstream people scored per loaded model before the cache starts again


@dataclass(frozen=True)
class _Scored:
    """People's interleaved scores (people x shows), which places are picks, and each person's
    candidates with the trees' P(liked) for them (concatenated in people's order)."""

    scores: np.ndarray
    is_pick: np.ndarray
    cands: list[np.ndarray]
    proba: np.ndarray


def _person_key(liked: np.ndarray) -> bytes:
    """The same key for the same liked shows, in whatever order or integer type they come."""
    return np.unique(np.asarray(liked, dtype=np.int64)).tobytes()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def with_prior(proba: np.ndarray, window: np.ndarray, weight: float) -> np.ndarray:
    """``proba * window ** weight``: the trees' P(liked) times a plain forecast to a power.

    ``window`` is each candidate's (1 + likes in the last 7 days) / (1 + the top show's), in
    (0, 1]. The trees learn from a few label cuts, so what they learn about a show's future
    swings from one training window to the next; weighing their P(liked) by the plain "liked
    this week" forecast (a product of experts) pulls the head back towards it. Weight 0 is the
    trees alone.
    """
    return proba * np.power(window, weight)


@register
class Ranker(Recommender):
    """Boosted-tree re-ranker of personal + recently popular candidates (see module docstring)."""

    name: ClassVar[str] = "ranker"
    PARAMS = (
        Param("label_split", str, "global-time", choices=LABEL_SPLITS, doc="how labels are cut"),
        Param("n_candidates", int, 50, low=1, doc="candidates per generator"),
        Param("alpha", float, 0.5, low=0.0, low_open=True, doc="RP3beta walk exponent"),
        Param("beta", float, 0.3, low=0.0, high=2.0, doc="RP3beta popularity penalty"),
        Param("k", int, 200, low=1, doc="neighbours kept per show"),
        Param("shrink", float, 10.0, low=0.0, doc="cosine shrink"),
        Param("cuts", int, 3, low=1, high=4, doc="label splits, holding out 10 %, 20 %, ..."),
        Param("negatives", float, 0.25, low=0.0, high=1.0, low_open=True, doc="kept share"),
        Param("n_users", int, 5000, low=1, doc="users sampled per label split"),
        Param("max_iter", int, 100, low=1, doc="boosting rounds"),
        Param("learning_rate", float, 0.05, low=0.0, low_open=True),
        Param("max_leaf_nodes", int, 15, low=2),
        Param("min_samples_leaf", int, 100, low=1),
        Param("l2", float, 1.0, low=0.0),
        # Saved before picks existed: a period past any list (n is at most 1,000) keeps none.
        Param(
            "period",
            int,
            10,
            low=2,
            doc="every period-th place is a personal pick",
            legacy=NO_PICKS,
        ),
        Param("taste", float, 4.0, low=0.0, doc="exponent of the walk score in a pick"),
        Param(
            "prior",
            float,
            0.5,
            low=0.0,
            doc="exponent of the last week's likes on P(liked)",
            legacy=0.0,
        ),
    )
    label_split: str
    n_candidates: int
    alpha: float
    beta: float
    k: int
    shrink: float
    cuts: int
    negatives: float
    n_users: int
    max_iter: int
    learning_rate: float
    max_leaf_nodes: int
    min_samples_leaf: int
    l2: float
    period: int
    taste: float
    prior: float

    walk_: sp.csr_matrix
    cosine_: sp.csr_matrix
    shows_: np.ndarray
    genres_: sp.csr_matrix
    trees_: dict[str, np.ndarray]

    # ---------------------------------------------------------------- features
    def _fit_features(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        self.walk_ = top_k_per_row(rp3beta_similarity(likes, self.alpha, self.beta), self.k)
        self.cosine_ = top_k_per_row(cosine_similarity(likes, self.shrink), self.k)
        self.shows_ = show_features(likes, timestamps, metadata)
        self.genres_ = genre_matrix(metadata, likes.shape[1])
        self._derive()

    def _derive(self) -> None:
        """What every request would otherwise recompute from the show features (once per fit or
        load), then :meth:`_forget`."""
        shows = self.shows_
        n_shows = shows.shape[0]
        # exp of a log ratio to the top show: (1 + likes) / (1 + the top show's likes), in (0, 1].
        self._recent = np.exp(shows[:, RECENT_COLUMN])
        self._window = np.exp(shows[:, WINDOW_COLUMN])
        # The popularity generator's order: recent likes first, all-time likes break ties (both
        # logs relative to the top show); its first m shows are top_n(..., m).
        self._popular = top_n(shows[:, RECENT_COLUMN] + 1e-6 * shows[:, 0], n_shows)
        # The head's order of every show that is not a candidate (score 0.999 x recent).
        self._by_recent = np.argsort(-(0.999 * self._recent), kind="stable")
        self._by_likes = top_n(shows[:, 0], n_shows)  # the crowd's likes, most liked first
        self._forget()

    def _forget(self) -> None:
        """Drop what scoring kept of earlier people: it belongs to the features just replaced."""
        self._last: tuple[dict[bytes, int], _Scored] | None = None
        self._crowds: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def _candidates(self, rows: sp.csr_matrix, walk: np.ndarray) -> list[np.ndarray]:
        """The union of each generator's top ``n_candidates`` unliked shows, per person, sorted.

        All people at once (training asks for ~10^4 people's candidates at a time), compiled:
        :func:`kernels.ranker_candidates`."""
        from nextshow.recommenders.kernels import ranker_candidates  # numba loads on first use

        walk = np.asarray(walk, dtype=np.float64)
        cand_ptr, cand = ranker_candidates(
            walk, self._popular, self.n_candidates, *csr_arrays(rows)
        )
        return np.split(cand, cand_ptr[1:-1])

    def _walk(self, rows: sp.csr_matrix) -> np.ndarray:
        """The people's RP3beta walk scores, ``rows @ walk_`` dense (people x shows), compiled:
        the same sums as ``item_similarity.dense_scores`` (scipy's product), without building a
        sparse result first. The similarity models keep ``dense_scores``, so that only the
        ranker's processes load numba."""
        from nextshow.recommenders.kernels import csr_product_dense  # numba loads on first use

        return csr_product_dense(*csr_arrays(rows), *csr_arrays(self.walk_), rows.shape[1])

    def _pairs(
        self, rows: sp.csr_matrix, walk: np.ndarray | None = None
    ) -> tuple[list[np.ndarray], np.ndarray]:
        walk = self._walk(rows) if walk is None else walk
        cands = self._candidates(rows, walk)
        X = pair_features(rows, cands, walk, self.cosine_, self.shows_, self.genres_)
        return cands, X

    # ---------------------------------------------------------------- fit
    def _training_rows(
        self,
        likes: sp.csr_matrix,
        metadata: ShowMetadata | None,
        timestamps: sp.csr_matrix | None,
        fraction: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Feature rows and labels from one label split holding out ``fraction`` of the likes.

        Only people with a later like among their candidates teach anything about ranking; of
        their unliked candidates a seeded ``negatives`` share is kept (the positives are rare,
        and the trees need not see every easy negative).
        """
        # Imported here: the evaluation package imports the recommenders, not the other way round.
        from nextshow.evaluation.splits import make_holdout

        rule = self.label_split if timestamps is not None else "random"
        inner = make_holdout(rule, min_likes=2, test_fraction=fraction).split(likes, timestamps)
        self._fit_features(inner.train, metadata, inner.train_timestamps)
        rng = make_rng()
        users = inner.test_users
        if len(users) > self.n_users:
            users = np.sort(rng.choice(users, self.n_users, replace=False))
        if len(users) == 0:  # too few likes to hold any out: nothing to learn from this cut
            return np.zeros((0, len(FEATURES))), np.zeros(0, dtype=np.int8)
        rows = liked_rows([inner.liked(int(u)) for u in users], likes.shape[1])
        cands, X = self._pairs(rows)
        y = np.concatenate(
            [np.isin(c, inner.held_out(int(u))) for c, u in zip(cands, users, strict=True)]
        )
        person = np.repeat(np.arange(len(cands)), [len(c) for c in cands])
        has_positive = np.bincount(person, weights=y, minlength=len(cands)) > 0
        keep = has_positive[person] & (y | (rng.random(len(y)) < self.negatives))
        return X[keep], y[keep].astype(np.int8)

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        likes = sp.csr_matrix(likes)
        parts = [
            self._training_rows(likes, metadata, timestamps, LABEL_STEP * (i + 1))
            for i in range(self.cuts)
        ]
        self.trees_ = fit_boosting(
            np.vstack([X for X, _ in parts]),
            np.concatenate([y for _, y in parts]),
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2=self.l2,
        )
        self._forest = compile_forest(self.trees_)
        self._fit_features(likes, metadata, timestamps)  # serve with features of every like

    # ---------------------------------------------------------------- scoring
    def _scores(self, liked: np.ndarray) -> np.ndarray:
        scored = self._interleaved(liked_rows([liked], self.n_shows_))
        # The reasons of the same request need the same candidates and probabilities: keep them
        # (one tuple, replaced whole, so a concurrent request never sees half of another's).
        self._last = ({_person_key(liked): 0}, scored)
        return scored.scores[0]

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        scored = self._interleaved(rows)
        if rows.shape[0] <= MEMO_PEOPLE:  # a worker's batch: its reasons follow at once
            people = (
                rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
                for i in range(len(rows.indptr) - 1)
            )
            self._last = ({_person_key(liked): i for i, liked in enumerate(people)}, scored)
        return scored.scores

    def _interleaved(self, rows: sp.csr_matrix) -> _Scored:
        """The trees' order with a personal pick every ``period`` places, and which are picks.

        The head (``with_discoveries``' head, without its sort): candidates score 2 + P(liked) x
        the week's prior, every other show keeps the popularity order below 1 (0.999 x recent),
        liked shows come last. So each person's head order is their candidates by score, then
        the model's fixed popularity order without them: no sort of the whole catalogue.
        """
        walk = self._walk(rows)
        cands, X = self._pairs(rows, walk)
        proba = self._weighed(cands, X)
        picks = pick_scores(walk, self._recent, rows, self.taste)
        who, what = stored_cells(rows)
        liked = np.split(what, np.searchsorted(who, np.arange(1, rows.shape[0])))
        scores = np.empty(rows.shape)
        is_pick = np.empty(rows.shape, dtype=bool)
        start = 0
        for i, cand in enumerate(cands):
            mine = proba[start : start + len(cand)]
            start += len(cand)
            order = self._head_order(cand, mine, np.sort(liked[i]))
            scores[i], is_pick[i] = interleave_ordered(order, picks[i], self.period)
        return _Scored(scores, is_pick, cands, proba)

    def _head_order(self, cand: np.ndarray, proba: np.ndarray, liked: np.ndarray) -> np.ndarray:
        """Every show in one person's head order: the candidates (sorted, never liked) by
        2 + ``proba`` (ties by the lower show), the rest by popularity, the liked shows last."""
        from nextshow.recommenders.kernels import head_order  # numba loads on first use only

        return head_order(cand, proba, liked, self._by_recent)

    def _weighed(self, cands: list[np.ndarray], X: np.ndarray) -> np.ndarray:
        """The trees' P(liked) of every (person, candidate) row of X, times the week's prior."""
        flat = np.concatenate(cands) if cands else np.zeros(0, dtype=np.int64)
        return with_prior(
            _sigmoid(boosting_decision(self._forest, X)), self._window[flat], self.prior
        )

    def _popularity_share(self, liked: np.ndarray, shows: np.ndarray) -> np.ndarray:
        """P(liked) for a mainstream person, as a share of this person's P(liked), at most 1.

        The counterfactual is someone who liked as many shows as this person, the most liked
        ones (never one of ``shows``): what anyone would be recommended for following the crowd.
        A show that such a person would get as readily is there by popularity ("popular this
        month with people who like X"), however many of this person's shows the walk passed
        through; one their own taste carries is "because you liked X", and so is one that is
        not even among that person's candidates. A show outside this person's candidates is
        there by popularity alone; a personal pick is there by taste (share 0).
        """
        last = self._last
        row = None if last is None else last[0].get(_person_key(liked))
        if last is not None and row is not None:
            scored = last[1]
        else:  # scored in a batch too large to keep (an evaluation): score this one again
            scored, row = self._interleaved(liked_rows([liked], self.n_shows_)), 0
        cand = scored.cands[row]
        start = sum(len(c) for c in scored.cands[:row])
        full = scored.proba[start : start + len(cand)]
        crowd_cand, crowd_proba = self._crowd(len(liked), shows)
        crowd = np.zeros(len(shows))
        at = np.searchsorted(crowd_cand, shows)
        known = (at < len(crowd_cand)) & (crowd_cand[np.minimum(at, len(crowd_cand) - 1)] == shows)
        crowd[known] = crowd_proba[at[known]]
        share = np.ones(len(shows))
        where = np.searchsorted(cand, shows)
        found = (where < len(cand)) & (cand[np.minimum(where, len(cand) - 1)] == shows)
        share[found] = np.minimum(crowd[found] / full[where[found]], 1.0)
        return np.where(scored.is_pick[row, shows], 0.0, share)

    def _crowd(self, n_liked: int, shows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates and their P(liked) for someone who liked the ``n_liked`` most liked
        shows other than ``shows``. Few such people exist (one per list length, mostly), so
        each is scored once per loaded model."""
        by_likes = self._by_likes[: n_liked + len(shows)]
        crowd = np.sort(by_likes[~np.isin(by_likes, shows)][:n_liked])
        cache = self._crowds
        key = crowd.tobytes()
        if key not in cache:
            if len(cache) >= CROWD_CACHE:
                cache.clear()
            rows = liked_rows([crowd], self.n_shows_)
            walk = self._walk(rows)
            cands, X = self._pairs(rows, walk)
            cache[key] = (cands[0], self._weighed(cands, X))
        return cache[key]

    def _because(self, liked: np.ndarray, shows: np.ndarray) -> list[tuple[int, ...]]:
        return top_contributors(contributions(self.walk_, liked, shows), liked)

    # ---------------------------------------------------------------- artifact
    def _state(self) -> State:
        return {
            **self.trees_,
            "walk": self.walk_,
            "cosine": self.cosine_,
            "show_features": self.shows_,
            "genres": self.genres_,
        }

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        self.trees_ = {key: np.asarray(arrays[key]) for key in BOOSTING_KEYS}
        self._forest = compile_forest(self.trees_)
        self.walk_ = sp.csr_matrix(arrays["walk"])
        self.cosine_ = sp.csr_matrix(arrays["cosine"])
        self.shows_ = np.asarray(arrays["show_features"], dtype=np.float64)
        self.genres_ = sp.csr_matrix(arrays["genres"])
        self._derive()
