"""NumPy vs Spark ``local[2]``: fit time and peak memory at 1x, 10x and 100x the original scale.

One command (``--help`` for points, models and limits)::

    .venv/bin/python benchmarks/bench_spark.py                   # 1x, 10x, 100x, item kNN
    .venv/bin/python benchmarks/bench_spark.py --points 1,10     # a quicker look

A point ``R`` is R times the original 517k ratings and 304k users over the original 1,722 shows
(:func:`nextshow.synthetic.generate`, seed 42), written once as a real snapshot (Parquet +
manifest) in a temporary artifact store. Both engines then train the same model from that
snapshot, each in a fresh child process:

- ``numpy``: read the snapshot, build the CSR matrices (``interactions_from_snapshot``), fit.
  Peak memory = the child's peak RSS (wait4).
- ``spark``: start a ``local[2]`` SparkSession, read the Parquet files on Spark (``read_likes``),
  fit on Spark, collect the model's arrays. Peak memory = the Python driver's peak RSS plus the
  JVM's high-water mark (``VmHWM`` of the gateway JVM, read before it stops).

"load s" is reading the snapshot into the engine's form (for Spark: the first pass over the
Parquet files, the cached likes and the column numbering); "fit s" is the model fit after it.
Spark's start-up (JVM, session) is reported apart. The crossover estimate fits
``time = a + b * ratings`` to each engine's measured points and reports where a cluster with
``--cluster-cores`` cores (scaling Spark's per-rating cost by 2 / cores, its fixed cost not at
all) would overtake one machine, and where NumPy's memory, growing as measured, would exceed
``--machine-gib``. Writes benchmarks/out/spark.md and spark.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _measure import GIB, OUT, Steps, child_main, fmt_bytes, markdown_table, run_child

SCRIPT = Path(__file__).resolve()
BASE_RATINGS, BASE_USERS, BASE_SHOWS = 517_000, 304_000, 1_722
NO_CAP = 1 << 46  # the JVM reserves far more address space than it uses: no RLIMIT_AS cap


# ---------------------------------------------------------------- children
def child_generate(task: dict[str, Any], steps: Steps) -> None:
    from nextshow.registry.artifact_store import ArtifactStore
    from nextshow.registry.snapshots import snapshot_from_tables
    from nextshow.synthetic import generate

    with steps.step("generate"):
        data = generate(task["n_ratings"], task["n_users"], BASE_SHOWS, seed=42)
        shows, ratings = data.tables()
        del data
    with steps.step("snapshot"):
        store = ArtifactStore(Path(task["store"]).as_uri())
        manifest = snapshot_from_tables(
            store, shows, ratings, like_threshold=8.0, source="bench_spark"
        )
    steps.out.update(snapshot_id=manifest.id, n_likes=manifest.likes, n_users=manifest.users)


def child_numpy(task: dict[str, Any], steps: Steps) -> None:
    from nextshow.pipeline.data import interactions_from_snapshot
    from nextshow.recommenders import create
    from nextshow.registry.artifact_store import ArtifactStore
    from nextshow.registry.snapshots import read_snapshot

    store = ArtifactStore(Path(task["store"]).as_uri())
    with steps.step("load"):
        inter = interactions_from_snapshot(read_snapshot(store, task["snapshot_id"]))
    steps.rss_now("rss_after_load")
    model = create(task["model"])
    with steps.step("fit"):
        model.fit(inter.likes, inter.metadata, inter.timestamps)
    steps.out["stored"] = _stored(model)


def _stored(model: Any) -> int:
    state = model._state()
    return int(sum(getattr(a, "nnz", getattr(a, "size", 0)) for a in state.values()))


def _jvm_peak(spark: Any) -> int:
    """High-water mark of the gateway JVM's resident memory (local mode: driver + executors)."""
    pid = spark.sparkContext._gateway.proc.pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def child_spark(task: dict[str, Any], steps: Steps) -> None:
    from nextshow.config import Settings
    from nextshow.registry.artifact_store import ArtifactStore
    from nextshow.spark.frames import read_likes
    from nextshow.spark.models import fit_on_spark
    from nextshow.spark.session import get_spark

    settings = Settings(
        home=Path(task["store"]) / "spark-home",
        spark_master="local[2]",
        spark_driver_memory=task["driver_memory"],
        spark_shuffle_partitions=task["partitions"],
    )
    store = ArtifactStore(Path(task["store"]).as_uri())
    with steps.step("start"):
        spark = get_spark(settings)
    with steps.step("load"):
        likes = read_likes(spark, store, task["snapshot_id"])
    with steps.step("fit"):
        model = fit_on_spark(task["model"], {}, likes.frame, likes.vocabulary)
    steps.out["stored"] = _stored(model)
    steps.out["jvm_peak"] = _jvm_peak(spark)
    spark.stop()


