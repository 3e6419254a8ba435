"""Gradient-boosted trees as plain arrays: fit with scikit-learn, predict in numpy, never pickle.

scikit-learn's ``HistGradientBoostingClassifier`` (Ke et al., "LightGBM", NeurIPS 2017, the
histogram method it implements) learns the trees; :func:`export_boosting` copies every node
(feature, threshold, missing-value side, children, leaf value) into concatenated arrays that fit
in an ``.npz``, and :func:`boosting_decision` walks them, giving ``decision_function`` exactly.
Cost: prediction walks ``trees x depth`` nodes per row, vectorised over rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nextshow.recommenders.base import SEED

BOOSTING_KEYS = (
    "gb_left",
    "gb_right",
    "gb_feature",
    "gb_threshold",
    "gb_missing_left",
    "gb_value",
    "gb_roots",
    "gb_baseline",
)


PAIRS_PER_BLOCK = 1 << 18  # (tree, row) pairs walked at once by boosting_decision


def fit_boosting(
    X: np.ndarray,
    y: np.ndarray,
    *,
    max_iter: int,
    learning_rate: float,
    max_leaf_nodes: int,
    min_samples_leaf: int,
    l2: float,
) -> dict[str, np.ndarray]:
    """Fit a binary ``HistGradientBoostingClassifier`` (seed 42, no early stopping) and export it.

    A label column with one class only (no positive example at all) gives a constant model.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    if len(np.unique(y)) < 2:
        return constant_boosting(X.shape[1], 1.0 if len(y) and y[0] else -1.0)
    model = HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=learning_rate,
        max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=min_samples_leaf,
        l2_regularization=l2,
        early_stopping=False,
        random_state=SEED,
    )
    # scikit-learn cannot bin a column with no known value; a constant column is never split
    # on, so the trees (and prediction) are the same as if it were missing everywhere.
    X = np.where(np.isnan(X).all(axis=0, keepdims=True), 0.0, X)
    # One OpenMP thread: on a shared machine spinning threads waiting for a busy core cost far
    # more than they gain, and one thread gives the same trees every time.
    with threadpool_limits(1, "openmp"):
        model.fit(X, y)
    return export_boosting(model)


def constant_boosting(n_features: int, value: float) -> dict[str, np.ndarray]:
    """A model with no trees that predicts ``value`` for every row."""
    empty = np.zeros(0, dtype=np.int64)
    return {
        "gb_left": empty,
        "gb_right": empty,
        "gb_feature": empty,
        "gb_threshold": np.zeros(0),
        "gb_missing_left": np.zeros(0, dtype=bool),
        "gb_value": np.zeros(0),
        "gb_roots": empty,
        "gb_baseline": np.array([value, float(n_features)]),
    }


def export_boosting(model: Any) -> dict[str, np.ndarray]:
    """A fitted binary HistGradientBoostingClassifier as concatenated node arrays.

    Child indices are made global (offset by the tree's first node); leaves have children -1.
    ``gb_baseline`` holds the initial raw prediction and the number of features (a check).
    """
    if getattr(model, "n_trees_per_iteration_", 1) != 1:
        raise ValueError("only binary classifiers can be exported")
    lefts, rights, feats, thresholds, missing, values, roots = [], [], [], [], [], [], []
    offset = 0
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        leaf = nodes["is_leaf"].astype(bool)
        roots.append(offset)
        lefts.append(np.where(leaf, -1, nodes["left"].astype(np.int64) + offset))
        rights.append(np.where(leaf, -1, nodes["right"].astype(np.int64) + offset))
        feats.append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64))
        thresholds.append(nodes["num_threshold"].astype(np.float64))
        missing.append(nodes["missing_go_to_left"].astype(bool))
        values.append(nodes["value"].astype(np.float64))
        offset += len(nodes)
    baseline = float(np.ravel(model._baseline_prediction)[0])
    return {
        "gb_left": np.concatenate(lefts),
        "gb_right": np.concatenate(rights),
        "gb_feature": np.concatenate(feats),
        "gb_threshold": np.concatenate(thresholds),
        "gb_missing_left": np.concatenate(missing),
        "gb_value": np.concatenate(values),
        "gb_roots": np.asarray(roots, dtype=np.int64),
        "gb_baseline": np.array([baseline, float(model.n_features_in_)]),
    }


