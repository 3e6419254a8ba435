"""Fit a model on a split's training part and score its top-k on the held-out part.

``evaluate`` scores one model with fixed parameters. The whole protocol (tune, refit, score the
test part) is :func:`nextshow.evaluation.protocol.run_evaluation`, built on top of this module.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from nextshow.evaluation.metrics import metric_key
from nextshow.evaluation.scoring import accuracy, as_relevant_csr, as_top_array, beyond
from nextshow.evaluation.splits import Split
from nextshow.progress import progress_bar
from nextshow.recommenders import kinds
from nextshow.recommenders.base import Recommender, ShowMetadata

log = logging.getLogger(__name__)

DEFAULT_K = 10
DEFAULT_SEED = 42
SEED_PARAMS = ("seed", "random_state")  # hyperparameter names models use for their seed
BATCH_USERS = 2048  # users per scored block: large enough to vectorise, small for memory

ModelFactory = Callable[..., Recommender]  # (**params) -> an unfitted model


@dataclass(frozen=True)
class RunOptions:
    """How to run an evaluation; travels unchanged from the CLI to every model."""

    k: int = DEFAULT_K
    seed: int = DEFAULT_SEED
    progress: bool = False
    measure_artifact: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.k <= 1000:
            raise ValueError(f"k must be in [1, 1000], got {self.k}")


@dataclass
class ModelEvaluation:
    """One model's score on one split, with what it cost."""

    model: str
    params: dict[str, Any]  # every hyperparameter of the fitted model, defaults included
    metrics: dict[str, float]
    users: int  # test users scored
    fit_seconds: float
    recommend_seconds: float
    artifact_bytes: int | None  # None when not measured (tuning trials)
    tuning: list[dict[str, Any]] = field(default_factory=list)  # validation trials, grid order
    chosen: dict[str, Any] = field(default_factory=dict)  # the params set explicitly (grid pick)
    validation: dict[str, float] = field(default_factory=dict)  # chosen params on validation

    def metric(self, name: str, k: int) -> float:
        return self.metrics[metric_key(name, k)]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def kind_factory(name: str) -> ModelFactory:
    """A factory creating the model kind ``name`` (:mod:`nextshow.recommenders.kinds`)."""
    return lambda **params: kinds.create(name, **params)


# The candidate set of a first model (``"quick"``): every model whose fit is one sparse product
# or a count (well under a second at the original scale, each grid point too), popularity
# included since its coverage sets the choice's floor. Left out: ALS, BPR, EASE (a dense shows x
# shows inversion), blend and ranker (several fits each); a full choice ("all") adds them later.
QUICK_CANDIDATES = ("popularity", "recent-popularity", "itemknn", "rp3beta", "time-aware", "graph")


def parse_model_names(text: str) -> list[str]:
    """``"all"``, ``"quick"`` (:data:`QUICK_CANDIDATES`) or ``"a,b,c"`` -> known model names, in
    the given (or alphabetical) order.

    Unknown names raise ValueError listing the known ones, before any data is read.
    """
    known = kinds.names()
    if text.strip() == "all":
        if not known:
            raise ValueError("no recommender kinds are known")
        return known
    if text.strip() == "quick":
        return [name for name in known if name in QUICK_CANDIDATES]
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("--models needs 'all' or comma-separated model names")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return list(dict.fromkeys(names))  # a model named twice is evaluated once


def make_model(factory: ModelFactory, params: dict[str, Any], seed: int) -> Recommender:
    """Create a model; a model with a seed hyperparameter gets ``seed`` unless params set one."""
    model = factory(**params)
    defaults = model.get_params()
    extra = {p: seed for p in SEED_PARAMS if p in defaults and p not in params}
    return factory(**params, **extra) if extra else model


