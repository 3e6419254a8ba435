"""Seeded synthetic title.principals / title.akas / title.crew / title.episode / name.basics files.

They complete the title.basics file of ``synthetic_imdb.py`` (same ``--lines`` and seed: the
``tt`` ids 1..lines) at the real files' scale and shape (2024 snapshot, rounded): ~8.2 principals
and ~4.5 alternative titles per title, one crew line per title, one episode line per tvEpisode
title (its parent drawn from the tvSeries / tvMiniSeries titles of the basics file), and
``lines * 1.27`` people with a few known-for titles. People are drawn with a heavy tail (a few
appear in thousands of titles, most in one), like the real credits. Column layouts, ``\\N`` nulls
and comma-separated lists are IMDb's.

Lines are formatted from numpy arrays in chunks and compressed by a ``gzip -1`` child process, so
the second core does the compression. Files are cached under benchmarks/out/ by size and seed.

    .venv/bin/python benchmarks/synthetic_imdb_tv.py --lines 11000000 [--only title.principals]
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_imdb import OUT, WORDS
from synthetic_imdb import generate as generate_basics

N = "\\N"
PRINCIPALS_PER_TITLE = 8.2
AKAS_PER_TITLE = 4.5
PEOPLE_PER_TITLE = 1.27
CHUNK = 500_000
CATEGORIES = (  # (category, share)
    ("actor", 0.22),
    ("actress", 0.16),
    ("self", 0.20),
    ("writer", 0.10),
    ("producer", 0.09),
    ("director", 0.08),
    ("cinematographer", 0.04),
    ("editor", 0.04),
    ("composer", 0.03),
    ("archive_footage", 0.02),
    ("production_designer", 0.01),
    ("casting_director", 0.01),
)
JOBS = {"writer": ("created by", "screenplay", "novel", N), "producer": ("producer", "executive")}
REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "JP", "BR", "IN", "CA", "AU", "MX", N)
LANGUAGES = ("en", "de", "fr", "es", "ja", N, N, N)
AKA_TYPES = (N, N, N, "imdbDisplay", "working", "alternative", "dvd", "festival")
PROFESSIONS = ("actor", "actress", "writer", "director", "producer", "miscellaneous", "editor")
FILES = ("title.principals", "title.akas", "title.crew", "title.episode", "name.basics")


def path_of(name: str, lines: int, seed: int) -> Path:
    return OUT / f"synthetic-{lines}-s{seed}.{name}.tsv.gz"


def _people(rng: np.random.Generator, size: int, n_people: int) -> np.ndarray:
    """Heavy-tailed person numbers in 1..n_people (u**3 puts a third of draws in the top 4 %)."""
    return (n_people * rng.random(size) ** 3).astype(np.int64) + 1


def _write(path: Path, header: str, chunks: Iterator[str]) -> Path:
    """Write header + chunks through ``gzip -1`` to a temporary file, renamed when complete."""
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as out:
        proc = subprocess.Popen(["gzip", "-1", "-c"], stdin=subprocess.PIPE, stdout=out)
        assert proc.stdin is not None
        proc.stdin.write(header.encode())
        for text in chunks:
            proc.stdin.write(text.encode())
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"gzip failed writing {path}")
    tmp.rename(path)
    return path


def _words(rng: np.random.Generator, size: int) -> list[str]:
    first = rng.integers(0, len(WORDS), size).tolist()
    second = rng.integers(0, len(WORDS), size).tolist()
    return [f"{WORDS[a].title()} {WORDS[b].title()}" for a, b in zip(first, second, strict=True)]


def _rows_per_title(
    rng: np.random.Generator, first: int, stop: int, mean: float
) -> tuple[list[int], list[int]]:
    """Titles ``first``..``stop - 1``, each repeated 1 + Poisson(mean - 1) times, and each row's
    1-based ordering within its title (IMDb's ``ordering`` column)."""
    titles = np.arange(first, stop)
    counts = rng.poisson(mean - 1, len(titles)) + 1
    ends = np.cumsum(counts)
    ordering = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - counts, counts) + 1
    return np.repeat(titles, counts).tolist(), ordering.tolist()