@dataclass(frozen=True)
class Forest:
    """Exported trees laid out for prediction (:func:`compile_forest`).

    Nodes are numbered twice their index, so ``children[node + goes_left]`` is the next node
    (twice its index) without a multiplication per step; a leaf is its own child, so a row that
    reached one stays there while deeper trees walk on. A node's ``column`` is its feature in
    ``[X, X with NaN as -inf]``: a tree that sends missing values left reads the second copy,
    where NaN passes ``<=`` any threshold, one that sends them right reads the first, where NaN
    passes none. Trees are walked deepest first (``roots``), so the trees still walking at step
    ``k`` are the first ``walking[k]``: a slice, not a selection.
    """

    children: np.ndarray
    column: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    saved_order: np.ndarray  # the walked trees back in their saved order
    walking: tuple[int, ...]
    baseline: float
    n_features: int


def compile_forest(trees: Mapping[str, np.ndarray]) -> Forest:
    """The :class:`Forest` of exported trees (once per loaded model, not per prediction)."""
    left, right = trees["gb_left"], trees["gb_right"]
    roots = trees["gb_roots"]
    baseline, n_features = trees["gb_baseline"]
    leaf = left < 0
    index = np.arange(len(left))
    children = 2 * np.stack([np.where(leaf, index, right), np.where(leaf, index, left)], axis=1)
    column = np.where(
        trees["gb_missing_left"] & ~leaf, trees["gb_feature"] + int(n_features), trees["gb_feature"]
    )
    # Steps from each root to its deepest leaf: walk every tree's inner nodes level by level.
    steps = np.zeros(len(roots), dtype=np.int64)
    node, tree = roots, np.arange(len(roots))
    for step in range(1, len(left) + 1):
        inner = left[node] >= 0
        node, tree = node[inner], tree[inner]
        if not len(node):
            break
        steps[tree] = step
        node, tree = np.concatenate([left[node], right[node]]), np.concatenate([tree, tree])
    deepest_first = np.argsort(-steps, kind="stable")
    walking = tuple(int((steps > k).sum()) for k in range(int(steps.max(initial=0))))
    return Forest(
        children=children.ravel(),
        column=np.repeat(column, 2),
        threshold=np.repeat(trees["gb_threshold"], 2),
        value=np.repeat(trees["gb_value"], 2),
        roots=2 * roots[deepest_first],
        saved_order=np.argsort(deepest_first),
        walking=walking,
        baseline=float(baseline),
        n_features=int(n_features),
    )


def boosting_decision(trees: Mapping[str, np.ndarray] | Forest, X: np.ndarray) -> np.ndarray:
    """Raw score (log-odds of class 1) of each row of X: baseline plus every tree's leaf value.

    Equals ``HistGradientBoostingClassifier.decision_function(X)``: a row goes left when its
    feature is ``<=`` the threshold, and a NaN goes to the side the tree learned for missing.
    ``trees`` as exported, or compiled once with :func:`compile_forest` (what serving does).
    """
    forest = trees if isinstance(trees, Forest) else compile_forest(trees)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != forest.n_features:
        raise ValueError(f"expected rows of {forest.n_features} features, got shape {X.shape}")
    n, n_trees = X.shape[0], len(forest.roots)
    if n_trees == 0 or n == 0:
        return np.full(n, forest.baseline)
    # Rows a block at a time: the (tree, row) pairs of a block stay in the CPU's caches (500k
    # rows x 100 trees at once took 17 s, in blocks of ~2.6k rows 4 s) and memory stays small.
    step = max(1, PAIRS_PER_BLOCK // n_trees)
    if n > step:
        return np.concatenate(
            [boosting_decision(forest, X[start : start + step]) for start in range(0, n, step)]
        )
    flat = np.concatenate([X, np.where(np.isnan(X), -np.inf, X)], axis=1).ravel()
    # Flat (tree, row) pairs, tree-major, deepest trees first.
    node = np.repeat(forest.roots, n)
    at_row = np.tile(np.arange(n) * 2 * forest.n_features, n_trees)
    for trees_walking in forest.walking:
        part = node[: trees_walking * n]
        goes_left = flat[at_row[: len(part)] + forest.column[part]] <= forest.threshold[part]
        node[: len(part)] = forest.children[part + goes_left]
    leaf_values = forest.value[node].reshape(n_trees, n)[forest.saved_order]
    # Tree by tree in the saved order (a running sum, never pairwise), so any batch of rows
    # gives the same numbers.
    terms = np.vstack([np.full((1, n), forest.baseline), leaf_values])
    return np.add.accumulate(terms, axis=0)[-1]
