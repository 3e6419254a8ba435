"""Model choice: which registered models can run on the data, and which one the pipeline picks.

The rule (issue 12): among the candidates that ran, keep those whose catalogue coverage@k is at
least ``COVERAGE_FLOOR`` times popularity's (a list that shows everyone the same ten titles is
not a recommender, however well it scores), and pick the best by the gate metric. Scores are the
validation scores the tuning produced, so the test part still measures the chosen model once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from nextshow.evaluation.metrics import metric_key

GATE_METRIC = "ndcg"
COVERAGE_FLOOR = 10.0  # a chosen model covers at least this many times popularity's catalogue
REFERENCE = "popularity"  # the model whose coverage sets the floor
DENSE_BYTES_LIMIT = 4 * 1024**3  # EASE's shows x shows matrices (about 3 copies of 8 bytes)
DENSE_MODELS = frozenset({"ease"})


@dataclass(frozen=True)
class Skipped:
    """A candidate that was not run (or failed), with the one-line reason."""

    model: str
    reason: str


@dataclass(frozen=True)
class Choice:
    """The chosen model and why, for logs, ``evaluate --json`` (``selected``) and the registry."""

    selected: str | None
    metric: str
    floor: float  # the coverage@k a candidate needed
    eligible: list[str] = field(default_factory=list)
    below_floor: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def explain(self) -> str:
        if self.selected is None:
            return self.note or "no candidate could be chosen"
        text = (
            f"chose {self.selected}: best {self.metric} on validation among "
            f"{len(self.eligible)} candidate(s) with coverage >= {self.floor:.4f}"
        )
        return f"{text}; {self.note}" if self.note else text


def cannot_run(
    name: str, *, has_timestamps: bool, n_shows: int, has_credits: bool = True
) -> str | None:
    """Why model ``name`` (default parameters) cannot run on this data, or None if it can.

    Content models (``uses_catalogue``) run only where IMDb's credits are known: on genres and
    years alone they would be tuned and compared as a weaker collaborative model.
    """
    from nextshow.recommenders import kinds

    try:
        model = kinds.create(name)
    except ValueError as err:
        return f"cannot be created: {err}"
    if model.needs_timestamps and not has_timestamps:
        return "needs like timestamps; this data has none"
    if getattr(model, "uses_catalogue", False) and not has_credits:
        return "needs IMDb credits (people); import the TV datasets first"
    if name in DENSE_MODELS and 3 * 8 * n_shows**2 > DENSE_BYTES_LIMIT:
        gib = 3 * 8 * n_shows**2 / 1024**3
        return f"needs ~{gib:.0f} GiB for {n_shows} shows (dense shows x shows matrices)"
    return None


def choose(
    scores: Mapping[str, Mapping[str, float]],
    k: int,
    *,
    metric: str = GATE_METRIC,
    floor_ratio: float = COVERAGE_FLOOR,
    skipped: Sequence[Skipped] = (),
) -> Choice:
    """Pick from ``scores`` (model -> validation metrics, in candidate order; first wins a tie).

    The floor is ``floor_ratio`` x the reference's (popularity's) coverage@k; without a
    popularity score it is 0. When no candidate reaches the floor, the best by ``metric`` is
    chosen anyway and ``note`` says so, so a pipeline run never ends without a model.
    """
    key, cov = metric_key(metric, k), metric_key("coverage", k)
    if not scores:
        return Choice(None, key, 0.0, skipped=list(skipped), note="no candidate ran")
    reference = scores.get(REFERENCE, {}).get(cov)
    floor = floor_ratio * reference if reference is not None else 0.0
    eligible = [name for name, m in scores.items() if m.get(cov, 0.0) >= floor]
    below = [name for name in scores if name not in eligible]
    pool, note = eligible, ""
    if not eligible:
        pool = list(scores)
        note = f"no candidate reached coverage {floor:.4f}; chose the best {key} regardless"
    selected = max(pool, key=lambda name: scores[name].get(key, float("-inf")))
    return Choice(selected, key, floor, eligible, below, list(skipped), note)
