"""Gradient-boosted trees as plain arrays: fit with scikit-learn, predict in numpy, never pickle.

scikit-learn's ``HistGradientBoostingClassifier`` (Ke et al., "LightGBM", NeurIPS 2017, the
histogram method it implements) learns the trees; :func:`export_boosting` copies every node
(feature, threshold, missing-value side, children, leaf value) into concatenated arrays that fit
in an ``.npz``, and :func:`boosting_decision` walks them (compiled, :mod:`.kernels`), giving
``decision_function`` exactly. Cost: prediction walks ``trees x depth`` nodes per row.
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
    """Exported trees as the contiguous arrays the compiled walk reads (:func:`compile_forest`)."""

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    baseline: float
    n_features: int


def compile_forest(trees: Mapping[str, np.ndarray]) -> Forest:
    """The :class:`Forest` of exported trees (once per loaded model, not per prediction)."""
    baseline, n_features = trees["gb_baseline"]

    def array(key: str, dtype: type) -> np.ndarray:
        return np.ascontiguousarray(trees[key], dtype=dtype)

    return Forest(
        left=array("gb_left", np.int64),
        right=array("gb_right", np.int64),
        feature=array("gb_feature", np.int64),
        threshold=array("gb_threshold", np.float64),
        missing_left=array("gb_missing_left", np.bool_),
        value=array("gb_value", np.float64),
        roots=array("gb_roots", np.int64),
        baseline=float(baseline),
        n_features=int(n_features),
    )


def boosting_decision(trees: Mapping[str, np.ndarray] | Forest, X: np.ndarray) -> np.ndarray:
    """Raw score (log-odds of class 1) of each row of X: baseline plus every tree's leaf value.

    Equals ``HistGradientBoostingClassifier.decision_function(X)``: a row goes left when its
    feature is ``<=`` the threshold, and a NaN goes to the side the tree learned for missing.
    Trees are added in their saved order, one row at a time, so any batch of rows gives the
    same numbers. ``trees`` as exported, or compiled once with :func:`compile_forest` (what
    serving does).
    """
    from nextshow.recommenders.kernels import forest_decision  # numba loads on first use only

    forest = trees if isinstance(trees, Forest) else compile_forest(trees)
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != forest.n_features:
        raise ValueError(f"expected rows of {forest.n_features} features, got shape {X.shape}")
    if len(forest.roots) == 0 or X.shape[0] == 0:
        return np.full(X.shape[0], forest.baseline)
    return forest_decision(
        forest.left,
        forest.right,
        forest.feature,
        forest.threshold,
        forest.missing_left,
        forest.value,
        forest.roots,
        forest.baseline,
        X,
    )
