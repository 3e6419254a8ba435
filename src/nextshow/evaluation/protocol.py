"""The evaluation protocol: one object saying how models are split, tuned and scored, and the run.

``nextshow evaluate``, ``nextshow train``, the promotion gate, the retrain triggers and the
benchmarks all take a :class:`Protocol`, so the gate and a report can never disagree about which
model is better because they measured differently. :func:`run_evaluation` runs it for each
model in turn: split, tune on validation (:mod:`.tuning`), refit on the full training part with
the chosen parameters, score the test part once (:mod:`.evaluate`), then choose among the
registered models that ran (:mod:`.selection`).

Split rules (``split``):

- ``auto`` (default): ``global-time`` when every like has a timestamp, else ``random``.
- ``global-time``: one cut-off time for everyone (leak-free: nothing after it is trained on).
- ``user-time``: each user's latest likes, the original system's heuristic; kept for
  continuity. Other users' later likes stay in training, which leaks the future.
- ``random``: a seeded random share of each user's likes (data without timestamps).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from nextshow.evaluation.candidates import run_candidate
from nextshow.evaluation.dataset import Interactions
from nextshow.evaluation.evaluate import (
    DEFAULT_K,
    ModelEvaluation,
    ModelFactory,
    RunOptions,
    kind_factory,
)
from nextshow.evaluation.grids import GRIDS
from nextshow.evaluation.selection import Choice, Skipped, choose
from nextshow.evaluation.splits import (
    DEFAULT_MIN_LIKES,
    DEFAULT_TEST_FRACTION,
    SPLIT_RULES,
    TIMED_RULES,
    HeldOutShows,
    Split,
    TemporalHoldout,
    make_holdout,
    validation_split,
)
from nextshow.progress import progress_bar
from nextshow.recommenders import kinds
from nextshow.recommenders.base import SEED

log = logging.getLogger(__name__)

AUTO = "auto"
SPLIT_CHOICES = (AUTO, *SPLIT_RULES)
DEFAULT_TIME_BUDGET = 1800.0  # seconds for tuning every candidate when the pipeline chooses
# Test users scored per split. Per-user NDCG@10 has a standard deviation around 0.3, so 5,000
# users estimate a mean within about +-0.004 (one standard error): finer than the differences
# the choice and the gate act on, and at 300,000 test users a 60x smaller scoring bill.
DEFAULT_MAX_TEST_USERS = 5000


@dataclass(frozen=True)
class Protocol:
    """How to evaluate: split rule, min likes, k, seed, tuning on or off, time budget, sample.

    ``time_budget`` (seconds, ``None``: unlimited) bounds the tuning of a whole candidate set;
    a grid stops early once its share is spent and keeps the best point so far.
    ``max_test_users`` (``None``: all) caps the test users scored on each split (test and
    validation), drawn with ``seed`` (``Split.sampled``); the split itself, and so what every
    model trains on, does not depend on it. The report gives both counts.
    """

    split: str = AUTO
    min_likes: int = DEFAULT_MIN_LIKES
    k: int = DEFAULT_K
    seed: int = SEED
    tune: bool = True
    time_budget: float | None = DEFAULT_TIME_BUDGET
    test_fraction: float = DEFAULT_TEST_FRACTION
    max_test_users: int | None = DEFAULT_MAX_TEST_USERS

    def __post_init__(self) -> None:
        if self.split not in SPLIT_CHOICES:
            raise ValueError(f"split must be one of {', '.join(SPLIT_CHOICES)}, got {self.split!r}")
        if not 1 <= self.k <= 1000:
            raise ValueError(f"k must be in [1, 1000], got {self.k}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be > 0 seconds or None, got {self.time_budget}")
        if self.max_test_users is not None and self.max_test_users < 1:
            raise ValueError(f"max_test_users must be >= 1 or None, got {self.max_test_users}")
        make_holdout("random", self.min_likes, self.test_fraction, self.seed)  # checks both

    def rule_for(self, has_timestamps: bool) -> str:
        """The concrete split rule for data with (or without) like timestamps.

        ``auto`` picks ``global-time`` or ``random``; a time rule asked for on data without
        timestamps is refused, since ordering likes by show index is not a holdout at all.
        """
        if self.split == AUTO:
            return "global-time" if has_timestamps else "random"
        if self.split in TIMED_RULES and not has_timestamps:
            raise ValueError(
                f"the {self.split} split needs like timestamps; this data has none "
                "(use --split random or auto)"
            )
        return self.split

    def holdout(self, has_timestamps: bool) -> TemporalHoldout:
        rule = self.rule_for(has_timestamps)
        # held-out-shows holds out a share of the shows, not of each user's likes: its own 10 %.
        fraction = None if rule == HeldOutShows.rule else self.test_fraction
        return make_holdout(rule, self.min_likes, fraction, self.seed)

    def split_likes(self, interactions: Any) -> Split:
        """The test split of ``interactions`` (anything with ``likes`` and ``timestamps``),
        scored on the protocol's sample of its test users."""
        holdout = self.holdout(interactions.timestamps is not None)
        split = holdout.split(interactions.likes, interactions.timestamps)
        return split.sampled(self.max_test_users, self.seed)

    def validation(self, split: Split) -> Split:
        """The validation split carved from ``split``'s training part only, sampled alike."""
        return validation_split(split).sampled(self.max_test_users, self.seed)

    def splits(self, interactions: Any) -> tuple[Split, Split]:
        """(test split, validation split carved from its training part only)."""
        split = self.split_likes(interactions)
        return split, self.validation(split)

    def with_changes(self, **changes: Any) -> Protocol:
        """A copy with some fields changed (checked again)."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvaluationResult:
    """Every model's test score from one run of the protocol, how the run was set up, the
    candidates that were skipped and the model the pipeline would choose."""

    models: list[ModelEvaluation]
    k: int
    seed: int
    min_likes: int
    tuned: bool
    data: dict[str, Any]
    split: dict[str, Any]
    validation: dict[str, Any] | None
    protocol: dict[str, Any] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)  # candidates that did not run, and why
    choice: Choice | None = None  # the model the pipeline would register

    @property
    def selected(self) -> str | None:
        return self.choice.selected if self.choice is not None else None

    def get(self, model: str) -> ModelEvaluation:
        """The evaluation of ``model`` (KeyError when it did not run)."""
        for m in self.models:
            if m.model == model:
                return m
        raise KeyError(model)

    def best(self, metric: str = "ndcg") -> ModelEvaluation:
        """The model with the highest ``metric@k`` (first listed wins a tie)."""
        if not self.models:
            raise ValueError("no models were evaluated")
        return max(self.models, key=lambda m: m.metric(metric, self.k))

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["selected"] = self.selected
        body["models"] = body.pop("models")  # last: the report's JSON has always listed it last
        return body


def run_evaluation(
    interactions: Interactions,
    model_names: Sequence[str],
    *,
    protocol: Protocol | None = None,
    progress: bool = False,
    grids: dict[str, dict[str, list[Any]]] | None = None,
    factories: dict[str, ModelFactory] | None = None,
) -> EvaluationResult:
    """The whole protocol for each model: tune on validation (when ``protocol.tune``), refit,
    score test; then choose among the registered models that ran (``result.choice``).

    The test part is used exactly once per model, after its parameters are fixed; the choice
    reads validation scores (test scores when tuning is off). ``grids`` and ``factories``
    default to ``evaluation.grids.GRIDS`` and the model kinds table; models from ``factories``
    (the benchmark's peers) are scored but never chosen. ``protocol.seed`` reaches every model
    with a ``seed``/``random_state`` hyperparameter.
    """
    if not model_names:
        raise ValueError("at least one model name is needed")
    protocol = protocol or Protocol()
    grids = GRIDS if grids is None else grids
    factories = factories or {}
    options = RunOptions(k=protocol.k, seed=protocol.seed, progress=progress)
    split = protocol.split_likes(interactions)
    validation = protocol.validation(split) if protocol.tune else None
    budget = protocol.time_budget
    deadline = time.monotonic() + budget if budget is not None else None

    results: list[ModelEvaluation] = []
    skipped: list[Skipped] = []
    with progress_bar(enabled=progress, total=len(model_names), desc="models", unit="model") as bar:
        for name in model_names:
            bar.set_postfix_str(name)
            outcome = run_candidate(
                name,
                interactions,
                split,
                validation,
                options=options,
                grid=grids.get(name),
                factory=factories.get(name) or kind_factory(name),
                registered=name not in factories,
                deadline=deadline,
                first=not results,
            )
            if isinstance(outcome, Skipped):
                log.warning("skipped %s: %s", name, outcome.reason)
                skipped.append(outcome)
            else:
                results.append(outcome)
            bar.update(1)
    known = set(kinds.names())
    scores = {
        m.model: (m.validation or m.metrics)
        for m in results
        if m.model in known and m.model not in factories
    }
    return EvaluationResult(
        models=results,
        k=protocol.k,
        seed=protocol.seed,
        min_likes=protocol.min_likes,
        tuned=protocol.tune,
        data=interactions.describe(),
        split=split.describe(),
        validation=validation.describe() if validation is not None else None,
        protocol=protocol.as_dict(),
        skipped=skipped,
        choice=choose(scores, protocol.k, skipped=skipped),
    )
