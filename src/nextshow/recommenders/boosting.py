"""Gradient-boosted trees as plain arrays: fit with scikit-learn, predict in numpy, never pickle.

scikit-learn's ``HistGradientBoostingClassifier`` (Ke et al., "LightGBM", NeurIPS 2017, the
histogram method it implements) learns the trees; :func:`export_boosting` copies every node
(feature, threshold, missing-value side, children, leaf value) into concatenated arrays that fit
in an ``.npz``, and :func:`boosting_decision` walks them, giving ``decision_function`` exactly.
Cost: prediction walks ``trees x depth`` nodes per row, vectorised over rows.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def boosting_decision(trees: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Raw score (log-odds of class 1) of each row of X: baseline plus every tree's leaf value.

    Equals ``HistGradientBoostingClassifier.decision_function(X)``: a row goes left when its
    feature is ``<=`` the threshold, and a NaN goes to the side the tree learned for missing.
    """
    X = np.asarray(X, dtype=np.float64)
    baseline, n_features = trees["gb_baseline"]
    if X.ndim != 2 or X.shape[1] != int(n_features):
        raise ValueError(f"expected rows of {int(n_features)} features, got shape {X.shape}")
    left, right = trees["gb_left"], trees["gb_right"]
    feature, threshold = trees["gb_feature"], trees["gb_threshold"]
    missing_left, roots = trees["gb_missing_left"], trees["gb_roots"]
    n = X.shape[0]
    total = np.full(n, baseline, dtype=np.float64)
    if len(roots) == 0 or n == 0:
        return total
    # Rows a block at a time: the (tree, row) pairs of a block stay in the CPU's caches (500k
    # rows x 100 trees at once took 17 s, in blocks of ~2.6k rows 4 s) and memory stays small.
    step = max(1, PAIRS_PER_BLOCK // len(roots))
    if n > step:
        for start in range(0, n, step):
            total[start : start + step] = boosting_decision(trees, X[start : start + step])
        return total
    # Flat (tree, row) pairs, tree-major; each step moves only the pairs not yet at a leaf.
    node = np.repeat(roots, n)
    sample = np.tile(np.arange(n), len(roots))
    active = np.flatnonzero(left[node] >= 0)
    while active.size:
        at = node[active]
        x = X[sample[active], feature[at]]
        missing = np.isnan(x)
        go_left = np.where(missing, missing_left[at], x <= threshold[at])
        node[active] = np.where(go_left, left[at], right[at])
        active = active[left[node[active]] >= 0]
    leaf_values = trees["gb_value"][node].reshape(len(roots), n)
    # Tree by tree in a fixed order, so any batch of rows gives the same numbers.
    for t in range(len(roots)):
        total += leaf_values[t]
    return total
