"""Import benchmarks: wall time and peak memory of the importers, next to a naive peer.

    .venv/bin/python benchmarks/bench_import.py [--postgres URL] [--imdb-lines 11000000]

Cases (each in its own subprocess, so peak RSS is that import's alone):

- ``ratings``: the MovieTweetings 100k file through ``import_ratings`` (SQLite; PostgreSQL too
  when ``--postgres`` is given; a fresh schema is created and dropped there).
- ``naive-orm``: the peer. The obvious per-row ORM import of the same file (get-or-create the
  user and the show with a query each, ``session.merge`` the rating, commit every 1000 rows),
  run on the first 5,000 rows and extrapolated x20 (marked ``~``).
- ``imdb``: ``import_imdb_titles`` on a synthetic title.basics.tsv.gz (benchmarks/synthetic_imdb.py,
  11M lines by default, cached under benchmarks/out/), SQLite.

Never part of the tests. Numbers depend on the machine and its load: compare rows of one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT.parent / "shared" / "datasets" / "movietweetings-100k" / "ratings.dat"
NAIVE_ROWS = 5_000


def _fresh_store(url: str | None, tmp: Path):
    from sqlalchemy import create_engine, text

    from nextshow.config import Settings
    from nextshow.db.session import make_engine, session_factory, upgrade

    cleanup = None
    if url is None:
        db_url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(Settings(database_url=url).db_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

        sep = "&" if "?" in url else "?"
        db_url = Settings(database_url=f"{url}{sep}options=-csearch_path%3D{schema}").db_url
    engine = make_engine(db_url)
    upgrade(engine)
    return session_factory(engine), cleanup


def _naive_orm(sessions, path: Path, limit: int) -> int:
    """The peer: one ORM round trip per user, show and rating."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from nextshow.catalog.normalize import normalize_title
    from nextshow.db.models import Rating, Show, User

    count = 0
    session = sessions()
    with path.open() as handle:
        for count, line in enumerate(handle, 1):
            if count > limit:
                count -= 1
                break
            user_key, item, rating, ts = line.rstrip("\n").split("::")
            user = session.scalars(
                select(User).where(User.source == "mt", User.external_id == user_key)
            ).first() or User(source="mt", external_id=user_key)
            imdb_id = "tt" + item
            show = session.scalars(select(Show).where(Show.imdb_id == imdb_id)).first() or Show(
                imdb_id=imdb_id, title=imdb_id, normalized_title=normalize_title(imdb_id),
                source="mt", external_id=item,
            )  # fmt: skip
            session.add_all([user, show])
            session.flush()
            session.merge(
                Rating(
                    user_id=user.id, show_id=show.id, rating=float(rating),
                    liked=float(rating) >= 8, source="mt",
                    rated_at=datetime.fromtimestamp(int(ts), UTC),
                )
            )  # fmt: skip
            if count % 1000 == 0:
                session.commit()
    session.commit()
    session.close()
    return count


def worker(case: str, url: str | None, imdb_lines: int) -> dict[str, object]:
    """Run one case in this process and return its measurements."""
    from nextshow.catalog.imdb_import import import_imdb_titles
    from nextshow.ratings.importer import import_ratings

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sessions, cleanup = _fresh_store(url, tmp)
        try:
            started = time.perf_counter()
            if case == "ratings":
                summary = import_ratings(
                    sessions, DATASET, fmt="movietweetings", items_path=None,
                    like_threshold=8.0, batch_size=5000, progress=False, reports_dir=tmp,
                )  # fmt: skip
                rows, note = summary.inserted, ""
            elif case == "naive-orm":
                rows = _naive_orm(sessions, DATASET, NAIVE_ROWS)
                note = f"first {rows:,} rows, extrapolated"
            else:
                sys.path.insert(0, str(Path(__file__).parent))
                from synthetic_imdb import generate

                basics, ratings = generate(imdb_lines)
                started = time.perf_counter()
                summary = import_imdb_titles(
                    sessions, basics, ratings, title_types=frozenset({"tvSeries", "tvMiniSeries"}),
                    min_votes=500, batch_size=5000, progress=False, reports_dir=tmp,
                )  # fmt: skip
                rows = imdb_lines
                note = f"{summary.inserted:,} shows kept, {summary.skipped:,} skipped"
            seconds = time.perf_counter() - started
        finally:
            if cleanup:
                cleanup()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"seconds": seconds, "rows": rows, "peak_rss_mb": peak_kb / 1024, "note": note}


def _run(case: str, url: str | None, imdb_lines: int) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--worker", case, "--imdb-lines", str(imdb_lines)]
    if url:
        cmd += ["--postgres", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL: also run the ratings cases there")
    parser.add_argument("--imdb-lines", type=int, default=11_000_000)
    parser.add_argument("--skip-imdb", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.postgres, args.imdb_lines)))
        return

    plan = [("ratings", None), ("naive-orm", None)]
    if args.postgres:
        plan += [("ratings", args.postgres), ("naive-orm", args.postgres)]
    if not args.skip_imdb:
        plan.append(("imdb", None))
    print(
        f"{'case':<12} {'db':<10} {'rows':>12} {'seconds':>9} {'rows/s':>10} {'peak RSS':>9}  note"
    )
    for case, url in plan:
        result = _run(case, url, args.imdb_lines)
        seconds = float(result["seconds"])  # type: ignore[arg-type]
        rows = int(result["rows"])  # type: ignore[call-overload]
        scale = "~" if case == "naive-orm" else " "
        if case == "naive-orm":
            seconds, rows = seconds * 100_000 / rows, 100_000
        print(
            f"{case:<12} {'postgresql' if url else 'sqlite':<10} {rows:>12,} "
            f"{scale}{seconds:>8.1f} {rows / seconds:>10,.0f} "
            f"{float(result['peak_rss_mb']):>6.0f} MB  {result['note']}",  # type: ignore[arg-type]
            flush=True,
        )


if __name__ == "__main__":
    main()
