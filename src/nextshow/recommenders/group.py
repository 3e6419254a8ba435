"""Group recommendation: one ranking for several people from each person's own scores.

Pure numpy, no model and no database: the input is a (members x shows) score matrix, one row per
member as the model scored that member alone, with ``-inf`` for shows that member may not get
(their own likes). A show excluded for any member is excluded for the group: nobody is offered
a show they already named.

Raw scores are not comparable between members (a member with five likes gets larger item-kNN
sums than one with a single like), so each member's scores become a *fit*: the share of the
group's candidate shows that this member's model ranks strictly below the show (0 = the
member's worst candidate, close to 1 = their best). Shows the model has no signal for tie at
the bottom and all get fit 0.

Strategies (Masthoff's classic aggregation rules):

- ``average``: the mean fit.
- ``least-misery``: the smallest fit (the least-served member decides); ties by the mean.
- ``average-without-misery``: the mean fit, but a show that any member ranks in their bottom
  ``misery_share`` of candidates is dropped; dropped shows only fill the list after every kept
  one (so a group always gets ``n`` shows when there are that many candidates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The API's ``Strategy`` (nextshow.schemas.group) names the same three; a test keeps them equal.
STRATEGIES = ("average-without-misery", "average", "least-misery")
DEFAULT_STRATEGY = "average-without-misery"
# A show in a member's bottom half of the candidates is a show that member would not enjoy.
MISERY_SHARE = 0.5


@dataclass(frozen=True)
class GroupRanking:
    """The top shows for the group (column indices), best first, and how they were scored."""

    shows: np.ndarray  # int64 column indices, length <= n
    score: np.ndarray  # the strategy's group score of each show
    fit: np.ndarray  # (members x len(shows)) each member's fit for each show
    vetoed: np.ndarray  # bool per show: in some member's bottom share (only fills the list)


def member_fit(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Each member's fit (members x shows) among ``candidates`` (a bool mask over shows).

    fit[m, s] = (candidates member m scores strictly below s) / (candidates - 1); 0 outside
    ``candidates``; all 0 when there is at most one candidate (no order to speak of).
    """
    scores = _check_scores(scores)
    fit = np.zeros(scores.shape, dtype=np.float64)
    cols = np.flatnonzero(candidates)
    if len(cols) < 2:
        return fit
    for m, row in enumerate(scores[:, cols]):
        below = np.searchsorted(np.sort(row), row, side="left")
        fit[m, cols] = below / (len(cols) - 1)
    return fit


def rank_group(
    scores: np.ndarray,
    n: int,
    strategy: str = DEFAULT_STRATEGY,
    *,
    misery_share: float = MISERY_SHARE,
) -> GroupRanking:
    """The top ``n`` shows for the members whose scores are the rows of ``scores``.

    Order: kept shows before vetoed ones (``average-without-misery`` only), then the group
    score, then the mean fit, then the lower column index (deterministic).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    if not 0.0 <= misery_share < 1.0:
        raise ValueError(f"misery_share must be in [0, 1), got {misery_share}")
    scores = _check_scores(scores)
    candidates = np.isfinite(scores).all(axis=0)
    fit = member_fit(scores, candidates)
    mean = fit.mean(axis=0)
    score = fit.min(axis=0) if strategy == "least-misery" else mean
    vetoed = np.zeros(scores.shape[1], dtype=bool)
    if strategy == "average-without-misery":
        vetoed = (fit < misery_share).any(axis=0)
    cols = np.flatnonzero(candidates)
    # lexsort: the last key is the primary one.
    order = np.lexsort((cols, -mean[cols], -score[cols], vetoed[cols]))[:n]
    shows = cols[order]
    return GroupRanking(shows=shows, score=score[shows], fit=fit[:, shows], vetoed=vetoed[shows])


def _check_scores(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] < 1:
        raise ValueError(f"scores must be (members x shows), got shape {scores.shape}")
    if np.isnan(scores).any() or np.isposinf(scores).any():
        raise ValueError("scores must be finite or -inf (excluded)")
    return scores
