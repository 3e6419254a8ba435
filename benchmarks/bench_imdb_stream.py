"""Streaming import of IMDb's TV datasets at full size: time and peak RSS per file, beside a floor.

    .venv/bin/python benchmarks/bench_imdb_stream.py [--lines 11000000] [--min-votes 20]
        [--only title.principals ...]

Files: the seeded synthetic title.basics / title.ratings (synthetic_imdb.py) and the five people
and TV files completing them (synthetic_imdb_tv.py), at the real files' line counts when
``--lines`` is 11,000,000 (principals ~90M lines, akas ~50M). Generated once, cached under
benchmarks/out/.

Each pass runs in its own child process (benchmarks/_measure.py: the kernel's peak RSS of that
process alone, under an address-space cap; the time is the import call's, without start-up)
against one SQLite store, in the importer's order: title.basics + title.ratings, then
title.akas, title.episode, title.crew, title.principals, name.basics. ``--min-votes 20`` keeps
more series than the real default catalogue (about 2.5x), so the kept-id and people maps, which
are what memory grows with, are larger than in real use.
The floor beside each file is ``gzip -dc FILE | wc -l`` of the same file in the same run: the
cost of merely decompressing and counting its lines.

Never part of the tests. Numbers depend on the machine and its load: compare rows of one run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import GIB, Steps, child_main, fmt_bytes, markdown_table, run_child

SCRIPT = Path(__file__).resolve()
TYPES = ["tvSeries", "tvMiniSeries"]
ORDER = ("title.akas", "title.episode", "title.crew", "title.principals", "name.basics")


def _sessions(db: str):
    from nextshow.db.session import make_engine, session_factory, upgrade

    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    return session_factory(engine)


def _child_titles(task: dict[str, Any], steps: Steps) -> None:
    from nextshow.catalog.imdb_import import import_imdb_titles

    with steps.step("import"):
        summary = import_imdb_titles(
            _sessions(task["db"]),
            Path(task["basics"]),
            Path(task["ratings"]),
            title_types=frozenset(TYPES),
            min_votes=task["min_votes"],
            batch_size=5000,
            progress=False,
            reports_dir=Path(task["reports"]),
        )
    steps.out["summary"] = summary.as_dict()


def _child_dataset(task: dict[str, Any], steps: Steps) -> None:
    from nextshow.catalog.imdb_tv_import import import_tv_dataset

    with steps.step("import"):
        summary = import_tv_dataset(
            _sessions(task["db"]),
            task["name"],
            Path(task["path"]),
            title_types=frozenset(TYPES),
            batch_size=5000,
            progress=False,
            reports_dir=Path(task["reports"]),
        )
    steps.out["summary"] = summary.as_dict()


def _has_shows(db: str) -> bool:
    import sqlite3

    if not Path(db).is_file():
        return False
    with sqlite3.connect(db) as conn:
        return bool(conn.execute("SELECT count(*) FROM shows").fetchone()[0])


def floor(path: Path) -> tuple[float, int]:
    """Seconds and line count of ``gzip -dc path | wc -l``."""
    started = time.perf_counter()
    out = subprocess.run(
        f"gzip -dc '{path}' | wc -l", shell=True, check=True, capture_output=True, text=True
    )
    return time.perf_counter() - started, int(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=11_000_000, help="title.basics data lines")
    parser.add_argument("--min-votes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", action="append", choices=ORDER, help="files to measure")
    parser.add_argument(
        "--db", help="SQLite file to use and keep; title.basics is skipped when it has shows"
    )
    parser.add_argument("--child", help="internal: run one measured step")
    args = parser.parse_args()
    if args.child:
        child_main({"titles": _child_titles, "dataset": _child_dataset})
        return

    from synthetic_imdb import generate as generate_basics
    from synthetic_imdb_tv import generate

    basics, ratings = generate_basics(args.lines, args.seed)
    files = {name: generate(name, args.lines, args.seed) for name in args.only or ORDER}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-imdb-stream-") as tmp:
        db = args.db or str(Path(tmp) / "bench.db")
        common = {"db": db, "reports": tmp, "min_votes": args.min_votes}
        plan = [
            ("title.basics", {"kind": "titles", "basics": str(basics), "ratings": str(ratings)})
        ]
        if args.db and _has_shows(args.db):
            plan = []  # the titles of an earlier run, kept in --db
        plan += [(n, {"kind": "dataset", "name": n, "path": str(p)}) for n, p in files.items()]
        for name, task in plan:
            path = basics if name == "title.basics" else files[name]
            seconds, lines = floor(path)
            result = run_child(SCRIPT, {**common, **task}, cap_bytes=4 * GIB, timeout_s=7200)
            summary = result.data.get("summary", {})
            rows.append(
                [
                    name,
                    f"{lines:,}",
                    f"{path.stat().st_size / 1e6:,.0f} MB",
                    f"{result.data['steps']['import']:,.0f} s"
                    if result.ok
                    else f"failed: {result.error}",
                    fmt_bytes(result.peak_rss),
                    f"{seconds:,.0f} s",
                    f"{summary.get('inserted', 0) + summary.get('updated', 0):,} written, "
                    f"{summary.get('skipped', 0):,} skipped, {summary.get('rejected', 0)} rejected",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
    header = ["file", "lines", "gz size", "import", "peak RSS", "gzip -dc | wc -l", "rows"]
    print()
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
