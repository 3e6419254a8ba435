"""Import benchmarks: whole-process import time beside the plain floor, and in-process cases.

    .venv/bin/python benchmarks/bench_import.py [--postgres URL] [--runs 3] [--csv]
    .venv/bin/python benchmarks/bench_import.py --in-process [--postgres URL] [--imdb-lines N]
    .venv/bin/python benchmarks/bench_import.py --parse-only [--runs 3]

Default (``whole process``): the MovieTweetings 100k file imported by the real command,
``nextshow import ratings --format movietweetings``, each run a fresh process on a fresh store
(SQLite file under a new ``NEXTSHOW_HOME``, or a new schema on PostgreSQL, migrated before the
clock starts and dropped after), beside the floor from the same run: a plain Python process that
parses the same file into tuples and writes them in one transaction, on SQLite with one
``executemany ... ON CONFLICT DO UPDATE``, on PostgreSQL with ``COPY`` into a temporary table and
one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``. On SQLite a second floor, ``schema floor``,
writes the same tuples with plain sqlite3 into nextshow's own migrated schema (users, shows and
ratings with their keys, indexes and foreign keys): the gap between the two floors is what the
schema costs, the gap above the second what nextshow's process start, checks and batches cost.
Floor and import runs alternate, and each figure is the median of ``--runs``: wall seconds, and
CPU seconds (user + sys of the child, from ``wait4``), which the other workers on a shared
machine disturb less than wall time. ``--csv``: the same on the 517k-row synthetic CSV of
benchmarks/bench_pipeline.py (``--format csv``; written once under benchmarks/out/), the floors
reading it with the csv module.

``--in-process`` cases (each in its own subprocess, so peak RSS is that import's alone):

- ``ratings``: the same file through ``import_ratings`` (SQLite; PostgreSQL too
  when ``--postgres`` is given; a fresh schema is created and dropped there).
- ``naive-orm``: the peer. The obvious per-row ORM import of the same file (get-or-create the
  user and the show with a query each, ``session.merge`` the rating, commit every 1000 rows),
  run on the first 5,000 rows and extrapolated x20 (marked ``~``).
- ``imdb``: ``import_imdb_titles`` on a synthetic title.basics.tsv.gz (benchmarks/synthetic_imdb.py,
  11M lines by default, cached under benchmarks/out/), SQLite.

``--parse-only``: the parsers alone (``iter_ratings`` run over the file, nothing written), for
the ``::`` format (the MovieTweetings 100k file) and for CSV (the 517k-row synthetic set of
benchmarks/bench_pipeline.py, written once under benchmarks/out/), each beside its floor from
the same run: the same file read into typed tuples with no checks (a bytes split for ``::``, the
csv module for CSV); ``csv columns`` is the CSV as the importer reads it (``iter_rating_blocks``:
blocks of 5,000 lines parsed into columns). CPU seconds of this process, median of ``--runs``,
floor and parser alternating.

Never part of the tests. Numbers depend on the machine and its load: compare rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_DATA = Path("shared", "datasets", "movietweetings-100k", "ratings.dat")
# Beside the checkout (/work/main) or beside a worktree's parent (/work/wt/<name>).
DATASET = next((p / _DATA for p in ROOT.parents if (p / _DATA).is_file()), ROOT.parent / _DATA)
NAIVE_ROWS = 5_000
SYNTHETIC = ROOT / "benchmarks" / "out" / "synthetic-517k.csv"


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


def _dat_tuples(path: Path) -> list[tuple[str, str, float, int]]:
    """The floor's parse of a ``::`` file: split, typed, no checks."""
    rows = []
    with path.open("rb") as handle:
        for line in handle:
            user, item, rating, stamp = line.rstrip(b"\n").split(b"::")
            rows.append((user.decode(), "tt" + item.decode().zfill(7), float(rating), int(stamp)))
    return rows


def _csv_tuples(path: Path) -> list[tuple[str, str, float, int]]:
    """The floor's parse of the synthetic CSV: the csv module, typed, no checks."""
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        at = {name: index for index, name in enumerate(next(reader))}
        user, show, rating, stamp = (at[n] for n in ("user_id", "imdb_id", "rating", "timestamp"))
        return [(r[user], r[show], float(r[rating]), int(r[stamp])) for r in reader]


def _synthetic() -> Path:
    """The 517k-row synthetic CSV of bench_pipeline.py, written on first use."""
    if not SYNTHETIC.is_file():
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_pipeline import synthetic_csv

        SYNTHETIC.parent.mkdir(exist_ok=True)
        synthetic_csv(SYNTHETIC)
    return SYNTHETIC


