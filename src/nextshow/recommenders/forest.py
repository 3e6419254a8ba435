"""Forest: the original author's random-forest re-ranker, made reproducible and pickle-free.

A cheap generator (item kNN, time-aware or popularity) proposes ``n_candidates`` shows; a
scikit-learn ``RandomForestClassifier`` (Breiman, "Random Forests", Machine Learning 2001)
scores each (liked shows, candidate) pair from the features in :data:`FEATURES`; candidates are
ranked by the predicted probability of being liked, every other show keeps the generator's
order below them. The two-stage set-up follows Covington et al., "Deep Neural Networks for
YouTube Recommendations" (RecSys 2016).

Training pairs come from the training matrix itself: ``n_users`` sampled users (seed 42) each
lose their ``holdout`` newest likes (the positives); the generator and the features are fitted
on the matrix without those likes (no leak), then refitted on everything for serving.

The artifact holds the trees as arrays (children, feature, threshold, leaf probability), and
:func:`forest_predict_proba` walks them in numpy: loading never unpickles anything.
Cost: fit = 2 generator fits + n_users x n_candidates feature rows + the forest
(n_estimators x rows x log rows); scoring = generator + n_candidates x depth x trees per user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders import kinds
from nextshow.recommenders.base import (
    SEED,
    Recommender,
    ShowMetadata,
    State,
    liked_rows,
    make_rng,
    top_contributors,
    top_n,
)
from nextshow.recommenders.item_similarity import contributions, dense_scores
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param
from nextshow.recommenders.popularity import recent_popularity
from nextshow.recommenders.similarity import (
    cosine_similarity,
    like_counts,
    max_rows,
    top_k_per_row,
)

FEATURES = (
    "sim_max",  # largest cosine between a liked show and the candidate
    "sim_mean",  # summed cosine / number of liked shows
    "sim_sum",
    "generator_rank",  # candidate's rank in the generator's list / n_candidates
    "log_popularity",  # log(1 + all-time likes)
    "recent_popularity",  # decayed likes / max (0 without timestamps)
    "genre_overlap",  # share of the candidate's genres found among the liked shows' genres
    "year_distance",  # |candidate year - mean liked year|, -1 when unknown
    "imdb_rating",  # -1 when unknown
    "n_liked",
)
TREE_KEYS = ("tree_left", "tree_right", "tree_feature", "tree_threshold", "tree_p1", "tree_roots")


# ---------------------------------------------------------------- trees as plain arrays
def export_forest(forest: Any) -> dict[str, np.ndarray]:
    """A fitted sklearn RandomForestClassifier (classes 0/1) as concatenated node arrays.

    Child indices are made global (offset by the tree's first node); ``p1`` is each node's
    probability of class 1, the quantity sklearn averages over trees in ``predict_proba``.
    """
    classes = list(forest.classes_)
    lefts, rights, feats, thresholds, p1s, roots = [], [], [], [], [], []
    offset = 0
    for est in forest.estimators_:
        tree = est.tree_
        value = tree.value[:, 0, :]
        frac = value / value.sum(axis=1, keepdims=True)
        p1 = frac[:, classes.index(1)] if 1 in classes else np.zeros(tree.node_count)
        left = tree.children_left.astype(np.int64)
        right = tree.children_right.astype(np.int64)
        leaf = left < 0
        roots.append(offset)
        lefts.append(np.where(leaf, -1, left + offset))
        rights.append(np.where(leaf, -1, right + offset))
        feats.append(np.where(leaf, 0, tree.feature).astype(np.int64))
        thresholds.append(tree.threshold.astype(np.float64))
        p1s.append(p1.astype(np.float64))
        offset += tree.node_count
    return {
        "tree_left": np.concatenate(lefts),
        "tree_right": np.concatenate(rights),
        "tree_feature": np.concatenate(feats),
        "tree_threshold": np.concatenate(thresholds),
        "tree_p1": np.concatenate(p1s),
        "tree_roots": np.asarray(roots, dtype=np.int64),
    }


def forest_predict_proba(trees: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Probability of class 1 for each row of X, walking every tree in numpy.

    Matches ``RandomForestClassifier.predict_proba(X)[:, 1]``: sklearn compares float32
    features with ``<=`` against the threshold, so X is rounded to float32 first.
    """
    X32 = np.asarray(X, dtype=np.float32).astype(np.float64)
    left, right = trees["tree_left"], trees["tree_right"]
    feature, threshold = trees["tree_feature"], trees["tree_threshold"]
    roots = trees["tree_roots"]
    n = X32.shape[0]
    node = np.repeat(roots[:, np.newaxis], n, axis=1)  # trees x samples
    sample = np.broadcast_to(np.arange(n), node.shape)
    while True:
        inner = left[node] >= 0
        if not inner.any():
            break
        go_left = X32[sample, feature[node]] <= threshold[node]
        node = np.where(inner, np.where(go_left, left[node], right[node]), node)
    # Sum tree by tree in a fixed order so any batch of rows gives the same numbers.
    total = np.zeros(n, dtype=np.float64)
    for t in range(len(roots)):
        total += trees["tree_p1"][node[t]]
    return total / len(roots)


# ---------------------------------------------------------------- features
def drop_entries(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """CSR ``matrix`` with only the stored entries where ``keep`` (same order as .data)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=matrix.shape[0]))])
    return sp.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)


def genre_matrix(metadata: ShowMetadata | None, n_shows: int) -> sp.csr_matrix:
    """shows x genres indicator (0 columns without metadata)."""
    if metadata is None or not metadata.genres:
        return sp.csr_matrix((n_shows, 0))
    vocab = sorted({g for gs in metadata.genres for g in gs})
    index = {g: i for i, g in enumerate(vocab)}
    rows = [s for s, gs in enumerate(metadata.genres) for _ in gs]
    cols = [index[g] for gs in metadata.genres for g in gs]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_shows, len(vocab)))


@register
class Forest(Recommender):
    """Random-forest re-ranker of a generator's candidates (see module docstring)."""

    name: ClassVar[str] = "forest"
    PARAMS = (
        # time-aware is the best generator on time-ordered data (needs timestamps);
        # itemknn and popularity work without.
        Param("generator", str, "time-aware", choices=("time-aware", "itemknn", "popularity")),
        Param("n_candidates", int, 50, low=1, doc="candidates re-ranked per user"),
        Param("n_estimators", int, 50, low=1),
        Param("max_depth", int, 8, low=1),
        Param("min_samples_leaf", int, 10, low=1),
        Param("n_users", int, 1000, low=1, doc="users sampled for training pairs"),
        Param("holdout", int, 2, low=1, doc="newest likes held out per sampled user"),
        Param("k", int, 200, low=1, doc="neighbours per show of the feature kNN"),
        Param("shrink", float, 10.0, low=0.0),
        Param("pop_half_life_days", float, 14.0, low=0.0, low_open=True),
    )
    generator: str
    n_candidates: int
    n_estimators: int
    max_depth: int
    min_samples_leaf: int
    n_users: int
    holdout: int
    k: int
    shrink: float
    pop_half_life_days: float

    generator_: Recommender
    similarity_: sp.csr_matrix
    show_features_: np.ndarray  # shows x 4: log_pop, recent_pop, year, imdb_rating
    genres_: sp.csr_matrix
    trees_: dict[str, np.ndarray]

    def _generator_model(self) -> Recommender:
        if self.generator == "itemknn":
            return kinds.create("itemknn", k=self.k, shrink=self.shrink)
        return kinds.create(self.generator)

    def _fit_features(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        n_shows = likes.shape[1]
        self.generator_ = self._generator_model().fit(likes, metadata, timestamps)
        self.similarity_ = top_k_per_row(cosine_similarity(likes, self.shrink), self.k)
        recent = (
            max_rows(recent_popularity(likes, timestamps, "decay", self.pop_half_life_days))
            if timestamps is not None
            else np.zeros(n_shows)
        )
        year = np.zeros(n_shows)
        rating = np.full(n_shows, -1.0)
        if metadata is not None and metadata.start_year is not None:
            year = np.asarray(metadata.start_year, dtype=np.float64)
        if metadata is not None and metadata.imdb_rating is not None:
            r = np.asarray(metadata.imdb_rating, dtype=np.float64)
            rating = np.where(np.isfinite(r), r, -1.0)
        self.show_features_ = np.column_stack([np.log1p(like_counts(likes)), recent, year, rating])
        self.genres_ = genre_matrix(metadata, n_shows)

    def _candidates(self, rows: sp.csr_matrix) -> list[np.ndarray]:
        gen = self.generator_._scores_batch(rows)
        out = []
        for i in range(rows.shape[0]):
            s = gen[i].copy()
            s[rows.indices[rows.indptr[i] : rows.indptr[i + 1]]] = -np.inf
            out.append(top_n(s, self.n_candidates))
        return out

    def _features(self, rows: sp.csr_matrix, cands: list[np.ndarray]) -> np.ndarray:
        """One feature row per (user, candidate) pair, users in order, candidates in order."""
        sims = dense_scores(rows, self.similarity_)
        n_liked = np.diff(rows.indptr).astype(np.float64)
        liked_genres = (rows @ self.genres_).toarray() > 0
        genre_count = np.asarray(self.genres_.sum(axis=1)).ravel()
        years = self.show_features_[:, 2]
        blocks = []
        for i, cand in enumerate(cands):
            liked = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
            sim_block = contributions(self.similarity_, liked, cand)
            sim_max = sim_block.max(axis=0) if len(liked) else np.zeros(len(cand))
            overlap = (
                np.asarray(self.genres_[cand] @ liked_genres[i].astype(np.float64)).ravel()
                / np.maximum(genre_count[cand], 1.0)
                if self.genres_.shape[1]
                else np.zeros(len(cand))
            )
            known = years[liked][years[liked] > 0]
            year_dist = (
                np.where(years[cand] > 0, np.abs(years[cand] - known.mean()), -1.0)
                if len(known)
                else np.full(len(cand), -1.0)
            )
            blocks.append(
                np.column_stack(
                    [
                        sim_max,
                        sims[i, cand] / max(n_liked[i], 1.0),
                        sims[i, cand],
                        np.arange(len(cand)) / self.n_candidates,
                        self.show_features_[cand, 0],
                        self.show_features_[cand, 1],
                        overlap,
                        year_dist,
                        self.show_features_[cand, 3],
                        np.full(len(cand), n_liked[i]),
                    ]
                )
            )
        return np.vstack(blocks) if blocks else np.zeros((0, len(FEATURES)))

    def _training_pairs(
        self, likes: sp.csr_matrix, timestamps: sp.csr_matrix | None
    ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Sampled users' kept likes (profiles) and held-out likes, and the mask of the likes
        that stay in the matrix the features are fitted on."""
        rng = make_rng(SEED)
        counts = np.diff(likes.indptr)
        eligible = np.flatnonzero(counts > self.holdout)
        users = np.sort(rng.permutation(eligible)[: self.n_users])
        keep = np.ones(likes.nnz, dtype=bool)
        profiles, held = [], []
        for u in users:
            lo, hi = likes.indptr[u], likes.indptr[u + 1]
            if timestamps is not None:
                # newest last; equal times keep show-index order (stable sort)
                order = np.argsort(timestamps.data[lo:hi], kind="stable")
            else:
                order = rng.permutation(hi - lo)
            out = lo + order[-self.holdout :]
            keep[out] = False
            held.append(np.sort(likes.indices[out]))
            profiles.append(np.setdiff1d(likes.indices[lo:hi], held[-1]))
        return keep, profiles, held

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        from sklearn.ensemble import RandomForestClassifier

        keep, profiles, held = self._training_pairs(likes, timestamps)
        rest_times = None if timestamps is None else drop_entries(timestamps, keep)
        self._fit_features(drop_entries(likes, keep), metadata, rest_times)
        rows = liked_rows(profiles, likes.shape[1])
        cands = self._candidates(rows)
        X = self._features(rows, cands)
        y = np.concatenate([np.isin(c, h) for c, h in zip(cands, held, strict=True)]).astype(int)
        forest = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            random_state=SEED,
            n_jobs=1,
        )
        forest.fit(X, y)
        self.trees_ = export_forest(forest)
        self._fit_features(likes, metadata, timestamps)  # serve with features of all likes

    def _scores(self, liked: np.ndarray) -> np.ndarray:
        return self._scores_batch(liked_rows([liked], self.n_shows_))[0]

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        # Non-candidates keep the generator's order in [0, 1); candidates score 1 + P(liked).
        base = 0.999 * max_rows(np.maximum(self.generator_._scores_batch(rows), 0.0))
        cands = self._candidates(rows)
        proba = forest_predict_proba(self.trees_, self._features(rows, cands))
        start = 0
        for i, cand in enumerate(cands):
            base[i, cand] = 1.0 + proba[start : start + len(cand)]
            start += len(cand)
        return base

    def _because(self, liked: np.ndarray, shows: np.ndarray) -> list[tuple[int, ...]]:
        return top_contributors(contributions(self.similarity_, liked, shows), liked)

    def _state(self) -> State:
        gen = {f"gen__{k}": v for k, v in self.generator_._state().items()}
        return {
            **gen,
            **self.trees_,
            "similarity": self.similarity_,
            "show_features": self.show_features_,
            "genres": self.genres_,
        }

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        self.generator_ = self._generator_model()
        self.generator_.n_shows_ = self.n_shows_
        self.generator_._set_state(
            {k[len("gen__") :]: v for k, v in arrays.items() if k.startswith("gen__")}
        )
        self.trees_ = {k: np.asarray(arrays[k]) for k in TREE_KEYS}
        self.similarity_ = arrays["similarity"]
        self.show_features_ = np.asarray(arrays["show_features"], dtype=np.float64)
        self.genres_ = arrays["genres"]
