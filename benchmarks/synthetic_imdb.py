"""Seeded synthetic IMDb title.basics / title.ratings files, for timing the importer at full size.

The real title.basics.tsv.gz has ~11M lines (1 GB unpacked); the type mix, the share of titles
with ratings (~14%) and the long-tailed vote counts below follow its published shape, so the
importer does the same work per line (mostly tvEpisode lines to skip). Files are cached under
benchmarks/out/ (git-ignored) and reused when they exist with the same size and seed.

    .venv/bin/python benchmarks/synthetic_imdb.py --lines 11000000
"""

from __future__ import annotations

import argparse
import gzip
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
HEADER = (
    "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\t"
    "runtimeMinutes\tgenres\n"
)
TYPES = {  # share of title.basics lines per type (2024 snapshot, rounded)
    "tvEpisode": 0.745,
    "short": 0.09,
    "movie": 0.06,
    "video": 0.025,
    "tvSeries": 0.023,
    "tvMovie": 0.013,
    "tvMiniSeries": 0.005,
    "tvSpecial": 0.004,
    "videoGame": 0.004,
    "tvShort": 0.001,
}
GENRES = [
    "Drama",
    "Comedy",
    "Documentary",
    "Talk-Show",
    "Reality-TV",
    "Crime",
    "Action",
    "Adventure",
    "Animation",
    "Family",
    "Romance",
    "Thriller",
    "Mystery",
    "Fantasy",
    "Sci-Fi",
    "Horror",
    "History",
    "Biography",
    "Music",
    "Sport",
    "News",
]
WORDS = [
    "the",
    "of",
    "night",
    "house",
    "last",
    "dark",
    "blue",
    "city",
    "love",
    "story",
    "dead",
    "world",
    "secret",
    "man",
    "woman",
    "life",
    "game",
    "time",
    "river",
    "lost",
    "little",
    "king",
    "queen",
    "road",
    "home",
    "war",
    "star",
    "family",
    "black",
    "white",
    "days",
]


def paths(lines: int, seed: int) -> tuple[Path, Path]:
    stem = f"synthetic-{lines}-s{seed}"
    return OUT / f"{stem}.title.basics.tsv.gz", OUT / f"{stem}.title.ratings.tsv.gz"


def generate(lines: int, seed: int = 42) -> tuple[Path, Path]:
    """Write (or reuse) the two gz files and return their paths."""
    basics_path, ratings_path = paths(lines, seed)
    if basics_path.exists() and ratings_path.exists():
        return basics_path, ratings_path
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    types, weights = list(TYPES), list(TYPES.values())
    tmp_b, tmp_r = basics_path.with_suffix(".tmp"), ratings_path.with_suffix(".tmp")
    with (
        gzip.open(tmp_b, "wt", encoding="utf-8", compresslevel=3) as basics,
        gzip.open(tmp_r, "wt", encoding="utf-8", compresslevel=3) as ratings,
    ):
        basics.write(HEADER)
        ratings.write("tconst\taverageRating\tnumVotes\n")
        chunk = 100_000
        for start in range(0, lines, chunk):
            n = min(chunk, lines - start)
            kinds = rng.choices(types, weights, k=n)
            out_b, out_r = [], []
            for i, kind in enumerate(kinds, start + 1):
                tconst = f"tt{i:07d}"
                title = " ".join(rng.choices(WORDS, k=rng.randint(1, 4))).title()
                year = rng.randint(1950, 2025)
                series = kind in ("tvSeries", "tvMiniSeries")
                end = str(year + rng.randint(0, 10)) if series and rng.random() < 0.6 else "\\N"
                genres = ",".join(rng.sample(GENRES, rng.randint(1, 3)))
                adult = "1" if rng.random() < 0.02 else "0"
                out_b.append(
                    f"{tconst}\t{kind}\t{title}\t{title}\t{adult}\t{year}\t{end}\t"
                    f"{rng.randint(5, 180)}\t{genres}\n"
                )
                if rng.random() < (0.5 if kind != "tvEpisode" else 0.08):
                    votes = int(5 * rng.paretovariate(0.8))
                    out_r.append(f"{tconst}\t{rng.randint(10, 100) / 10}\t{votes}\n")
            basics.write("".join(out_b))
            ratings.write("".join(out_r))
    tmp_b.rename(basics_path)
    tmp_r.rename(ratings_path)
    return basics_path, ratings_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=11_000_000, help="title.basics data lines")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    for path in generate(args.lines, args.seed):
        print(f"{path} ({path.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
