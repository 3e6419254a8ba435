"""Recommenders: one module per model, one interface (base.Recommender), plain-data artifacts.

Importing this package adds every built-in model to :mod:`.kinds` (name -> class):

===================  ==========================================================================
name                 parameters (defaults)
===================  ==========================================================================
popularity           (none)
recent-popularity    mode="decay" | "window", days=14.0
itemknn              k=100, shrink=0.0
graph                k=20
rp3beta              alpha=1.0, beta=0.5, k=200
ease                 l2=500.0, top_k=0 (0 = dense)
als                  factors=32, regularization=0.05, alpha=2.0, iterations=15
time-aware           base="itemknn" | "ease" | "rp3beta", half_life_days=60.0,
                     pop_half_life_days=14.0, pop_weight=1.5, k=200, shrink=20.0, l2=500.0,
                     alpha=1.0, beta=0.3, ease_dense=True
ranker               label_split="global-time" | "user-time" | "random", n_candidates=50,
                     alpha=0.5, beta=0.3, k=200, shrink=10.0, cuts=3, negatives=0.25,
                     n_users=5000, max_iter=100, learning_rate=0.05, max_leaf_nodes=15,
                     min_samples_leaf=100, l2=1.0, period=10, taste=4.0
blend                components=[{name, params, weight}, ...], normalize="max" | "minmax" | "rank"
content              people=2.0, genres=1.0, era=0.5, type=0.25, prior=0.05, k=100 (needs
                     metadata; no likes needed)
hybrid               collaborative="itemknn", collaborative_params={}, content_params={},
                     evidence=10.0, content_weight=0.3, normalize="max"
===================  ==========================================================================

``recent-popularity`` and ``time-aware`` need the timestamps matrix in ``fit``; ``ranker``
uses it when given (recent popularity, show age) and learns from a random holdout without it.
``kinds.params_of(name)`` gives the typed declarations.
"""

from nextshow.recommenders import (  # noqa: F401  (importing adds the models to kinds)
    als,
    blend,
    content,
    ease,
    hybrid,
    itemknn,
    popularity,
    ranker,
    rp3beta,
    time_aware,
)
from nextshow.recommenders.artifact import ArtifactError
from nextshow.recommenders.base import (
    NotFittedError,
    Recommendation,
    Recommender,
    ShowMetadata,
    make_rng,
)
from nextshow.recommenders.kinds import create, get, load_artifact, names, register
from nextshow.recommenders.vocabulary import ShowVocabulary, UnknownShowError

__all__ = [
    "ArtifactError",
    "NotFittedError",
    "Recommendation",
    "Recommender",
    "ShowMetadata",
    "ShowVocabulary",
    "UnknownShowError",
    "create",
    "get",
    "load_artifact",
    "make_rng",
    "names",
    "register",
]