def parse_only(runs: int) -> None:
    """Print the median CPU seconds of each parser beside its floor, and their ratio."""
    from nextshow.ratings.formats import RatingColumns, iter_rating_blocks, iter_ratings

    def count(fmt: str, path: Path) -> int:
        if fmt != "csv columns":
            return sum(1 for _row in iter_ratings(path, fmt))
        # What the importer reads: blocks of its default batch size, as columns where it can.
        blocks = iter_rating_blocks(path, "csv", size=5000)
        return sum(len(item) if isinstance(item, RatingColumns) else 1 for item in blocks)

    synthetic = _synthetic()
    print(f"Parse only (nothing written), median of {runs} (cpu s)")
    print(f"{'format':<16} {'rows':>9} {'parse s':>8} {'floor s':>8} {'ratio':>7} {'rows/s':>10}")
    for fmt, path, floor in (
        ("movietweetings", DATASET, _dat_tuples),
        ("csv", synthetic, _csv_tuples),
        ("csv columns", synthetic, _csv_tuples),
    ):
        parse_times, floor_times, rows = [], [], 0
        for _ in range(runs):
            started = time.process_time()
            floor(path)
            floor_times.append(time.process_time() - started)
            started = time.process_time()
            rows = count(fmt, path)
            parse_times.append(time.process_time() - started)
        parse_s, floor_s = statistics.median(parse_times), statistics.median(floor_times)
        print(
            f"{fmt:<16} {rows:>9,} {parse_s:>8.2f} {floor_s:>8.2f} {parse_s / floor_s:>6.1f}x "
            f"{rows / parse_s:>10,.0f}",
            flush=True,
        )


def _floor_rows(fmt: str) -> list[tuple[str, str, float, int]]:
    """The floors' tuples of the data set: the MovieTweetings file, or the synthetic CSV."""
    return _csv_tuples(SYNTHETIC) if fmt == "csv" else _dat_tuples(DATASET)


def _floor(db: str, target: str, fmt: str) -> None:
    """The floor, in this process: parse to tuples, write them in one transaction."""
    rows = _floor_rows(fmt)
    create = "CREATE TABLE r (u TEXT, i TEXT, rating REAL, ts BIGINT, PRIMARY KEY (u, i))"
    upsert = "ON CONFLICT (u, i) DO UPDATE SET rating = excluded.rating, ts = excluded.ts"
    if db == "sqlite":
        import sqlite3

        conn = sqlite3.connect(target)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(create)
        with conn:
            conn.executemany(f"INSERT INTO r VALUES (?, ?, ?, ?) {upsert}", rows)
        conn.close()
        return
    import psycopg

    with psycopg.connect(target) as conn:
        conn.execute(create)
        conn.execute("CREATE TEMPORARY TABLE stage (LIKE r) ON COMMIT DROP")
        with conn.cursor().copy("COPY stage FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute(f"INSERT INTO r SELECT * FROM stage {upsert}")


def _schema_floor(target: str, fmt: str) -> None:
    """The floor into nextshow's own SQLite schema (``target`` migrated): the same tuples written
    as users, shows and ratings with their keys, indexes and constraints, in one transaction,
    by plain sqlite3 (ids read back with one SELECT per table; datetimes as SQLAlchemy stores
    them). What the schema costs, apart from nextshow's checks and batching."""
    import sqlite3
    from datetime import UTC, datetime

    rows = _floor_rows(fmt)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn = sqlite3.connect(target)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    with conn:
        users = dict.fromkeys(row[0] for row in rows)
        conn.executemany(
            "INSERT INTO users (external_id, source, anonymous, created_at) "
            "VALUES (?, 'mt', 0, ?) ON CONFLICT DO NOTHING",
            [(key, now) for key in users],
        )
        user_ids = dict(conn.execute("SELECT external_id, id FROM users WHERE source = 'mt'"))
        shows = dict.fromkeys(row[1] for row in rows)
        conn.executemany(
            "INSERT INTO shows (imdb_id, title, normalized_title, source, external_id, "
            "user_submitted, created_at, updated_at) VALUES (?, ?, ?, 'mt', ?, 0, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(imdb, imdb, imdb, imdb[2:], now, now) for imdb in shows],
        )
        show_ids = dict(conn.execute("SELECT imdb_id, id FROM shows"))
        conn.executemany(
            "INSERT INTO ratings (user_id, show_id, rating, liked, source, rated_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'mt', ?, ?) ON CONFLICT (user_id, show_id) DO UPDATE SET "
            "rating = excluded.rating, liked = excluded.liked, rated_at = excluded.rated_at, "
            "updated_at = excluded.updated_at",
            [
                (
                    user_ids[user],
                    show_ids[imdb],
                    rating,
                    rating >= 8,
                    datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    now,
                )
                for user, imdb, rating, stamp in rows
            ],
        )
    conn.close()


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys, from wait4) of one child process run to its end."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed: {child.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    child.stderr.close()  # type: ignore[union-attr]
    return wall, usage.ru_utime + usage.ru_stime


