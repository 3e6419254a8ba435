"""Cost at the original system's scale: the served models beside implicit and the original method.

One command, one run (about 5 minutes on 2 cores)::

    .venv/bin/python benchmarks/bench_scale.py            # --help for caps and options

Data: :func:`nextshow.synthetic.generate` at its defaults (517k ratings, 304k users, 1,722 shows,
seed 42); likes are ratings >= 8. Every figure comes from a fresh child process under an
address-space cap (see ``_measure.py``):

- fit: fit time, peak RSS of a process that loads the likes and fits, artifact size on disk;
- serve: peak RSS of a process that only loads the artifact and answers 1,000 seeded requests of
  5 liked shows (drawn by like popularity, as real requests favour popular shows), in-process after
  20 warm-up requests: p50/p99 of each request's fastest of 3 runs (the machine is shared; as in
  bench_search.py), plus the first run's wall p99 and CPU-time p99;
- implicit's ``CosineRecommender`` (same k as itemknn), served through its own ``recommend`` with a
  one-row CSR of the 5 likes (building that row is part of the request);
- the original method: pandas pivot of users x shows (ratings, 0 = unrated) into a dense matrix,
  sklearn ``NearestNeighbors(metric="cosine", algorithm="brute")`` over the shows' dense columns,
  a networkx graph of each show's k nearest shows, recommendation by neighbour votes. It runs
  under ``--cap`` (fails cleanly with the step it died at) and then, if the machine has the room,
  once more under ``--big-cap`` to get its figures.

Writes benchmarks/out/scale.md, scale.json and scale.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _measure import (
    DEFAULT_CAP,
    GIB,
    MIB,
    OUT,
    ChildResult,
    Steps,
    child_main,
    dir_size,
    fmt_bytes,
    load_likes,
    markdown_table,
    run_child,
    save_likes,
    serve_requests,
)

SCRIPT = Path(__file__).resolve()
SERVED = ("itemknn", "ease", "rp3beta", "time-aware", "ranker")
TARGET_FIT_S = 2.0
TARGET_SERVE_RSS = 150 * MIB
TARGET_P99_MS = 2.0
WARMUP = 20


# ---------------------------------------------------------------- children
def _metadata_from(path: Path) -> Any:
    from nextshow.recommenders.base import ShowMetadata

    meta = json.loads(path.read_text())
    return ShowMetadata(
        show_ids=np.asarray(meta["show_ids"], dtype=np.int64),
        titles=meta["titles"],
        start_year=np.asarray(meta["start_year"], dtype=np.int32),
        imdb_rating=np.asarray(meta["imdb_rating"], dtype=np.float32),
        imdb_votes=np.asarray(meta["imdb_votes"], dtype=np.int64),
        genres=[tuple(g) for g in meta["genres"]],
    )


def child_fit_model(task: dict[str, Any], steps: Steps) -> None:
    """Load likes, fit one model, save its artifact (growth bench reuses this)."""
    from nextshow.recommenders import kinds

    with steps.step("load data"):
        likes, times = load_likes(Path(task["likes"]))
        metadata = _metadata_from(Path(task["metadata"])) if task.get("metadata") else None
    steps.rss_now("rss_data")
    model = kinds.create(task["model"], **task.get("params", {}))
    with steps.step("fit"):
        model.fit(likes, metadata, times)
    steps.out["fit_s"] = steps.out["steps"]["fit"]
    steps.rss_now("rss_fit")
    if task.get("artifact"):
        artifact = Path(task["artifact"])
        with steps.step("save"):
            model.save(artifact)
        steps.out["artifact_bytes"] = dir_size(artifact)


def _requests(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def child_serve_model(task: dict[str, Any], steps: Steps) -> None:
    """Load an artifact and answer the seeded requests; nothing else lives in this process."""
    from nextshow.recommenders import load_artifact

    requests = _requests(Path(task["requests"]))
    with steps.step("load"):
        model = load_artifact(Path(task["artifact"]))
    steps.out["load_s"] = steps.out["steps"]["load"]
    with steps.step("serve"):
        stats = serve_requests(
            requests.tolist(), lambda liked: len(model.recommend(liked, n=10)), WARMUP
        )
    steps.out.update(stats)


def child_fit_implicit(task: dict[str, Any], steps: Steps) -> None:
    from implicit.nearest_neighbours import CosineRecommender

    with steps.step("load data"):
        likes, _ = load_likes(Path(task["likes"]))
    steps.rss_now("rss_data")
    model = CosineRecommender(K=task["k"], num_threads=2)
    with steps.step("fit"):
        model.fit(likes, show_progress=False)
    steps.out["fit_s"] = steps.out["steps"]["fit"]
    with steps.step("save"):
        model.save(task["artifact"])
    steps.out["artifact_bytes"] = dir_size(Path(task["artifact"]))


def child_serve_implicit(task: dict[str, Any], steps: Steps) -> None:
    import scipy.sparse as sp
    from implicit.nearest_neighbours import CosineRecommender

    requests = _requests(Path(task["requests"]))
    n_shows = int(task["n_shows"])
    with steps.step("load"):
        model = CosineRecommender.load(task["artifact"])
    steps.out["load_s"] = steps.out["steps"]["load"]
    ones = np.ones(requests.shape[1], dtype=np.float32)
    indptr = np.array([0, requests.shape[1]], dtype=np.int32)

    def answer(liked: np.ndarray) -> int:
        # Building the one-row CSR is part of the request: it is how implicit takes a fold-in.
        row = sp.csr_matrix((ones, np.sort(liked), indptr), shape=(1, n_shows))
        ids, _ = model.recommend(0, row, N=10, filter_already_liked_items=True)
        return len(ids)

    with steps.step("serve"):
        stats = serve_requests(list(requests), answer, WARMUP)
    steps.out.update(stats)


def child_original(task: dict[str, Any], steps: Steps) -> None:
    """The original system's method, step by step, so a MemoryError names the step."""
    import networkx as nx
    import pandas as pd
    from sklearn.neighbors import NearestNeighbors

    k = int(task["k"])
    with steps.step("load ratings"), np.load(task["ratings"], allow_pickle=False) as npz:
        df = pd.DataFrame({"user": npz["user"], "show": npz["show"], "rating": npz["rating"]})
    steps.rss_now("rss_data")
    with steps.step("pivot users x shows (dense)"):
        pivot = df.pivot_table(index="user", columns="show", values="rating", fill_value=0)
    steps.out["pivot_shape"] = list(pivot.shape)
    columns = pivot.columns.to_numpy()
    with steps.step("dense show columns"):
        # The shows' columns as rows for NearestNeighbors: shows x users, float64 as sklearn wants.
        items = np.ascontiguousarray(pivot.to_numpy(dtype=np.float64).T)
        del pivot
    with steps.step("NearestNeighbors fit"):
        nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(items)
    with steps.step("kneighbors"):
        dist, idx = nn.kneighbors(items)
    del items, nn
    with steps.step("networkx graph"):
        # Nodes are show ids: the pivot has a column only for shows somebody rated.
        graph = nx.DiGraph()
        graph.add_nodes_from(int(c) for c in columns)
        for row, (row_idx, row_dist) in enumerate(zip(idx, dist, strict=True)):
            for other, d in zip(row_idx, row_dist, strict=True):
                if other != row:
                    graph.add_edge(int(columns[row]), int(columns[other]), weight=1.0 - float(d))
    steps.out["fit_s"] = sum(
        v for name, v in steps.out["steps"].items() if name not in ("load ratings",)
    )
    steps.out["edges"] = graph.number_of_edges()
    requests = _requests(Path(task["requests"]))

    def answer(liked: list[int]) -> int:
        votes: dict[int, float] = {}
        for show in liked:
            for other, attrs in graph.adj.get(show, {}).items():
                # One vote per linking liked show; similarity only orders equal votes.
                votes[other] = votes.get(other, 0.0) + 1.0 + attrs["weight"] / 10.0
        for show in liked:
            votes.pop(show, None)
        return len(sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:10])

    with steps.step("serve"):
        stats = serve_requests(requests.tolist(), answer, WARMUP)
    steps.out.update(stats)


