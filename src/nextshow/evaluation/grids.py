"""The hyperparameter grids searched on the validation split, one small grid per model.

Kept in one place so a reader sees at a glance what was tried. Grids are small on purpose: every
point is one fit on the validation training part (2 cores, minutes not hours). A model without a
grid here (or with an empty one) is evaluated with its default parameters. Values are tried in
declared order and the first best NDCG@k wins a tie, so list the simpler / default value first.
"""

from __future__ import annotations

from typing import Any

Grid = dict[str, list[Any]]

GRIDS: dict[str, Grid] = {
    "popularity": {},
    "recent-popularity": {"mode": ["decay", "window"], "days": [14.0, 7.0, 21.0, 30.0, 60.0]},
    "itemknn": {"k": [200, 400], "shrink": [50.0, 100.0, 200.0]},
    "graph": {"k": [10, 20, 50]},
    "rp3beta": {"alpha": [0.1, 0.3, 0.5], "beta": [0.0, 0.15, 0.3]},
    # Each EASE fit inverts a shows x shows matrix (minutes on big catalogues): three points only.
    "ease": {"l2": [30.0, 100.0, 300.0]},
    "als": {"factors": [8, 16, 32], "alpha": [10.0, 40.0]},
    # Defaults first; short half-lives and heavy popularity weights win on a leak-free split.
    "time-aware": {"pop_weight": [1.5, 1.0, 3.0, 6.0], "pop_half_life_days": [14.0, 7.0, 30.0]},
    # blend combines other models; its default is already a tuned combination, and each fit
    # costs several component fits.
    # Content needs no likes; the validation split only weighs its blocks against each other.
    "content": {"people": [2.0, 1.0, 4.0], "genres": [1.0, 0.5], "era": [0.5, 1.0]},
    # How fast a show's weight moves to co-likes, and how loud cold shows may be.
    "hybrid": {"evidence": [10.0, 2.0, 50.0], "content_weight": [0.3, 1.0, 0.1]},
    "blend": {},
    # Each ranker fit is several generator fits and a boosted-tree fit: the parameters that
    # matter are which label split its trees learn from (what comes next for everyone, or each
    # user's next likes) and how much the last week's likes weigh on the trees' P(liked) (0:
    # the trees alone; 1 scored as 0.5 on the demo's validation splits, at lower coverage).
    "ranker": {"label_split": ["global-time", "user-time"], "prior": [0.5, 0.0]},
}


def grid_for(name: str) -> Grid:
    """The grid of ``name`` (empty: defaults only)."""
    return GRIDS.get(name, {})