def _pg_schema(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema on ``url``: (URL whose search_path is that schema, its cleanup)."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def _one_run(kind: str, url: str | None, fmt: str) -> tuple[float, float]:
    """One timed floor or import process on a fresh store; the store is removed after."""
    nextshow = str(Path(sys.executable).with_name("nextshow"))
    home = Path(tempfile.mkdtemp(prefix="bench-import-"))
    drop: Callable[[], None] | None = None
    try:
        target = str(home / "floor.db")
        env = {**os.environ, "NEXTSHOW_HOME": str(home), "NEXTSHOW_PROGRESS": "false"}
        if url is not None:
            target, drop = _pg_schema(url)
            env["NEXTSHOW_DATABASE_URL"] = target
        if kind == "floor":
            db = "sqlite" if url is None else "postgresql"
            return _timed([sys.executable, __file__, "--floor", db, target, fmt])
        subprocess.run([nextshow, "db", "upgrade"], env=env, check=True, capture_output=True)
        if kind == "schema floor":
            store = str(home / "nextshow.db")  # the embedded default's file under NEXTSHOW_HOME
            return _timed([sys.executable, __file__, "--floor", "sqlite-schema", store, fmt])
        path = SYNTHETIC if fmt == "csv" else DATASET
        import_cmd = ["import", "ratings", "--format", fmt, str(path)]
        return _timed([nextshow, *import_cmd], env)
    finally:
        if drop is not None:
            drop()
        shutil.rmtree(home, ignore_errors=True)


def whole_process(url: str | None, runs: int, fmt: str) -> None:
    """Print the median wall and CPU seconds of the import and of the floor, and their ratios."""
    kinds = ["floor", "nextshow"] if url else ["floor", "schema floor", "nextshow"]
    times: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        for kind in times:  # alternating, so both see the same load
            times[kind].append(_one_run(kind, url, fmt))
    wall = {kind: statistics.median(t[0] for t in runs_) for kind, runs_ in times.items()}
    cpu = {kind: statistics.median(t[1] for t in runs_) for kind, runs_ in times.items()}
    db = "sqlite" if url is None else "postgresql"
    for kind in times:
        print(
            f"{'import' if kind == 'nextshow' else kind:<14} {db:<10} {wall[kind]:>8.2f} "
            f"{cpu[kind]:>8.2f}   " + " ".join(f"{w:.2f}/{c:.2f}" for w, c in times[kind]),
            flush=True,
        )
    for kind in kinds[:-1]:
        print(
            f"{'/ ' + kind:<14} {db:<10} {wall['nextshow'] / wall[kind]:>7.1f}x "
            f"{cpu['nextshow'] / cpu[kind]:>7.1f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL URL: also run the ratings cases there")
    parser.add_argument("--runs", type=int, default=3, help="Whole-process runs per figure.")
    parser.add_argument("--in-process", action="store_true", help="The in-process cases instead.")
    parser.add_argument("--parse-only", action="store_true", help="The parsers alone instead.")
    parser.add_argument("--imdb-lines", type=int, default=11_000_000)
    parser.add_argument("--skip-imdb", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument(
        "--csv",
        action="store_true",
        help="Whole process on the 517k synthetic CSV (written once) instead of MovieTweetings.",
    )
    parser.add_argument("--floor", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        db, target, fmt = args.floor
        _schema_floor(target, fmt) if db == "sqlite-schema" else _floor(db, target, fmt)
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.postgres, args.imdb_lines)))
        return
    if args.parse_only:
        parse_only(args.runs)
        return
    if not args.in_process:
        fmt = "csv" if args.csv else "movietweetings"
        if args.csv:
            _synthetic()
        name = "synthetic CSV 517k" if args.csv else "MovieTweetings 100k"
        print(f"{name}, whole process, median of {args.runs} (runs: wall/cpu)")
        print(f"{'':<14} {'db':<10} {'wall s':>8} {'cpu s':>8}   runs")
        whole_process(None, args.runs, fmt)
        if args.postgres:
            whole_process(args.postgres, args.runs, fmt)
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
