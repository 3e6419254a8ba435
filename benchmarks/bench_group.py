"""Group quality: the watching-together strategies against one merged list, on the demo data.

    .venv/bin/python benchmarks/bench_group.py [--groups 1000] [--model time-aware] [--k 10]

Data and split: the bundled MovieTweetings sample ("demo") and ``nextshow evaluate``'s split
(users with >= 5 likes, the latest 20 % of each user's likes held out). The model is the kind the
retrain pipeline serves (``Settings.default_model``) with its default parameters, fitted once on
the training part (no tuning: the group strategies, not the model, are compared here).

Groups: ``--groups`` groups of 2 and as many of 3, each of distinct test users drawn with seed 42.
Every member is scored alone from their own training likes (as the API does); the group's top
``k`` excludes every member's training likes. Per group:

- group hit: a recommended show is in *every* member's held-out likes;
- all served: every member has at least one of their held-out likes in the list;
- per-member NDCG@k of the one list against that member's held-out likes: its mean over the
  members, and its minimum (the least-served member).

Rows: the three strategies of ``nextshow.recommenders.group``; the naive baseline (one user who
liked every member's shows: the merged list); popularity (the floor); and, for context only,
each member's own top k (not one list: the ceiling a shared list gives up against).

Choosing the default (issue 18): among the strategies, the best mean-of-minimum NDCG whose mean
NDCG is within 10 % of the best mean NDCG of any one-list row (strategies and merged list).
Writes benchmarks/out/group.md and group.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nextshow.config import Settings
from nextshow.evaluation.dataset import load_interactions
from nextshow.evaluation.evaluate import kind_factory, make_model
from nextshow.evaluation.metrics import ndcg_at_k
from nextshow.evaluation.report import format_markdown_table, format_text_table
from nextshow.evaluation.splits import Split, make_holdout
from nextshow.progress import progress_bar, progress_enabled
from nextshow.recommenders.base import Recommender, liked_rows, make_rng, top_n
from nextshow.recommenders.group import STRATEGIES, rank_group

OUT_DIR = Path(__file__).resolve().parent / "out"
SEED = 42
SIZES = (2, 3)
MAX_AVERAGE_LOSS = 0.10
BASELINE = "merged list"
FLOOR = "popularity"
ALONE = "each alone (not one list)"

log = logging.getLogger("bench_group")


@dataclass
class Tally:
    """Per-group figures of one row, averaged at the end."""

    hit: list[float] = field(default_factory=list)
    served: list[float] = field(default_factory=list)
    mean_ndcg: list[float] = field(default_factory=list)
    min_ndcg: list[float] = field(default_factory=list)

    def add(self, lists: list[np.ndarray], held: list[np.ndarray], k: int) -> None:
        """``lists``: the list each member sees (the same array for a one-list row)."""
        common = set.intersection(*(set(h.tolist()) for h in held))
        ndcg = [ndcg_at_k(rec, h, k) for rec, h in zip(lists, held, strict=True)]
        self.hit.append(float(any(int(s) in common for rec in lists for s in rec[:k])))
        self.served.append(float(all(v > 0 for v in ndcg)))
        self.mean_ndcg.append(float(np.mean(ndcg)))
        self.min_ndcg.append(float(np.min(ndcg)))

    def summary(self) -> dict[str, float]:
        return {
            "group_hit": float(np.mean(self.hit)),
            "all_served": float(np.mean(self.served)),
            "mean_ndcg": float(np.mean(self.mean_ndcg)),
            "min_ndcg": float(np.mean(self.min_ndcg)),
        }


def member_scores(model: Recommender, liked: list[np.ndarray]) -> np.ndarray:
    """Each member's scores over all shows, ``-inf`` on their likes: what ``recommend`` ranks.

    The batch scorer is used directly: ``recommend`` would build an object per show per member.
    """
    scores = np.array(model._scores_batch(liked_rows(liked, model.n_shows_)), dtype=np.float64)
    for m, row in enumerate(liked):
        scores[m, row] = -np.inf
    return scores


def evaluate_groups(
    model: Recommender,
    split: Split,
    groups: list[np.ndarray],
    k: int,
    popular: np.ndarray,
    *,
    progress: bool,
) -> dict[str, Tally]:
    rows = [*STRATEGIES, BASELINE, FLOOR, ALONE]
    tallies = {row: Tally() for row in rows}
    with progress_bar(enabled=progress, total=len(groups), desc="groups") as bar:
        for users in groups:
            liked = [split.liked(int(u)) for u in users]
            held = [split.held_out(int(u)) for u in users]
            scores = member_scores(model, liked)
            for strategy in STRATEGIES:
                shows = rank_group(scores, k, strategy).shows
                tallies[strategy].add([shows] * len(users), held, k)
            everyone = np.unique(np.concatenate(liked))
            merged = member_scores(model, [everyone])[0]
            shows = top_n(merged, k)
            tallies[BASELINE].add([shows] * len(users), held, k)
            pop = popular.copy()
            pop[everyone] = -np.inf
            tallies[FLOOR].add([top_n(pop, k)] * len(users), held, k)
            tallies[ALONE].add([top_n(row.copy(), k) for row in scores], held, k)
            bar.update(1)
    return tallies


def choose_default(results: dict[str, dict[str, float]]) -> tuple[str, str]:
    """The issue's rule on the pooled groups; returns the strategy and why."""
    best_mean = max(results[r]["mean_ndcg"] for r in (*STRATEGIES, BASELINE))
    floor = (1 - MAX_AVERAGE_LOSS) * best_mean
    eligible = [s for s in STRATEGIES if results[s]["mean_ndcg"] >= floor]
    if not eligible:
        eligible = list(STRATEGIES)
    chosen = max(eligible, key=lambda s: (results[s]["min_ndcg"], results[s]["mean_ndcg"]))
    why = (
        f"best mean NDCG of one list {best_mean:.4f}; strategies within 10 % (>= {floor:.4f}): "
        f"{', '.join(eligible)}; best minimum NDCG among them: {chosen} "
        f"({results[chosen]['min_ndcg']:.4f})"
    )
    return chosen, why


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=1000, help="groups of each size")
    parser.add_argument("--model", default=Settings().default_model)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    started = time.perf_counter()
    interactions = load_interactions("demo")
    split = make_holdout("user-time", 5).split(interactions.likes, interactions.timestamps)
    log.info("split: %s", split.describe())
    model = make_model(kind_factory(args.model), {}, SEED)
    model.fit(split.train, interactions.metadata, split.train_timestamps)
    log.info("fitted %r in %.1fs", model, time.perf_counter() - started)
    popular = np.asarray(split.train.sum(axis=0), dtype=np.float64).ravel()

    rng = make_rng(SEED)
    out: dict[str, dict[str, dict[str, float]]] = {}
    pooled: dict[str, Tally] = {}
    for size in SIZES:
        groups = [rng.choice(split.test_users, size, replace=False) for _ in range(args.groups)]
        tallies = evaluate_groups(
            model,
            split,
            groups,
            args.k,
            popular,
            progress=progress_enabled(False if args.no_progress else None),
        )
        out[str(size)] = {row: t.summary() for row, t in tallies.items()}
        for row, t in tallies.items():
            into = pooled.setdefault(row, Tally())
            for name in ("hit", "served", "mean_ndcg", "min_ndcg"):
                getattr(into, name).extend(getattr(t, name))
    out["pooled"] = {row: t.summary() for row, t in pooled.items()}
    chosen, why = choose_default(out["pooled"])

    k = args.k
    header = ["size", "list", "group hit", "all served", f"mean NDCG@{k}", f"min NDCG@{k}"]
    table = [
        [size, row, *(f"{v:.4f}" for v in figures.values())]
        for size, rows in out.items()
        for row, figures in rows.items()
    ]
    setup = (
        f"demo data, {split.describe()['test_users']} test users, model {args.model} (defaults), "
        f"{args.groups} groups of each size (seed {SEED}), k={k}"
    )
    print(setup)
    print(format_text_table(header, table))
    print(f"default strategy: {chosen} ({why})")
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "group.md").write_text(
        f"# Group recommendation on the demo data\n\n{setup}\n\n"
        f"{format_markdown_table(header, table)}\n\nDefault: **{chosen}** ({why})\n"
    )
    (OUT_DIR / "group.json").write_text(
        json.dumps({"setup": setup, "results": out, "default": chosen, "why": why}, indent=2)
    )
    log.info("done in %.1fs", time.perf_counter() - started)


if __name__ == "__main__":
    main()