HANDLERS = {"generate": child_generate, "numpy": child_numpy, "spark": child_spark}


# ---------------------------------------------------------------- parent
def _log(msg: str) -> None:
    print(f"[bench_spark {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_point(factor: float, args: argparse.Namespace, store: Path) -> dict[str, Any]:
    n_ratings, n_users = int(BASE_RATINGS * factor), int(BASE_USERS * factor)
    point: dict[str, Any] = {"factor": factor, "n_ratings": n_ratings, "runs": {}}
    _log(f"{factor:g}x: generating {n_ratings:,} ratings")
    gen = run_child(
        SCRIPT,
        {"kind": "generate", "n_ratings": n_ratings, "n_users": n_users, "store": str(store)},
        cap_bytes=args.cap_gib * GIB,
        timeout_s=args.timeout,
    )
    point.update(gen.data, generate_ok=gen.ok, generate_error=gen.error)
    if not gen.ok:
        return point
    for engine in args.engines.split(","):
        _log(f"{factor:g}x: {engine} {args.model}")
        task = {
            "kind": engine,
            "store": str(store),
            "snapshot_id": gen.data["snapshot_id"],
            "model": args.model,
            "driver_memory": args.driver_memory,
            "partitions": args.partitions,
        }
        cap = NO_CAP if engine == "spark" else args.cap_gib * GIB
        res = run_child(SCRIPT, task, cap_bytes=cap, timeout_s=args.timeout)
        steps = res.data.get("steps", {})
        peak = res.peak_rss + int(res.data.get("jvm_peak", 0))
        point["runs"][engine] = {
            "ok": res.ok,
            "error": res.error,
            "start_s": steps.get("start"),
            "load_s": steps.get("load"),
            "fit_s": steps.get("fit"),
            "wall_s": res.wall_s,
            "python_peak": res.peak_rss,
            "jvm_peak": res.data.get("jvm_peak"),
            "peak": peak,
            "stored": res.data.get("stored"),
        }
        _log(f"  -> {point['runs'][engine]}")
    return point


def _linear(points: list[dict[str, Any]], engine: str, key: str) -> tuple[float, float] | None:
    """Least-squares ``value = a + b * ratings`` over the points this engine finished."""
    xs, ys = [], []
    for p in points:
        run = p["runs"].get(engine, {})
        if run.get("ok") and run.get(key) is not None:
            xs.append(p["n_ratings"])
            ys.append(run[key])
    if len(xs) < 2:
        return None
    b, a = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return float(a), float(b)


def crossover(points: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """Where, by the measured straight lines, a cluster beats one machine (see module doc)."""
    lines = []
    numpy_t = _linear(points, "numpy", "total_s")
    spark_t = _linear(points, "spark", "total_s")
    numpy_m = _linear(points, "numpy", "peak")
    if numpy_t and spark_t and min(numpy_t[1], spark_t[1]) <= 0:
        lines.append("Times do not grow with the ratings measured here: no crossover estimate.")
    elif numpy_t and spark_t:
        a_n, b_n = numpy_t
        a_s, b_s = spark_t
        b_cluster = b_s * 2 / args.cluster_cores
        lines.append(
            f"NumPy: {a_n:.1f} s + {b_n * 1e6:.2f} s per million ratings; Spark local[2]: "
            f"{a_s:.1f} s + {b_s * 1e6:.2f} s per million ratings (load + fit)."
        )
        if b_cluster < b_n:
            n = (a_s - a_n) / (b_n - b_cluster)
            lines.append(
                f"With {args.cluster_cores} cores at the measured per-core rate, Spark's time "
                f"({a_s:.0f} s + {b_cluster * 1e6:.2f} s per million ratings) drops below "
                f"NumPy's at about {max(n, 0) / 1e6:,.0f} million ratings "
                f"({max(n, 0) / BASE_RATINGS:,.0f}x the original scale)."
            )
        else:
            lines.append(
                f"Even with {args.cluster_cores} cores Spark's measured per-rating cost stays "
                "above NumPy's: on time alone one machine wins at every size."
            )
    if numpy_m and numpy_m[1] > 0:
        a_m, b_m = numpy_m
        limit = (args.machine_gib * GIB - a_m) / b_m if b_m > 0 else float("inf")
        lines.append(
            f"NumPy's peak memory grows {b_m * 1e6 / 2**20:.0f} MiB per million ratings; a "
            f"{args.machine_gib} GiB machine runs out at about {limit / 1e6:,.0f} million "
            f"ratings ({limit / BASE_RATINGS:,.0f}x): beyond that only the Spark engine trains."
        )
    return lines


def render(points: list[dict[str, Any]], args: argparse.Namespace, notes: list[str]) -> str:
    header = ["scale", "ratings", "likes", "engine", "start s", "load s", "fit s", "peak memory"]
    rows = []
    for p in points:
        if not p.get("generate_ok"):
            rows.append([f"{p['factor']:g}x", f"{p['n_ratings']:,}", "–", "–", "–", "–", "–",
                         f"generate failed: {p.get('generate_error')}"])  # fmt: skip
            continue
        for engine, r in p["runs"].items():
            secs = [r.get(k) for k in ("start_s", "load_s", "fit_s")]
            mem = fmt_bytes(r["peak"]) if r["ok"] else f"failed: {r['error']}"
            if engine == "spark" and r["ok"]:
                mem += f" (JVM {fmt_bytes(r['jvm_peak'])})"
            rows.append(
                [f"{p['factor']:g}x", f"{p['n_ratings']:,}", f"{p.get('n_likes', 0):,}", engine]
                + [f"{s:.1f}" if s is not None else "–" for s in secs]
                + [mem]
            )
    return (
        f"Model {args.model} (default parameters), Spark local[2] with driver memory "
        f"{args.driver_memory} and {args.partitions} shuffle partitions.\n\n"
        + markdown_table(header, rows)
        + "\n\n"
        + "\n".join(f"- {line}" for line in notes)
        + "\n"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(HANDLERS)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", default="1,10,100", help="scale factors (x original)")
    parser.add_argument("--model", default="itemknn", help="a model both engines train")
    parser.add_argument("--engines", default="numpy,spark")
    parser.add_argument("--driver-memory", default="8g", help="Spark driver (= local JVM) heap")
    parser.add_argument("--partitions", type=int, default=16, help="Spark shuffle partitions")
    parser.add_argument("--cap-gib", type=int, default=12, help="address-space cap, NumPy")
    parser.add_argument("--timeout", type=float, default=2400.0, help="seconds per child")
    parser.add_argument("--cluster-cores", type=int, default=64, help="for the crossover")
    parser.add_argument("--machine-gib", type=int, default=24, help="for NumPy's memory limit")
    args = parser.parse_args()

    points = []
    for factor in (float(f) for f in args.points.split(",")):
        store = Path(tempfile.mkdtemp(prefix="nextshow-bench-spark-"))
        try:
            points.append(run_point(factor, args, store))
        finally:
            shutil.rmtree(store, ignore_errors=True)
    for p in points:
        for r in p["runs"].values():
            r["total_s"] = (r["load_s"] or 0) + (r["fit_s"] or 0) if r["ok"] else None
    notes = crossover(points, args)
    OUT.mkdir(parents=True, exist_ok=True)
    text = render(points, args, notes)
    (OUT / "spark.md").write_text(text)
    (OUT / "spark.json").write_text(json.dumps({"args": vars(args), "points": points}, indent=2))
    print(text)


if __name__ == "__main__":
    main()
