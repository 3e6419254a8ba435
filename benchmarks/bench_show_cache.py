"""Memory and build time of the holder's show cache: ``ShowPublic`` per model show.

    .venv/bin/python benchmarks/bench_show_cache.py [--shows 100000]

The holder keeps one :class:`~nextshow.schemas.shows.ShowPublic` per show of the serving model
(and of the popularity list), built with ``model_validate`` from ``shows`` rows when a version
loads. Printed beside a floor from the same run: a frozen slots dataclass of the same seven
fields (what the holder cached before the response models). Memory is what ``tracemalloc``
counts for the cache dictionary and its values; build time is the fastest of 3 untraced runs
(the machine is shared). Rows are plain objects with the ORM row's attributes, so the database
read, which costs the same for both, is left out.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nextshow.schemas.shows import ShowPublic


@dataclass(frozen=True, slots=True)
class SlotsShow:
    id: int
    title: str
    imdb_id: str | None
    start_year: int | None
    end_year: int | None
    genres: tuple[str, ...]
    imdb_rating: float | None


def _slots(row: Any) -> SlotsShow:
    genres = tuple(g for g in (row.genres or "").split(",") if g)
    return SlotsShow(
        row.id, row.title, row.imdb_id, row.start_year, row.end_year, genres, row.imdb_rating
    )


class Row:
    """A ``shows`` row's attributes (seeded, no database)."""

    def __init__(self, i: int) -> None:
        self.id = i
        self.title = f"Show number {i}"
        self.imdb_id = f"tt{i:07d}"
        self.start_year = 1990 + i % 35
        self.end_year = None if i % 3 else 2000 + i % 25
        self.genres = ("Drama,Crime", "Comedy", "Sci-Fi,Thriller,Drama")[i % 3]
        self.imdb_rating = 5.0 + (i % 50) / 10


def measure(make: Callable[[Any], Any], rows: list[Row]) -> tuple[float, float]:
    tracemalloc.start()
    cache = {r.id: make(r) for r in rows}
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del cache
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        cache = {r.id: make(r) for r in rows}
        best = min(best, time.perf_counter() - started)
        del cache
    return used, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shows", type=int, default=100_000)
    args = parser.parse_args()
    rows = [Row(i) for i in range(args.shows)]
    print(f"show cache of {args.shows:,} shows")
    print(f"{'cache type':34s} {'memory':>10s} {'per show':>10s} {'build':>9s}")
    for name, make in (
        ("ShowPublic.model_validate (served)", ShowPublic.model_validate),
        ("slots dataclass (floor)", _slots),
    ):
        used, seconds = measure(make, rows)
        print(f"{name:34s} {used / 2**20:8.1f} MB {used / args.shows:8.0f} B {seconds:8.2f} s")


if __name__ == "__main__":
    main()
