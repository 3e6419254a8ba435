"""Cold start: content, hybrid, collaborative models and popularity on two splits, two data sets.

    .venv/bin/python benchmarks/bench_coldstart.py [--data demo,tv] [--k 10]

Splits (evaluation/splits.py): ``held-out-shows`` (every like of a seeded 10 % of the liked shows
is held out: can a model recommend shows it has never seen liked?) and ``user-time`` (the normal
split: each prolific user's latest 20 %).

Data:
- ``demo``: the bundled MovieTweetings-100k (films; genres and years from movies.dat, no people).
- ``tv``: a seeded synthetic TV catalogue (:func:`tv_catalogue`): 1,500 series in 30 "scenes"
  (a genre profile, an era, pools of creators and actors), 4,000 viewers who like mostly the
  popular shows of one or two scenes and favour their favourite creators. It is a world where
  taste follows people and genres, which is the assumption the content model makes: read its
  numbers as "the machinery works when the assumption holds", not as a claim about real viewers.

Protocol (the evaluation's own, seed 42): with ``--tune`` every model is tuned on a validation
split carved from the training part with the same rule, then scored once on the test part, and
the hybrid's collaborative side is the collaborative model with the best *validation* NDCG (with
its tuned parameters). Without it (the default, for a loaded 2-core machine) the collaborative
models and content run with their default parameters and the hybrid sits on ``--hybrid-base``
(item kNN); the hybrid's own two parameters (evidence, content weight) are always chosen on the
validation split. Nothing is ever chosen on the test part.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import markdown_table
from nextshow.evaluation.dataset import Interactions, csr_pair, load_interactions
from nextshow.evaluation.evaluate import RunOptions, evaluate
from nextshow.evaluation.grids import GRIDS
from nextshow.evaluation.protocol import run_evaluation
from nextshow.evaluation.splits import make_holdout, validation_split
from nextshow.recommenders.base import ShowMetadata, make_rng
from nextshow.recommenders.content_features import ACTOR, CREATOR, ShowCredits

COLLABORATIVE = ["popularity", "itemknn", "rp3beta", "ease", "als", "time-aware"]
SPLITS = ["held-out-shows", "user-time"]
GENRES = [
    "Drama", "Comedy", "Crime", "Thriller", "Action", "Adventure", "Sci-Fi", "Fantasy",
    "Horror", "Mystery", "Romance", "Family", "Animation", "Documentary", "History",
    "Reality-TV", "Biography", "War", "Western", "Music",
]  # fmt: skip


def tv_catalogue(seed: int = 42, n_shows: int = 1500, n_users: int = 4000) -> Interactions:
    """The synthetic TV world described in the module docstring (every show is a column)."""
    rng = make_rng(seed)
    n_scenes, creators_per, actors_per, shared_people = 30, 8, 60, 200
    scene_genres = [rng.choice(len(GENRES), size=rng.integers(2, 4), replace=False) for _ in
                    range(n_scenes)]  # fmt: skip
    scene_era = rng.integers(1985, 2023, n_scenes)
    scene = rng.integers(0, n_scenes, n_shows)
    people_base = shared_people  # person ids: [0, shared) shared by all scenes, then per scene
    show_col, person_col, role_col, order_col = [], [], [], []
    show_creators: list[set[int]] = []
    for s in range(n_shows):
        base = people_base + scene[s] * (creators_per + actors_per)
        creators = base + rng.zipf(1.6, size=rng.integers(1, 3)) % creators_per
        cast = base + creators_per + rng.zipf(1.3, size=6) % actors_per
        cast = np.where(rng.random(6) < 0.1, rng.integers(0, shared_people, 6), cast)
        show_creators.append(set(creators.tolist()))
        for p in np.unique(creators):
            show_col.append(s), person_col.append(p), role_col.append(CREATOR), order_col.append(0)
        for order, p in enumerate(dict.fromkeys(cast.tolist()), 1):
            (
                show_col.append(s),
                person_col.append(p),
                role_col.append(ACTOR),
                order_col.append(order),
            )
    n_people = people_base + n_scenes * (creators_per + actors_per)
    genres = []
    for s in range(n_shows):
        g = list(scene_genres[scene[s]])
        if rng.random() < 0.3:
            g[rng.integers(0, len(g))] = rng.integers(0, len(GENRES))
        genres.append(tuple(sorted({GENRES[i] for i in g})))
    years = (scene_era[scene] + rng.normal(0, 4, n_shows)).astype(np.int32)
    popularity = rng.pareto(1.2, n_shows) + 0.05

    rows, cols, times = [], [], []
    for u in range(n_users):
        favourites = rng.choice(n_scenes, size=rng.integers(1, 3), replace=False)
        fan_of = set(rng.choice(n_people, size=2).tolist())
        weight = popularity * np.where(np.isin(scene, favourites), 1.0, 0.03)
        weight *= np.array([3.0 if c & fan_of else 1.0 for c in show_creators])
        n_likes = min(n_shows, 3 + rng.geometric(1 / 10))
        liked = rng.choice(n_shows, size=n_likes, replace=False, p=weight / weight.sum())
        start = rng.uniform(1.5e9, 1.6e9)
        rows += [u] * n_likes
        cols += liked.tolist()
        times += sorted(start + rng.uniform(0, 3e7, n_likes))
    likes, timestamps = csr_pair(
        np.array(rows), np.array(cols), np.array(times), (n_users, n_shows)
    )
    metadata = ShowMetadata(
        show_ids=np.arange(n_shows, dtype=np.int64),
        titles=[f"Series {s}" for s in range(n_shows)],
        start_year=years,
        imdb_rating=np.clip(rng.normal(7.3, 0.8, n_shows), 1, 10).astype(np.float32),
        imdb_votes=(popularity * 1000).astype(np.int64),
        genres=genres,
        title_types=["tvMiniSeries" if rng.random() < 0.15 else "tvSeries" for _ in range(n_shows)],
        credits=ShowCredits(
            np.array(show_col),
            np.array(person_col),
            np.array(role_col),
            np.array(order_col),
            [f"Person {p}" for p in range(n_people)],
        ),
    )
    return Interactions(
        likes=likes,
        timestamps=timestamps,
        metadata=metadata,
        user_ids=[str(u) for u in range(n_users)],
        show_keys=[str(s) for s in range(n_shows)],
        n_ratings=likes.nnz,
        like_threshold=8.0,
    )


def validation_ndcg(data: Interactions, rule: str, model: Any, k: int) -> float:
    """The validation NDCG@k a model reached (its best grid point, or its defaults)."""
    if model.tuning:
        return max(t["metrics"][f"ndcg@{k}"] for t in model.tuning)
    split = make_holdout(rule, 5).split(data.likes, data.timestamps)
    scored = evaluate(
        model.model,
        model.chosen,
        validation_split(split),
        metadata=data.metadata,
        options=RunOptions(k=k, measure_artifact=False),
    )
    return scored.metrics[f"ndcg@{k}"]


def run(
    data: Interactions, rule: str, k: int, tune: bool, base_name: str, models: list[str]
) -> list[list[str]]:
    grids = {**GRIDS, "ease": {"l2": [100.0]}}
    started = time.perf_counter()
    result = run_evaluation(
        data, [*models, "content"], k=k, tune=tune, split_rule=rule, grids=grids
    )
    collab = [m for m in result.models if m.model in COLLABORATIVE]
    if tune:
        scores = {m.model: validation_ndcg(data, rule, m, k) for m in collab}
        base = max(collab, key=lambda m: scores[m.model])
    else:
        base = next(m for m in collab if m.model == base_name)
    hybrid_grid = {
        "collaborative": [base.model],
        "collaborative_params": [base.params],
        **GRIDS["hybrid"],
    }
    hybrid = run_evaluation(
        data, ["hybrid"], k=k, tune=True, split_rule=rule, grids={"hybrid": hybrid_grid}
    ).models[0]
    models = [*result.models, hybrid]
    best_collab = max(m.metrics[f"ndcg@{k}"] for m in collab)
    out = []
    for m in sorted(models, key=lambda m: -m.metrics[f"ndcg@{k}"]):
        note = f"on {base.model}, " if m.model == "hybrid" else ""
        note += ", ".join(f"{p}={v}" for p, v in m.chosen.items() if "params" not in p)
        out.append(
            [
                m.model,
                f"{m.metrics[f'ndcg@{k}']:.4f}",
                f"{m.metrics[f'recall@{k}']:.4f}",
                f"{m.metrics[f'coverage@{k}']:.3f}",
                f"{m.users}",
                note,
            ]
        )
    hyb = hybrid.metrics[f"ndcg@{k}"]
    print(
        f"  split {rule}: {result.split['test_users']} test users, hybrid ndcg {hyb:.4f} vs best "
        f"collaborative {best_collab:.4f} ({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="demo,tv")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--tune", action="store_true", help="tune every model on validation")
    parser.add_argument("--hybrid-base", default="itemknn", choices=COLLABORATIVE)
    parser.add_argument("--models", default=",".join(COLLABORATIVE), help="collaborative models")
    parser.add_argument("--splits", default=",".join(SPLITS))
    args = parser.parse_args()
    models = args.models.split(",")
    if args.hybrid_base not in models:
        parser.error("--hybrid-base must be one of --models")
    logging.basicConfig(level=logging.WARNING)
    header = ["model", f"ndcg@{args.k}", f"recall@{args.k}", "coverage", "test users", "params"]
    for name in args.data.split(","):
        data = load_interactions("demo") if name == "demo" else tv_catalogue()
        print(f"data {name}: {data.describe()}", flush=True)
        for rule in args.splits.split(","):
            table = run(data, rule, args.k, args.tune, args.hybrid_base, models)
            print(f"\n### {name}, split {rule}\n\n{markdown_table(header, table)}\n", flush=True)


if __name__ == "__main__":
    main()
