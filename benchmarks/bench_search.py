"""Autocomplete latency: TitleIndex.search against two peers on a synthetic 10k-show catalogue.

Run: ``.venv/bin/python benchmarks/bench_search.py`` (about half a minute on one core).

The catalogue is seeded and synthetic (word-list titles, some remakes sharing a title with another
year, a few accented titles, log-normal vote counts) and lives in a temporary SQLite store built
by the real migrations. 1,000 seeded queries mix what people type into a search box: prefixes of
2–8 characters, whole titles, and titles or prefixes with one typo. Each query runs through:

* ``TitleIndex.search`` (exact, prefix, word-start prefix, then fuzzy when short of 10 hits);
* SQL ``normalized_title LIKE 'prefix%' ORDER BY imdb_votes DESC LIMIT 10`` on the indexed
  column: the cheap baseline, which finds neither word starts nor typos;
* ``rapidfuzz.process.extract`` (WRatio) over all titles with no prefix stage: the naive fuzzy
  baseline.

It also counts how often each method puts the intended show in its top 10 (a sanity check of
quality, not a quality benchmark).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlalchemy import insert, text

from nextshow.catalog.matching import ShowRow, TitleIndex, load_title_index
from nextshow.catalog.normalize import normalize_title
from nextshow.db.models import Show
from nextshow.db.session import make_engine, session_factory, upgrade


def _words(*lines: str) -> tuple[str, ...]:
    return tuple(" ".join(lines).split())


ADJECTIVES = _words(
    "Black Broken Silent Golden Dark Last Lost Hidden Wild Little Big Red Blue Green White",
    "Bright Cold Crimson Dead Deep Eternal Fallen Final First Free Grand Happy Holy Iron Lonely",
    "Mad Modern New Old Perfect Quiet Royal Sacred Secret Shadow Sharp Strange Sweet True Young",
    "Brave Burning Cruel Dirty Empty Fast Fearless Frozen Gentle Glass Hollow Hungry Invisible",
)
NOUNS = _words(
    "Office House Crown Mirror Empire Kingdom Street River Garden Island Night Day Family Doctor",
    "Detective Lawyer Police Hospital School Station Hotel Kitchen Castle Forest Ocean Mountain",
    "City Town Village Bridge Road Train Ship Wolf Bird Dragon Horse Angel Devil Ghost Witch",
    "King Queen Prince Sister Brother Father Mother Stranger Hunter Soldier Thief Spy Agent",
    "Chronicles Files Diaries Tales Legends Secrets Lies Games Wars Rules Lines Hearts Bones",
)
PLACES = (
    *_words(
        "London Paris Berlin Tokyo Chicago Boston Texas Alaska Brooklyn Hollywood Vegas Miami",
        "Dublin Oslo Madrid Rome Cairo Sydney Montréal Zürich Malmö Kraków Bogotá",
    ),
    "São Paulo",
)
NAMES = _words(
    "Anna Ben Clara David Elena Frank Grace Henry Iris Jack Kate Leo Maria Nick Olivia Paul",
    "Quinn Rosa Sam Tara Victor Wendy Zoë Chloé René José Åsa",
)
PATTERNS = (
    "The {adj} {noun}",
    "{adj} {noun}",
    "{noun} of {place}",
    "The {noun} of {place}",
    "{name}'s {noun}",
    "{place} {noun}",
    "{noun}",
    "{name} & {name2}",
    "{noun}: {adj} {noun2}",
    "The {noun}s",
    "{adj} {noun} in {place}",
    "A {noun} for {name}",
)
REAL = [
    ("Breaking Bad", 2008, 2_200_000),
    ("Bread", 1986, 1_200),
    ("Game of Thrones", 2011, 2_300_000),
    ("The Office", 2005, 750_000),
    ("The Office", 2001, 140_000),
    ("Law & Order", 1990, 60_000),
    ("Marvel's Agents of S.H.I.E.L.D.", 2013, 230_000),
    ("Friends", 1994, 1_100_000),
    ("The Wire", 2002, 390_000),
    ("Lost", 2004, 600_000),
]


def make_catalogue(n: int, seed: int) -> list[dict[str, object]]:
    """``n`` show rows: a few real titles, word-list titles, ~5% remakes of an earlier title."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    seen: set[tuple[str, int]] = set()

    def add(title: str, year: int, votes: int) -> None:
        if (title, year) in seen:
            return
        seen.add((title, year))
        i = len(rows) + 1
        rows.append(
            {
                "imdb_id": f"tt{9_000_000 + i:07d}",
                "title": title,
                "normalized_title": normalize_title(title),
                "title_type": "tvSeries",
                "start_year": year,
                "end_year": year + rng.randint(0, 9) if rng.random() < 0.7 else None,
                "genres": ",".join(rng.sample(["Drama", "Comedy", "Crime", "Sci-Fi"], 2)),
                "imdb_votes": votes,
                "source": "imdb",
                "external_id": f"tt{9_000_000 + i:07d}",
                "user_submitted": False,
            }
        )

    for title, year, votes in REAL:
        add(title, year, votes)
    while len(rows) < n:
        if rows and rng.random() < 0.05:  # a remake: same title, other year
            title = str(rng.choice(rows)["title"])
        else:
            title = rng.choice(PATTERNS).format(
                adj=rng.choice(ADJECTIVES),
                noun=rng.choice(NOUNS),
                noun2=rng.choice(NOUNS),
                place=rng.choice(PLACES),
                name=rng.choice(NAMES),
                name2=rng.choice(NAMES),
            )
        votes = max(5, min(2_000_000, int(rng.lognormvariate(7.0, 2.0))))
        add(title, rng.randint(1950, 2024), votes)
    return rows


