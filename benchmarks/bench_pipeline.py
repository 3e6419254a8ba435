"""Wall time and peak memory of import, snapshot and train + register, on two data sets.

    .venv/bin/python benchmarks/bench_pipeline.py [--model time-aware] [--skip-synthetic]

Each step is the real ``nextshow`` command in a fresh process against a fresh SQLite store, so
the figures are what a user sees; peak RSS is the child's own high-water mark (wait4).
Data sets: the bundled MovieTweetings demo (100k ratings) and the seeded synthetic set at the
original system's scale (~517k ratings, 1,722 shows, ~304k users), imported from a CSV file.
The peer is the original system: "training took an hour" on a hosted ML service.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"


def synthetic_csv(path: Path) -> int:
    """Write the original-scale synthetic set as a nextshow CSV; return its row count."""
    from nextshow.synthetic import generate

    data = generate(seed=42)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "imdb_id", "title", "year", "genres", "rating", "timestamp"])
        titles, years, genres = data.titles, data.start_year, data.genres
        for user, show, rating, ts in zip(
            data.user.tolist(),
            data.show.tolist(),
            data.rating.tolist(),
            data.timestamp.tolist(),
            strict=True,
        ):
            writer.writerow(
                [
                    user,
                    f"tt9{show:06d}",
                    titles[show],
                    int(years[show]),
                    ",".join(genres[show]),
                    rating,
                    ts,
                ]
            )
    return len(data.user)


def run_step(name: str, args: list[str], env: dict[str, str]) -> dict[str, object]:
    """One step in its own wrapper process, so RUSAGE_CHILDREN is that step's peak alone."""
    code = (
        "import json, sys, time, subprocess, resource;"
        "t = time.perf_counter();"
        f"p = subprocess.run([sys.executable, '-m', 'nextshow.cli', *{args!r}],"
        " capture_output=True, text=True);"
        "wall = time.perf_counter() - t;"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024;"
        "print(json.dumps({'rc': p.returncode, 'wall': wall, 'peak': peak,"
        " 'out': (p.stdout.strip().splitlines() or [''])[-1], 'err': p.stderr[-2000:]}))"
    )
    import json

    result = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    if result["rc"] not in (0, 1):
        raise SystemExit(f"{name} failed ({result['rc']}):\n{result['err']}")
    print(
        f"  {name:<16} {result['wall']:8.1f} s  {result['peak']:8.0f} MB  {result['out']}",
        flush=True,
    )
    return {"step": name, **result}


# The snapshot's floor: a plain Python process that reads the same rows from the same SQLite
# file with the driver alone (no conversion, no Parquet), from start to exit.
FLOOR_READ = (
    "import sqlite3, sys;"
    "sqlite3.connect(sys.argv[1]).execute('SELECT user_id, show_id, rating, liked, rated_at "
    "FROM ratings ORDER BY user_id, show_id').fetchall()"
)


def snapshot_floor(home: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR_READ, str(Path(home) / "nextshow.db")], check=True)
    return time.perf_counter() - started


def bench(
    label: str,
    load: list[str],
    model: str | None,
    extra: list[str],
    settings: dict[str, str] | None = None,
) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="nextshow-bench-") as home:
        env = {
            **os.environ,
            "NEXTSHOW_HOME": home,
            "NEXTSHOW_PROGRESS": "false",
            **(settings or {}),
        }
        env.pop("NEXTSHOW_DATABASE_URL", None)
        print(f"{label}:", flush=True)
        steps = [run_step("import", load, env)]
        steps.append(run_step("snapshot", ["snapshot"], env))
        floor = snapshot_floor(home)
        steps[-1]["floor"] = f"plain sqlite3 read of the rows: {floor:.1f} s"
        print(f"  {'(floor)':<16} {floor:8.1f} s  plain sqlite3 fetchall of the same rows")
        chosen = ["--model", model] if model else []
        steps.append(run_step("train+register", ["train", *chosen, *extra], env))
        for step in steps:
            step["data"] = label
        return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="time-aware")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument(
        "--choice", action="store_true", help="Also train with the automatic model choice."
    )
    args = parser.parse_args()

    rows = bench("demo (100k)", ["demo"], args.model, ["--no-tune"])
    rows += bench("demo, tuned", ["demo"], args.model, [])[2:]
    rows[-1]["data"] = "demo (tuned)"
    if args.choice:  # what `nextshow train` does by default: choose among every candidate
        rows += bench("demo, automatic choice", ["demo"], None, [])[2:]
        rows[-1]["data"] = "demo (choice, all)"
        quick = {"NEXTSHOW_CANDIDATE_MODELS": "quick"}
        rows += bench("demo, quick choice", ["demo"], None, [], quick)[2:]
        rows[-1]["data"] = "demo (choice, quick)"
    if not args.skip_synthetic:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / "synthetic-original-scale.csv"
        if not path.exists():
            print(f"writing {path} ...", flush=True)
            synthetic_csv(path)
        rows += bench(
            "synthetic (517k)",
            ["import", "ratings", str(path), "--format", "csv"],
            args.model,
            ["--no-tune"],
        )

    print()
    print("| data | step | wall s | peak RSS MB | floor / peer |")
    print("|---|---|---:|---:|---|")
    for row in rows:
        peer = row.get("floor", "")
        if row["step"] == "train+register":
            peer = "original system: training took about an hour"
        print(f"| {row['data']} | {row['step']} | {row['wall']:.1f} | {row['peak']:.0f} | {peer} |")


if __name__ == "__main__":
    main()