HANDLERS = {
    "fit_model": child_fit_model,
    "serve_model": child_serve_model,
    "fit_implicit": child_fit_implicit,
    "serve_implicit": child_serve_implicit,
    "original": child_original,
}


# ---------------------------------------------------------------- parent
def prepare_data(work: Path, seed: int, n_requests: int) -> dict[str, Any]:
    """Generate the set once; write likes, ratings, metadata and requests for the children."""
    from nextshow.synthetic import generate

    start = time.perf_counter()
    data = generate(seed=seed)
    gen_s = time.perf_counter() - start
    likes, times = data.likes()
    save_likes(work / "likes.npz", likes, times)
    np.savez(work / "ratings.npz", user=data.user, show=data.show, rating=data.rating)
    meta = data.metadata()
    (work / "metadata.json").write_text(
        json.dumps(
            {
                "show_ids": meta.show_ids.tolist(),
                "titles": meta.titles,
                "start_year": meta.start_year.tolist(),
                "imdb_rating": meta.imdb_rating.tolist(),
                "imdb_votes": meta.imdb_votes.tolist(),
                "genres": [list(g) for g in meta.genres],
            }
        )
    )
    # Requests: 5 distinct liked shows each, drawn by like popularity (seeded).
    from nextshow.recommenders.base import make_rng

    rng = make_rng(seed)
    counts = np.asarray(likes.sum(axis=0)).ravel()
    p = counts / counts.sum()
    requests = np.stack([rng.choice(len(p), 5, replace=False, p=p) for _ in range(n_requests)])
    np.save(work / "requests.npy", requests.astype(np.int64))
    return {
        "n_ratings": data.n_ratings,
        "n_users": data.n_users,
        "n_shows": data.n_shows,
        "n_likes": int(likes.nnz),
        "generate_s": gen_s,
    }