def typo(rng: random.Random, word: str) -> str:
    """One random edit (swap, drop, double or replace a letter) away from ``word``."""
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeioustrn") + word[i + 1 :]


def make_queries(rows: list[dict[str, object]], n: int, seed: int) -> list[tuple[str, str, int]]:
    """(kind, query, intended show id) triples: 40% prefixes, 30% whole titles, 30% typos."""
    rng = random.Random(seed)
    queries = []
    for _ in range(n):
        i = rng.randrange(len(rows))
        title = str(rows[i]["title"])
        r = rng.random()
        if r < 0.4:
            queries.append(("prefix", title[: rng.randint(2, 8)], i + 1))
        elif r < 0.7:
            queries.append(("full", title, i + 1))
        else:
            queries.append(("typo", typo(rng, title[: rng.randint(6, max(6, len(title)))]), i + 1))
    return queries


def timed(
    fn: Callable[[str], list[int]], queries: list[tuple[str, str, int]], repeats: int
) -> dict[str, dict[str, float]]:
    """Latency percentiles (ms) and top-10 hit rate, overall and per query kind.

    Each query's latency is the fastest of ``repeats`` runs: the machine is shared, and the
    minimum strips time spent waiting for the CPU rather than working. The first run of each
    query also warms per-length caches, so their one-off cost (~1 ms) is not in these numbers.
    """
    for _, q, _ in queries[:50]:  # warm SQLite pages and the interpreter
        fn(q)
    per_kind: dict[str, list[tuple[float, bool]]] = {"all": []}
    for kind, q, want in queries:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter_ns()
            ids = fn(q)
            best = min(best, (time.perf_counter_ns() - start) / 1e6)
        per_kind["all"].append((best, want in ids))
        per_kind.setdefault(kind, []).append((best, want in ids))

    def summary(items: list[tuple[float, bool]]) -> dict[str, float]:
        times = sorted(t for t, _ in items)

        def pct(p: float) -> float:
            return times[min(len(times) - 1, int(p * len(times)))]

        return {
            "n": len(times),
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "max": times[-1],
            "mean": statistics.fmean(times),
            "top10": sum(found for _, found in items) / len(items),
        }

    return {kind: summary(items) for kind, items in per_kind.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shows", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3, help="Runs per query; fastest counts.")
    parser.add_argument(
        "--extract-queries",
        type=int,
        default=300,
        help="Queries for the slow rapidfuzz-extract peer (the first N of the same list).",
    )
    args = parser.parse_args()

    rows = make_catalogue(args.shows, args.seed)
    queries = make_queries(rows, args.queries, args.seed + 1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        sessions = session_factory(engine)
        with sessions() as session, session.begin():
            session.execute(insert(Show), rows)

        with sessions() as session:
            start = time.perf_counter()
            index = load_title_index(session)
            load_s = time.perf_counter() - start
        show_rows = [
            ShowRow(id=i, title=str(r["title"]), imdb_votes=r["imdb_votes"])  # type: ignore[arg-type]
            for i, r in enumerate(rows, start=1)
        ]
        start = time.perf_counter()
        TitleIndex(show_rows)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        index.add(ShowRow(id=10**9, title="Brand New Show", imdb_votes=10))
        add_ms = (time.perf_counter() - start) * 1e3

        def via_index(q: str) -> list[int]:
            return [hit.show_id for hit in index.search(q, limit=10)]

        conn = engine.connect()
        # LIKE is case-insensitive by default in SQLite, which stops it using the index;
        # normalized_title is already lower case, so the case-sensitive form is equivalent.
        conn.execute(text("PRAGMA case_sensitive_like = ON"))
        like_sql = text(
            "SELECT id FROM shows WHERE normalized_title LIKE :p ESCAPE '\\' "
            "ORDER BY imdb_votes DESC LIMIT 10"
        )
        plan = conn.execute(text("EXPLAIN QUERY PLAN " + like_sql.text), {"p": "ab%"}).all()

        def via_like(q: str) -> list[int]:
            norm = normalize_title(q)
            if not norm:
                return []
            pattern = norm.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            return list(conn.execute(like_sql, {"p": pattern}).scalars())

        names = [normalize_title(str(r["title"])) for r in rows]

        def via_extract(q: str) -> list[int]:
            norm = normalize_title(q)
            found = process.extract(norm, names, scorer=fuzz.WRatio, limit=10)
            return [i + 1 for _, _, i in found]

        results = {
            "TitleIndex.search": timed(via_index, queries, args.repeats),
            "SQL LIKE prefix% (indexed)": timed(via_like, queries, args.repeats),
            "rapidfuzz extract WRatio": timed(
                via_extract, queries[: args.extract_queries], args.repeats
            ),
        }
        conn.close()
        engine.dispose()

    print(f"catalogue: {len(rows)} shows (seed {args.seed}); {len(queries)} queries, ", end="")
    print(f"fastest of {args.repeats} runs each")
    print(
        f"index: load from SQLite + build {load_s * 1e3:.0f} ms; in-memory build only "
        f"{build_s * 1e3:.0f} ms; add one show {add_ms:.2f} ms"
    )
    print("LIKE query plan: " + "; ".join(str(row[-1]) for row in plan))
    print()
    header = (
        f"{'method':<28} {'queries':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'top10':>6}"
    )

    def line(name: str, r: dict[str, float]) -> str:
        return (
            f"{name:<28} {r['n']:7.0f} {r['p50']:7.3f} {r['p95']:7.3f} {r['p99']:7.3f} "
            f"{r['max']:7.2f} {r['top10']:6.1%}"
        )

    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(line(name, r["all"]))
    print()
    print("by query kind")
    for name, r in results.items():
        for kind in ("prefix", "full", "typo"):
            print(line(f"{name[:19]} {kind}", r[kind]))


if __name__ == "__main__":
    main()
