"""Growth: how fit time, peak RSS and artifact size grow with ratings (1x..100x) and shows (10x).

One command, bounded to about 15 minutes on 2 cores (``--budget``)::

    .venv/bin/python benchmarks/bench_growth.py           # --help for points, models, caps

A point ``R@S`` is R times the original ratings and users (517k ratings, 304k users: a bigger
audience with the same habits) and S times the original 1,722 shows. Each point's data is made by
:func:`nextshow.synthetic.generate` in its own capped child; each model fits in a fresh child
under ``--cap`` (6 GiB), so a model that outgrows the machine stops with "MemoryError at step fit"
instead of taking the machine down. A model is not retried at a bigger point after it failed, and
a fit whose time projected from the previous point (linear in ratings) would not fit the remaining
budget is skipped and reported as such.

Writes benchmarks/out/growth.md, growth.json and growth.png (log-log).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from _measure import (
    DEFAULT_CAP,
    GIB,
    MIB,
    OUT,
    Steps,
    child_main,
    fmt_bytes,
    markdown_table,
    run_child,
    save_likes,
)
from bench_scale import child_fit_implicit, child_fit_model

SCRIPT = Path(__file__).resolve()
MODELS = ("itemknn", "rp3beta", "ease", "time-aware")
DEFAULT_POINTS = "1,10,30,1@10,100"
BASE_RATINGS, BASE_USERS, BASE_SHOWS = 517_000, 304_000, 1_722
IMPLICIT = "implicit-cosine"


def child_generate(task: dict[str, Any], steps: Steps) -> None:
    from nextshow.synthetic import generate

    with steps.step("generate"):
        data = generate(task["n_ratings"], task["n_users"], task["n_shows"], seed=task["seed"])
    with steps.step("likes"):
        likes, times = data.likes()
        del data
    steps.out.update(n_likes=int(likes.nnz), generate_s=steps.out["steps"]["generate"])
    with steps.step("save"):
        save_likes(Path(task["likes"]), likes, times)


HANDLERS = {
    "generate": child_generate,
    "fit_model": child_fit_model,
    "fit_implicit": child_fit_implicit,
}


def parse_point(text: str) -> tuple[float, int]:
    ratings, _, shows = text.partition("@")
    return float(ratings), int(shows or 1)


def _failure(row: dict[str, Any]) -> str:
    """Why a cell has no figure; for a fit that died, also how far its memory had grown."""
    error = row.get("error") or "–"
    if row.get("peak_rss") and "ok" in row:
        error += f" (peak {fmt_bytes(row['peak_rss'])})"
    return error


def render(rows: list[dict[str, Any]], points: list[dict[str, Any]]) -> str:
    header = [
        "point",
        "ratings",
        "users",
        "shows",
        "likes",
        "model",
        "fit s",
        "peak RSS",
        "artifact",
    ]
    by_point = {p["point"]: p for p in points}
    lines = []
    for r in rows:
        p = by_point[r["point"]]
        lines.append(
            [
                r["point"],
                f"{p['n_ratings']:,}",
                f"{p['n_users']:,}",
                f"{p['n_shows']:,}",
                f"{p['n_likes']:,}" if p.get("n_likes") else "–",
                r["model"],
                f"{r['fit_s']:.2f}" if r.get("fit_s") is not None else "–",
                fmt_bytes(r.get("peak_rss")) if r.get("ok") else _failure(r),
                fmt_bytes(r.get("artifact_bytes")),
            ]
        )
    gen = "; ".join(
        f"{p['point']}: {p.get('generate_s', 0):.1f} s, peak {fmt_bytes(p.get('peak_rss'))}"
        + (f" ({p['error']})" if p.get("error") else "")
        for p in points
    )
    return markdown_table(header, lines) + f"\n\nData generation (child, capped): {gen}\n"


def chart(rows: list[dict[str, Any]], points: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_ratings = {p["point"]: p["n_ratings"] for p in points}
    shows = {p["point"]: p["shows_factor"] for p in points}
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    models = list(dict.fromkeys(r["model"] for r in rows))
    for i, model in enumerate(models):
        color = f"C{i}"
        for factor, style in ((1, "-o"), (10, "--s")):
            sel = [r for r in rows if r["model"] == model and shows[r["point"]] == factor]
            ok = [r for r in sel if r.get("ok")]
            ok.sort(key=lambda r: n_ratings[r["point"]])
            label = f"{model}" + (" (10x shows)" if factor == 10 else "")
            for ax, key, scale in ((axes[0], "fit_s", 1.0), (axes[1], "peak_rss", 1 / MIB)):
                xs = [n_ratings[r["point"]] for r in ok]
                ys = [r[key] * scale for r in ok]
                if xs:
                    ax.plot(xs, ys, style, color=color, label=label, alpha=0.85)
                for r in sel:
                    if not r.get("ok") and r.get("peak_rss"):
                        # A failed fit: its peak RSS (at the cap) marked with a cross.
                        axes[1].plot(n_ratings[r["point"]], r["peak_rss"] / MIB, "x", color=color)
    # A slope-1 guide through the first implicit point: parallel lines grow linearly in ratings.
    ref = [r for r in rows if r["model"] == IMPLICIT and r.get("ok") and shows[r["point"]] == 1]
    if ref:
        x0 = n_ratings[ref[0]["point"]]
        xs = [x0, max(n_ratings[p["point"]] for p in points if p["shows_factor"] == 1)]
        for ax, key, scale in ((axes[0], "fit_s", 1.0), (axes[1], "peak_rss", 1 / MIB)):
            y0 = ref[0][key] * scale
            ax.plot(xs, [y0, y0 * xs[1] / xs[0]], ":", color="black", label="linear (guide)")
    axes[0].set_ylabel("fit time (s)")
    axes[1].set_ylabel("peak RSS of the fitting process (MiB)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("ratings")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("nextshow fit cost growth (solid: 1,722 shows; dashed: 17,220; x: failed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", default=DEFAULT_POINTS, help="comma list of R or R@S")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--no-implicit", action="store_true", help="skip the implicit reference")
    parser.add_argument("--cap", type=float, default=DEFAULT_CAP / GIB, help="GiB per model fit")
    parser.add_argument("--gen-cap", type=float, default=12.0, help="GiB for data generation")
    parser.add_argument("--budget", type=float, default=840.0, help="seconds for the whole run")
    parser.add_argument("--fit-timeout", type=float, default=100.0, help="seconds per fit")
    parser.add_argument(
        "--heavy-from",
        type=float,
        default=100.0,
        help="ratings factor from which only --heavy-models run (generation alone takes 1-2 min "
        "at 100x on 2 cores)",
    )
    parser.add_argument(
        "--heavy-models",
        default="",
        help=f"comma list, e.g. itemknn,{IMPLICIT}, to bound a run on a busy machine; "
        "default: every model (the budget still skips fits projected not to finish)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--replot", action="store_true", help="redraw growth.png from growth.json, measure nothing"
    )
    args = parser.parse_args(argv)
    if args.replot:
        saved = json.loads((OUT / "growth.json").read_text())
        chart(saved["rows"], saved["points"], OUT / "growth.png")
        return 0

    from nextshow.recommenders import kinds

    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    work = OUT / "growth-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    known = kinds.names()
    models = [m for m in args.models.split(",") if m in known]
    missing = [m for m in args.models.split(",") if m not in known]
    if not args.no_implicit:
        models.append(IMPLICIT)

    points: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    # Projections compare a point with the last one of the same catalogue size (shows factor):
    # model@shows -> (ratings, fit seconds) at its last success; shows -> (ratings, seconds).
    last: dict[str, tuple[int, float]] = {}
    last_gen: dict[int, tuple[int, float]] = {}
    stopped: dict[str, str] = {}  # model -> why it is not run at bigger points
    for text in args.points.split(","):
        r_factor, s_factor = parse_point(text)
        point = {
            "point": f"{r_factor:g}x ratings" + (f", {s_factor}x shows" if s_factor > 1 else ""),
            "shows_factor": s_factor,
            "n_ratings": round(BASE_RATINGS * r_factor),
            "n_users": round(BASE_USERS * r_factor),
            "n_shows": BASE_SHOWS * s_factor,
        }
        points.append(point)
        remaining = args.budget - (time.perf_counter() - started)
        # Skip a point whose generation plus its cheapest fit (both projected linearly from the
        # previous point) would overrun the budget: a half-measured point tells nothing.
        n = point["n_ratings"]
        gen_ratings, gen_s = last_gen.get(s_factor, (n, 10.0))
        fits = [
            secs * n / ratings
            for key, (ratings, secs) in last.items()
            if key.endswith(f"@{s_factor}")
        ]
        projected = gen_s * n / gen_ratings + (min(fits) if fits else 0.0)
        if projected + 15 > remaining:
            point["error"] = (
                f"skipped: projected {projected:.0f} s (generation + cheapest fit) > "
                f"{remaining:.0f} s of budget left"
            )
            print(f"{point['point']}: {point['error']}", file=sys.stderr)
            continue
        likes_file = work / "likes.npz"
        task = {
            "kind": "generate",
            "seed": args.seed,
            "likes": str(likes_file),
            **{k: point[k] for k in ("n_ratings", "n_users", "n_shows")},
        }
        gen = run_child(SCRIPT, task, cap_bytes=int(args.gen_cap * GIB), timeout_s=remaining)
        point.update(peak_rss=gen.peak_rss, n_likes=gen.data.get("n_likes"), generate_s=gen.wall_s)
        if not gen.ok:
            point["error"] = gen.error
            print(f"{point['point']}: generation failed: {gen.error}", file=sys.stderr)
            continue
        last_gen[s_factor] = (point["n_ratings"], gen.wall_s)
        for model in models:
            row: dict[str, Any] = {"point": point["point"], "model": model}
            rows.append(row)
            heavy = args.heavy_models.split(",") if args.heavy_models else models
            if r_factor >= args.heavy_from and model not in heavy:
                row["error"] = f"not run at >= {args.heavy_from:g}x (budget; see --heavy-models)"
                continue
            key = f"{model}@{s_factor}"
            if key in stopped:
                row["error"] = stopped[key]
                continue
            remaining = args.budget - (time.perf_counter() - started)
            if key in last:
                prev_ratings, prev_s = last[key]
                projected = prev_s * point["n_ratings"] / prev_ratings
                if projected + 10 > remaining:
                    row["error"] = f"skipped: projected {projected:.0f} s > {remaining:.0f} s left"
                    stopped[key] = "skipped (budget)"
                    continue
            artifact = work / f"artifact-{model}"
            if model == IMPLICIT:
                task = {"kind": "fit_implicit", "k": 100, "artifact": str(artifact) + ".npz"}
            else:
                task = {"kind": "fit_model", "model": model, "artifact": str(artifact)}
            task["likes"] = str(likes_file)
            timeout = max(min(remaining, args.fit_timeout), 10)
            res = run_child(SCRIPT, task, cap_bytes=int(args.cap * GIB), timeout_s=timeout)
            row.update(
                ok=res.ok,
                fit_s=res.data.get("fit_s") if res.ok else None,
                peak_rss=res.peak_rss,
                artifact_bytes=res.data.get("artifact_bytes"),
                error=res.error,
            )
            if res.ok:
                last[key] = (point["n_ratings"], res.data["fit_s"])
            else:
                stopped[key] = f"not run: failed at a smaller point ({res.error})"
            shutil.rmtree(artifact, ignore_errors=True)
            Path(str(artifact) + ".npz").unlink(missing_ok=True)
            print(f"{point['point']} {model}: {row}", file=sys.stderr)
        likes_file.unlink(missing_ok=True)

    report = (
        f"Growth: fit in a fresh process per cell, cap {args.cap:g} GiB per fit; "
        f"budget {args.budget:.0f} s; seed {args.seed}."
        + (f" Not a known model kind: {', '.join(missing)}." if missing else "")
        + "\n\n"
        + render(rows, points)
        + f"\nTotal benchmark wall time: {time.perf_counter() - started:.0f} s.\n"
    )
    print(report)
    (OUT / "growth.md").write_text(report)
    (OUT / "growth.json").write_text(json.dumps({"points": points, "rows": rows}, indent=2))
    chart(rows, points, OUT / "growth.png")
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {OUT / 'growth.md'}, growth.json, growth.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(HANDLERS)
    else:
        sys.exit(main())