def _row(label: str, fit: ChildResult, serve: ChildResult | None) -> dict[str, Any]:
    row: dict[str, Any] = {"model": label, "fit_ok": fit.ok, "fit_error": fit.error}
    row["fit_s"] = fit.data.get("fit_s")
    row["fit_rss"] = fit.peak_rss
    row["data_rss"] = fit.data.get("rss_data")
    row["artifact_bytes"] = fit.data.get("artifact_bytes")
    row["steps"] = fit.data.get("steps")
    if serve is not None:
        row["serve_ok"] = serve.ok
        row["serve_error"] = serve.error
        row["serve_rss"] = serve.peak_rss if serve.ok else None
        row["load_s"] = serve.data.get("load_s")
        row["p50_ms"] = serve.data.get("p50_ms")
        row["p99_ms"] = serve.data.get("p99_ms")
        row["p99_cpu_ms"] = serve.data.get("p99_cpu_ms")
        row["p99_single_ms"] = serve.data.get("p99_single_ms")
    return row


def _f(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗")


def render(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    header = [
        "model",
        "fit s",
        "fit peak RSS",
        "artifact",
        "load+serve peak RSS",
        "load s",
        "p50 ms",
        "p99 ms",
        "p99 1-run ms",
        "p99 CPU ms",
        "note",
    ]
    lines = []
    for r in rows:
        fit_s, serve_rss, p99 = r.get("fit_s"), r.get("serve_rss"), r.get("p99_ms")
        cpu99 = r.get("p99_cpu_ms")
        served = r.get("served", False)
        lines.append(
            [
                r["model"],
                _f(fit_s, ".2f") + (_mark(fit_s < TARGET_FIT_S) if served and fit_s else ""),
                fmt_bytes(r.get("fit_rss")),
                fmt_bytes(r.get("artifact_bytes")),
                fmt_bytes(serve_rss)
                + (_mark(serve_rss < TARGET_SERVE_RSS) if served and serve_rss else ""),
                _f(r.get("load_s"), ".3f"),
                _f(r.get("p50_ms"), ".3f"),
                _f(p99, ".3f") + (_mark(p99 < TARGET_P99_MS) if served and p99 else ""),
                _f(r.get("p99_single_ms"), ".3f"),
                _f(cpu99, ".3f") + (_mark(cpu99 < TARGET_P99_MS) if served and cpu99 else ""),
                r.get("note") or r.get("fit_error") or r.get("serve_error") or "",
            ]
        )
    title = (
        f"Scale: {info['n_ratings']:,} ratings, {info['n_users']:,} users, {info['n_shows']:,} "
        f"shows, {info['n_likes']:,} likes (rating >= 8), seed {info['seed']}; "
        f"{info['n_requests']:,} requests of 5 liked shows. Targets for a served model: fit < "
        f"{TARGET_FIT_S:g} s, load+serve RSS < {fmt_bytes(TARGET_SERVE_RSS)}, p99 < "
        f"{TARGET_P99_MS:g} ms (✓/✗)."
    )
    return title + "\n\n" + markdown_table(header, lines)


def _short(label: str) -> str:
    """A chart label: the table's long names would squeeze the panels."""
    if label.startswith("implicit"):
        return "implicit cosine"
    if label.startswith("original"):
        return "original, " + label.rsplit(", ", 1)[-1]
    return label


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [_short(r["model"]) for r in rows]
    panels = [
        ("fit time (s)", "fit_s", 1.0, TARGET_FIT_S),
        ("fit peak RSS (MiB)", "fit_rss", 1 / MIB, None),
        ("load+serve peak RSS (MiB)", "serve_rss", 1 / MIB, TARGET_SERVE_RSS / MIB),
        ("p99 latency, 5 liked shows, best of 3 (ms)", "p99_ms", 1.0, TARGET_P99_MS),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(13, 7.5), sharey=True)
    for ax, (title, key, scale, target) in zip(axes.ravel(), panels, strict=True):
        values = [(r.get(key) or 0) * scale for r in rows]
        colors = ["tab:blue" if r.get("served") else "tab:gray" for r in rows]
        ax.barh(labels, values, color=colors)
        floor = min((v for v in values if v > 0), default=1.0) / 3
        for y, r in enumerate(rows):
            if r.get(key) is None:
                ax.text(floor, y, "failed / n.a.", va="center", fontsize=8, color="tab:red")
        if target is not None:
            ax.axvline(target, color="tab:red", linestyle="--", label="target")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlim(left=floor)
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="x", which="both", alpha=0.3)
    axes[0, 0].invert_yaxis()
    fig.suptitle(
        "nextshow at the original scale (517k ratings, 304k users, 1,722 shows); "
        "blue: served candidates"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=float, default=4.0, help="GiB cap for the original method")
    parser.add_argument(
        "--big-cap",
        type=float,
        default=12.0,
        help="GiB cap for a second try of the original method, run only if that much memory "
        "plus 4 GiB is free (0 = never)",
    )
    parser.add_argument("--model-cap", type=float, default=DEFAULT_CAP / GIB, help="GiB, models")
    parser.add_argument("--models", default=",".join(SERVED), help="model names to measure")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--original-k", type=int, default=20, help="neighbours in the graph")
    parser.add_argument("--timeout", type=float, default=420.0, help="seconds per child")
    parser.add_argument(
        "--replot", action="store_true", help="redraw scale.png from scale.json, measure nothing"
    )
    args = parser.parse_args(argv)
    if args.replot:
        chart(json.loads((OUT / "scale.json").read_text())["rows"], OUT / "scale.png")
        return 0

    from nextshow.recommenders import kinds

    OUT.mkdir(parents=True, exist_ok=True)
    work = OUT / "scale-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    started = time.perf_counter()
    info = prepare_data(work, args.seed, args.requests)
    info.update(seed=args.seed, n_requests=args.requests)
    print(f"data: {info}", file=sys.stderr)
    model_cap = int(args.model_cap * GIB)
    common = {"likes": str(work / "likes.npz"), "requests": str(work / "requests.npy")}

    rows: list[dict[str, Any]] = []
    available = kinds.names()
    itemknn_k = 100
    for name in args.models.split(","):
        if name not in available:
            rows.append({"model": name, "served": True, "note": "not a known model kind"})
            continue
        artifact = work / f"artifact-{name}"
        task = {**common, "kind": "fit_model", "model": name, "artifact": str(artifact)}
        task["metadata"] = str(work / "metadata.json")
        fit = run_child(SCRIPT, task, cap_bytes=model_cap, timeout_s=args.timeout)
        serve = None
        if fit.ok:
            task = {**common, "kind": "serve_model", "artifact": str(artifact)}
            serve = run_child(SCRIPT, task, cap_bytes=model_cap, timeout_s=args.timeout, threads=1)
        rows.append({**_row(name, fit, serve), "served": True})
        if name == "itemknn":
            itemknn_k = int(kinds.create(name).get_params().get("k", itemknn_k))
        print(f"{name}: {rows[-1]}", file=sys.stderr)

    artifact = work / "implicit-cosine.npz"
    task = {**common, "kind": "fit_implicit", "k": itemknn_k, "artifact": str(artifact)}
    fit = run_child(SCRIPT, task, cap_bytes=model_cap, timeout_s=args.timeout)
    serve = None
    if fit.ok:
        task = {**common, "kind": "serve_implicit", "artifact": str(artifact)}
        task["n_shows"] = info["n_shows"]
        serve = run_child(SCRIPT, task, cap_bytes=model_cap, timeout_s=args.timeout, threads=1)
    rows.append(_row(f"implicit CosineRecommender(K={itemknn_k})", fit, serve))
    print(f"implicit: {rows[-1]}", file=sys.stderr)

    task = {**common, "kind": "original", "ratings": str(work / "ratings.npz")}
    task["k"] = args.original_k
    caps = [args.cap]
    free = _available_memory()
    big_note = ""
    if args.big_cap > args.cap:
        if free > (args.big_cap + 4) * GIB:
            caps.append(args.big_cap)
        else:
            big_note = (
                f"; not retried under {args.big_cap:g} GiB: only {fmt_bytes(free)} free on a "
                "shared machine"
            )
    for cap in caps:
        res = run_child(SCRIPT, task, cap_bytes=int(cap * GIB), timeout_s=args.timeout)
        row = _row(
            f"original: pandas+sklearn+networkx (k={args.original_k}), cap {cap:g} GiB", res, None
        )
        row.update(
            p50_ms=res.data.get("p50_ms"),
            p99_ms=res.data.get("p99_ms"),
            p99_cpu_ms=res.data.get("p99_cpu_ms"),
            p99_single_ms=res.data.get("p99_single_ms"),
            note=(res.error or "fit and serve in one process; no artifact")
            + (big_note if cap == caps[-1] else ""),
        )
        if not res.ok:
            row["fit_s"] = None  # a partial sum of steps would look like a fit time
        rows.append(row)
        print(f"original cap {cap}: {row}", file=sys.stderr)

    table = render(rows, info)
    steps = "\n".join(
        f"- {r['model']}: " + ", ".join(f"{k} {v:.2f} s" for k, v in (r.get("steps") or {}).items())
        for r in rows
        if r.get("steps")
    )
    report = f"{table}\n\nSteps (fit processes):\n{steps}\n"
    report += f"\nTotal benchmark wall time: {time.perf_counter() - started:.0f} s.\n"
    print(report)
    (OUT / "scale.md").write_text(report)
    (OUT / "scale.json").write_text(json.dumps({"info": info, "rows": rows}, indent=2))
    chart(rows, OUT / "scale.png")
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {OUT / 'scale.md'}, scale.json, scale.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(HANDLERS)
    else:
        sys.exit(main())