def _principals(lines: int, seed: int) -> Iterator[str]:
    rng = np.random.default_rng([seed, 1])
    n_people = int(lines * PEOPLE_PER_TITLE)
    cats = [c for c, _ in CATEGORIES]
    shares = np.array([s for _, s in CATEGORIES])
    for start in range(1, lines + 1, CHUNK // 8):
        stop = min(start + CHUNK // 8, lines + 1)
        tt, ordering = _rows_per_title(rng, start, stop, PRINCIPALS_PER_TITLE)
        size = len(tt)
        nm = _people(rng, size, n_people).tolist()
        cat = rng.choice(len(cats), size, p=shares / shares.sum()).tolist()
        pick = rng.integers(0, 4, size).tolist()
        names = _words(rng, size)
        out = []
        for t, o, n, c, j, name in zip(tt, ordering, nm, cat, pick, names, strict=True):
            category = cats[c]
            jobs = JOBS.get(category)
            job = jobs[j % len(jobs)] if jobs else N
            chars = f'["{name}"]' if c < 3 else N
            out.append(f"tt{t:07d}\t{o}\tnm{n:07d}\t{category}\t{job}\t{chars}\n")
        yield "".join(out)


def _akas(lines: int, seed: int) -> Iterator[str]:
    rng = np.random.default_rng([seed, 2])
    for start in range(1, lines + 1, CHUNK // 4):
        stop = min(start + CHUNK // 4, lines + 1)
        tt, ordering = _rows_per_title(rng, start, stop, AKAS_PER_TITLE)
        size = len(tt)
        names = _words(rng, size)
        region = rng.integers(0, len(REGIONS), size).tolist()
        lang = rng.integers(0, len(LANGUAGES), size).tolist()
        kind = rng.integers(0, len(AKA_TYPES), size).tolist()
        out = []
        for t, o, name, r, la, k in zip(tt, ordering, names, region, lang, kind, strict=True):
            original, types = ("1", "original") if o == 1 else ("0", AKA_TYPES[k])
            region_text = N if o == 1 else REGIONS[r]
            out.append(
                f"tt{t:07d}\t{o}\t{name}\t{region_text}\t{LANGUAGES[la]}\t{types}\t{N}\t"
                f"{original}\n"
            )
        yield "".join(out)


def _id_list(prefix: str, values: list[int]) -> str:
    return ",".join(f"{prefix}{v:07d}" for v in values) if values else N


def _crew(lines: int, seed: int) -> Iterator[str]:
    rng = np.random.default_rng([seed, 3])
    n_people = int(lines * PEOPLE_PER_TITLE)
    for start in range(1, lines + 1, CHUNK):
        stop = min(start + CHUNK, lines + 1)
        size = stop - start
        n_dir = rng.poisson(0.9, size).tolist()
        n_wri = rng.poisson(1.3, size).tolist()
        pool = _people(rng, 2 * size + 16, n_people).tolist()
        out = []
        at = 0
        for t, d, w in zip(range(start, stop), n_dir, n_wri, strict=True):
            directors = pool[at % len(pool) : at % len(pool) + d]
            writers = pool[(at + d) % len(pool) : (at + d) % len(pool) + w]
            at += d + w
            out.append(f"tt{t:07d}\t{_id_list('nm', directors)}\t{_id_list('nm', writers)}\n")
        yield "".join(out)


def _title_types(lines: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(series ids, episode ids) of the synthetic title.basics file, read back from it."""
    basics, _ = generate_basics(lines, seed)
    series: list[int] = []
    episodes: list[int] = []
    with gzip.open(basics, "rt", encoding="utf-8") as stream:
        next(stream)
        for line in stream:
            kind = line.split("\t", 2)[1]
            if kind == "tvEpisode":
                episodes.append(int(line[2:9] if line[9] == "\t" else line[2:10]))
            elif kind in ("tvSeries", "tvMiniSeries"):
                series.append(int(line[2:9] if line[9] == "\t" else line[2:10]))
    return np.array(series, dtype=np.int64), np.array(episodes, dtype=np.int64)


def _episodes(lines: int, seed: int) -> Iterator[str]:
    rng = np.random.default_rng([seed, 4])
    series, episodes = _title_types(lines, seed)
    for start in range(0, len(episodes), CHUNK):
        part = episodes[start : start + CHUNK]
        parents = series[(len(series) * rng.random(len(part)) ** 2).astype(np.int64)].tolist()
        seasons = rng.integers(1, 12, len(part)).tolist()
        numbers = rng.integers(1, 24, len(part)).tolist()
        null = (rng.random(len(part)) < 0.05).tolist()
        out = []
        for t, p, s, e, unknown in zip(part.tolist(), parents, seasons, numbers, null, strict=True):
            season, number = (N, N) if unknown else (s, e)
            out.append(f"tt{t:07d}\ttt{p:07d}\t{season}\t{number}\n")
        yield "".join(out)


def _names(lines: int, seed: int) -> Iterator[str]:
    rng = np.random.default_rng([seed, 5])
    n_people = int(lines * PEOPLE_PER_TITLE)
    for start in range(1, n_people + 1, CHUNK):
        stop = min(start + CHUNK, n_people + 1)
        size = stop - start
        names = _words(rng, size)
        born = rng.integers(1900, 2010, size).tolist()
        known = rng.integers(1, lines + 1, (size, 2)).tolist()
        prof = rng.integers(0, len(PROFESSIONS), size).tolist()
        out = []
        for n, name, b, k, p in zip(range(start, stop), names, born, known, prof, strict=True):
            out.append(
                f"nm{n:07d}\t{name}\t{b}\t{N}\t{PROFESSIONS[p]}\ttt{k[0]:07d},tt{k[1]:07d}\n"
            )
        yield "".join(out)


HEADERS: dict[str, tuple[str, Callable[[int, int], Iterator[str]]]] = {
    "title.principals": (
        "tconst\tordering\tnconst\tcategory\tjob\tcharacters\n",
        _principals,
    ),
    "title.akas": (
        "titleId\tordering\ttitle\tregion\tlanguage\ttypes\tattributes\tisOriginalTitle\n",
        _akas,
    ),
    "title.crew": ("tconst\tdirectors\twriters\n", _crew),
    "title.episode": ("tconst\tparentTconst\tseasonNumber\tepisodeNumber\n", _episodes),
    "name.basics": (
        "nconst\tprimaryName\tbirthYear\tdeathYear\tprimaryProfession\tknownForTitles\n",
        _names,
    ),
}


def generate(name: str, lines: int, seed: int = 42) -> Path:
    """Write (or reuse) one file and return its path."""
    path = path_of(name, lines, seed)
    if path.exists():
        return path
    header, rows = HEADERS[name]
    return _write(path, header, rows(lines, seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=11_000_000, help="title.basics data lines")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", action="append", choices=FILES, help="file(s) to write")
    args = parser.parse_args()
    for name in args.only or FILES:
        path = generate(name, args.lines, args.seed)
        print(f"{path} ({path.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