def recommend_users(
    model: Recommender,
    split: Split,
    users: Sequence[int] | np.ndarray,
    k: int,
    *,
    progress: bool = False,
    desc: str = "users",
) -> np.ndarray:
    """Top-k show indices of each user (rows; -1 pads a shorter list), recommended from their
    training likes only.

    The users' training rows go to ``top_n_batch`` in blocks: one sparse product and one
    row-wise top-k per block, and a progress bar that moves.
    """
    rows = split.train[np.asarray(users, dtype=np.int64)]
    out = np.empty((rows.shape[0], k), dtype=np.int64)
    with progress_bar(
        enabled=progress, total=rows.shape[0], desc=desc, unit="user", leave=False
    ) as bar:
        for start in range(0, rows.shape[0], BATCH_USERS):
            block = rows[start : start + BATCH_USERS]
            out[start : start + block.shape[0]] = model.top_n_batch(block, k)
            bar.update(block.shape[0])
    return out


def train_popularity(train: sp.csr_matrix) -> np.ndarray:
    """Training likes per show (float64): what novelty and the long-tail metric measure against."""
    return np.asarray(train.sum(axis=0), dtype=np.float64).ravel()


def score_lists(
    recommendations: Sequence[Sequence[int]] | np.ndarray,
    relevant: Sequence[Sequence[int]] | sp.csr_matrix,
    popularity: np.ndarray,
    *,
    k: int,
    seed: int = DEFAULT_SEED,
) -> tuple[dict[str, float], int]:
    """Every reported metric at ``k`` (accuracy, coverage and beyond accuracy) of one top-k list
    per user, and the number of users scored.

    The one scoring function of every engine and check (``evaluate``, the Spark engine's driver,
    the gate's frozen split), so their metrics are the same by construction. ``popularity`` is
    the training likes per show (``train_popularity``); its length is the number of shows.
    ``recommendations``: lists, or a (users x k) array padded with -1; ``relevant``: lists, or
    a CSR matrix with one row per user. Computed on whole arrays (:mod:`.scoring`).
    """
    n_shows = len(popularity)
    top = as_top_array(recommendations, k)
    held_out = as_relevant_csr(relevant, n_shows)
    scores = accuracy(top, held_out, k, n_shows)
    users = int(scores.pop("users"))
    scores.pop("users_dropped")
    scores.update(beyond(top, held_out, popularity, k, seed))
    return scores, users


def _artifact_bytes(model: Recommender) -> int:
    """Bytes on disk of everything ``save`` writes (a file or a folder)."""
    with tempfile.TemporaryDirectory(prefix="nextshow-eval-") as tmp:
        model.save(Path(tmp) / "model")
        return sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())


def evaluate(
    model_name: str,
    params: dict[str, Any],
    split: Split,
    *,
    metadata: ShowMetadata | None = None,
    options: RunOptions | None = None,
    factory: ModelFactory | None = None,
) -> ModelEvaluation:
    """Fit ``model_name`` with ``params`` on ``split.train``, score top-k on ``split.test``.

    ``factory`` defaults to the model kinds table; the quality benchmark passes its own for
    models outside it. Fit time is wall-clock seconds of ``fit`` alone.
    """
    options = options or RunOptions()
    factory = factory or kind_factory(model_name)
    model = make_model(factory, params, options.seed)
    started = time.perf_counter()
    model.fit(split.train, metadata, split.train_timestamps)
    fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    recommendations = recommend_users(
        model, split, split.test_users, options.k, progress=options.progress, desc=model_name
    )
    recommend_seconds = time.perf_counter() - started
    relevant = split.test[split.test_users]
    scores, users = score_lists(
        recommendations, relevant, train_popularity(split.train), k=options.k, seed=options.seed
    )
    return ModelEvaluation(
        model=model_name,
        params=model.get_params(),
        metrics=scores,
        users=users,
        fit_seconds=fit_seconds,
        recommend_seconds=recommend_seconds,
        artifact_bytes=_artifact_bytes(model) if options.measure_artifact else None,
        chosen=dict(params),
    )
