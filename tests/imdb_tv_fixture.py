"""Small IMDb dataset files in IMDb's exact layout, for the TV catalogue tests.

Seven gzipped TSVs (header names, ``\\N`` nulls, comma-separated lists, ``tt`` / ``nm`` ids) with
the cases the TV path must handle: a series with a spin-off sharing its creator and cast
(Breaking Bad / Better Call Saul), a remake with the same title and another year (The Office
2005 / 2001), a non-English original title with English and German alternative titles
(La casa de papel), a mini-series (Chernobyl), a film and episodes (filtered out by type), adult
and low-vote series (filtered out), and malformed lines in every file (wrong field count, bad
id, bad number), whose line numbers are listed in :data:`BAD_LINES`.

The people and numbers are fixture data shaped like IMDb's, not a copy of it.

    .venv/bin/python tests/imdb_tv_fixture.py OUT_DIR   # write the files (for dev.py run --tv)
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path
from typing import Any

N = "\\N"
MIN_VOTES = 100  # the tests' catalogue filter

# tconst, type, title, original, adult, start, end, genres, rating, votes
SERIES = [
    (
        "tt0903747",
        "tvSeries",
        "Breaking Bad",
        "Breaking Bad",
        0,
        2008,
        2013,
        "Crime,Drama,Thriller",
        9.5,
        2_100_000,
    ),
    (
        "tt3032476",
        "tvSeries",
        "Better Call Saul",
        "Better Call Saul",
        0,
        2015,
        2022,
        "Crime,Drama",
        9.0,
        700_000,
    ),
    ("tt0386676", "tvSeries", "The Office", "The Office", 0, 2005, 2013, "Comedy", 9.0, 750_000),
    ("tt0290978", "tvSeries", "The Office", "The Office", 0, 2001, 2003, "Comedy", 8.5, 130_000),
    (
        "tt6468322",
        "tvSeries",
        "Money Heist",
        "La casa de papel",
        0,
        2017,
        2021,
        "Action,Crime,Drama",
        8.2,
        560_000,
    ),
    (
        "tt7366338",
        "tvMiniSeries",
        "Chernobyl",
        "Chernobyl",
        0,
        2019,
        2019,
        "Drama,History,Thriller",
        9.3,
        900_000,
    ),
    (
        "tt0944947",
        "tvSeries",
        "Game of Thrones",
        "Game of Thrones",
        0,
        2011,
        2019,
        "Action,Adventure,Drama",
        9.2,
        2_300_000,
    ),
    (
        "tt0306414",
        "tvSeries",
        "The Wire",
        "The Wire",
        0,
        2002,
        2008,
        "Crime,Drama,Thriller",
        9.3,
        380_000,
    ),
    (
        "tt4574334",
        "tvSeries",
        "Stranger Things",
        "Stranger Things",
        0,
        2016,
        2025,
        "Drama,Fantasy,Horror",
        8.7,
        1_300_000,
    ),
    (
        "tt0108778",
        "tvSeries",
        "Friends",
        "Friends",
        0,
        1994,
        2004,
        "Comedy,Romance",
        8.9,
        1_100_000,
    ),
    (
        "tt1266020",
        "tvSeries",
        "Parks and Recreation",
        "Parks and Recreation",
        0,
        2009,
        2015,
        "Comedy",
        8.6,
        300_000,
    ),
    (
        "tt9100001",
        "tvSeries",
        "The Officers Club",
        "The Officers Club",
        0,
        1987,
        1988,
        "Drama",
        6.1,
        150,
    ),
    ("tt9100002", "tvSeries", "Office Hours", "Office Hours", 0, 2019, N, "Comedy", 5.0, 12),
    (
        "tt9100003",
        "tvSeries",
        "Office After Dark",
        "Office After Dark",
        1,
        2010,
        2011,
        "Adult",
        6.0,
        5_000,
    ),
    (
        "tt9970210",
        "movie",
        "El Camino: A Breaking Bad Movie",
        "El Camino",
        0,
        2019,
        N,
        "Crime,Drama,Thriller",
        7.3,
        300_000,
    ),
]
EPISODES = [  # tconst, parent, season, number
    ("tt0959621", "tt0903747", 1, 1),
    ("tt1054724", "tt0903747", 1, 2),
    ("tt1232244", "tt0903747", 2, 1),
    ("tt1528116", "tt0903747", 3, 1),
    ("tt3464768", "tt3032476", 1, 1),
    ("tt3464770", "tt3032476", 1, 2),
    ("tt8162428", "tt7366338", 1, 1),
    ("tt8162430", "tt7366338", 1, 2),
    ("tt8162432", "tt7366338", 1, 3),
    ("tt8162434", "tt7366338", 1, 4),
    ("tt8162436", "tt7366338", 1, 5),
    ("tt0664521", "tt0386676", N, N),
]
PEOPLE = {
    "nm0319213": "Vince Gilligan",
    "nm1006474": "Peter Gould",
    "nm0186505": "Bryan Cranston",
    "nm0666739": "Aaron Paul",
    "nm0644022": "Bob Odenkirk",
    "nm0052186": "Jonathan Banks",
    "nm1023897": "Rhea Seehorn",
    "nm0199668": "Greg Daniels",
    "nm0315041": "Ricky Gervais",
    "nm0580351": "Stephen Merchant",
    "nm0136797": "Steve Carell",
    "nm1024677": "John Krasinski",
    "nm0293509": "Martin Freeman",
    "nm0776138": "Michael Schur",
    "nm0688132": "Amy Poehler",
    "nm1224082": "Álex Pina",
    "nm3057049": "Úrsula Corberó",
    "nm2140592": "Álvaro Morte",
    "nm0563301": "Craig Mazin",
    "nm0364813": "Jared Harris",
    "nm0001745": "Stellan Skarsgård",
    "nm1125275": "David Benioff",
    "nm1888967": "D.B. Weiss",
    "nm0227759": "Peter Dinklage",
    "nm3592338": "Emilia Clarke",
    "nm0800108": "David Simon",
    "nm0922035": "Dominic West",
    "nm0252961": "Idris Elba",
    "nm6315542": "Matt Duffer",
    "nm6315543": "Ross Duffer",
    "nm5611121": "Millie Bobby Brown",
    "nm0186760": "David Crane",
    "nm0442035": "Marta Kauffman",
    "nm0000098": "Jennifer Aniston",
    "nm0001455": "Lisa Kudrow",
    "nm0000001": "Nobody Famous",
    "nm0009999": "Adult Star",
}
# tconst -> [(nconst, category, job)] in billing order
PRINCIPALS = {
    "tt0903747": [
        ("nm0186505", "actor", N),
        ("nm0666739", "actor", N),
        ("nm0348152", "actress", N),
        ("nm0644022", "actor", N),
        ("nm0052186", "actor", N),
        ("nm0319213", "writer", "created by"),
    ],
    "tt3032476": [
        ("nm0644022", "actor", N),
        ("nm0052186", "actor", N),
        ("nm1023897", "actress", N),
        ("nm0319213", "writer", "created by"),
        ("nm1006474", "writer", "created by"),
    ],
    "tt0386676": [
        ("nm0136797", "actor", N),
        ("nm1024677", "actor", N),
        ("nm0199668", "writer", "developed by"),
        ("nm0315041", "writer", "creator"),
        ("nm0580351", "writer", "creator"),
    ],
    "tt0290978": [
        ("nm0315041", "actor", N),
        ("nm0293509", "actor", N),
        ("nm0315041", "writer", "created by"),
        ("nm0580351", "writer", "created by"),
    ],
    "tt6468322": [
        ("nm3057049", "actress", N),
        ("nm2140592", "actor", N),
        ("nm1224082", "writer", "created by"),
    ],
    "tt7366338": [
        ("nm0364813", "actor", N),
        ("nm0001745", "actor", N),
        ("nm0563301", "writer", "created by"),
        ("nm0000001", "composer", N),
    ],
    "tt0944947": [
        ("nm3592338", "actress", N),
        ("nm0227759", "actor", N),
        ("nm1125275", "writer", "created by"),
        ("nm1888967", "writer", "created by"),
    ],
    "tt0306414": [
        ("nm0922035", "actor", N),
        ("nm0252961", "actor", N),
        ("nm0800108", "writer", "created by"),
    ],
    "tt4574334": [
        ("nm5611121", "actress", N),
        ("nm6315542", "writer", "created by"),
        ("nm6315543", "writer", "created by"),
    ],
    "tt0108778": [
        ("nm0000098", "actress", N),
        ("nm0001455", "actress", N),
        ("nm0186760", "writer", "created by"),
        ("nm0442035", "writer", "created by"),
    ],
    "tt1266020": [
        ("nm0688132", "actress", N),
        ("nm0199668", "writer", "created by"),
        ("nm0776138", "writer", "created by"),
    ],
    "tt9100001": [("nm0000001", "actor", N)],
    "tt9100003": [("nm0009999", "actor", N)],
    "tt9970210": [("nm0666739", "actor", N), ("nm0319213", "director", N)],
}
CREW = {  # tconst -> (directors, writers)
    "tt0903747": (["nm0319213"], ["nm0319213", "nm1006474"]),
    "tt3032476": (["nm0319213"], ["nm0319213", "nm1006474"]),
    "tt0386676": (["nm0199668"], ["nm0199668", "nm0776138"]),
    "tt0290978": (["nm0315041", "nm0580351"], ["nm0315041", "nm0580351"]),
    "tt7366338": ([], ["nm0563301"]),
    "tt1266020": ([], ["nm0199668", "nm0776138"]),
}
AKAS = [  # titleId, ordering, title, region, language, types, isOriginalTitle
    ("tt6468322", 1, "La casa de papel", N, N, "original", 1),
    ("tt6468322", 2, "Money Heist", "US", "en", "imdbDisplay", 0),
    ("tt6468322", 3, "Haus des Geldes", "DE", "de", "imdbDisplay", 0),
    ("tt6468322", 4, "La casa de papel", "ES", "es", "imdbDisplay", 0),
    ("tt0386676", 1, "The Office", N, N, "original", 1),
    ("tt0386676", 2, "The Office: An American Workplace", "US", "en", "working", 0),
    ("tt0290978", 1, "The Office", N, N, "original", 1),
    ("tt0903747", 1, "Breaking Bad", N, N, "original", 1),
    ("tt0903747", 2, "Breaking Bad - Reine Chemie", "DE", "de", "alternative", 0),
    ("tt9970210", 1, "El Camino", N, N, "original", 1),
]

# Malformed lines appended to each file: (file, line number, field named in the reject).
BAD_LINES: list[tuple[str, int, str]] = []


def _tsv(name: str, header: tuple[str, ...], rows: list[list[object]], bad: list[tuple]) -> bytes:
    lines = ["\t".join(header)] + ["\t".join(str(v) for v in row) for row in rows]
    for text, field in bad:
        lines.append(text)
        BAD_LINES.append((name, len(lines), field))
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def tv_dataset_bytes() -> dict[str, bytes]:
    """File name (``title.basics.tsv.gz`` ...) -> deterministic gzip bytes."""
    BAD_LINES.clear()
    basics = [
        [t, k, title, orig, adult, start, end, 45, genres]
        for t, k, title, orig, adult, start, end, genres, _, _ in SERIES
    ] + [
        [e, "tvEpisode", f"Episode {e}", f"Episode {e}", 0, 2010, N, 47, "Drama"]
        for e, *_ in EPISODES
    ]
    ratings = [[t, rating, votes] for t, *_, rating, votes in SERIES]
    principals = [
        [t, i, n, category, job, N]
        for t, rows in PRINCIPALS.items()
        for i, (n, category, job) in enumerate(rows, 1)
    ]
    crew = [[t, ",".join(d) or N, ",".join(w) or N] for t, (d, w) in CREW.items()]
    names = [[n, name, 1960, N, "actor", "tt0903747"] for n, name in PEOPLE.items()]
    return {
        "title.basics.tsv.gz": _tsv(
            "title.basics",
            (
                "tconst",
                "titleType",
                "primaryTitle",
                "originalTitle",
                "isAdult",
                "startYear",
                "endYear",
                "runtimeMinutes",
                "genres",
            ),
            basics,
            [("tt0903747x\ttvSeries\tBad Id\tBad Id\t0\t2001\t\\N\t45\tDrama", "tconst")],
        ),
        "title.ratings.tsv.gz": _tsv(
            "title.ratings",
            ("tconst", "averageRating", "numVotes"),
            ratings,
            [("tt0000009\t7.0\tmany", "numVotes")],
        ),
        "title.principals.tsv.gz": _tsv(
            "title.principals",
            ("tconst", "ordering", "nconst", "category", "job", "characters"),
            principals,
            [
                ("tt0903747\t9\tnm0000002\tactor", ""),
                ("tt0903747\t10\tmm0644022\tactor\t\\N\t\\N", "nconst"),
                ("tt3032476\tone\tnm0644022\tactor\t\\N\t\\N", "ordering"),
            ],
        ),
        "title.crew.tsv.gz": _tsv(
            "title.crew",
            ("tconst", "directors", "writers"),
            crew,
            [("tt0306414\tnm0800108,12\t\\N", "directors")],
        ),
        "name.basics.tsv.gz": _tsv(
            "name.basics",
            (
                "nconst",
                "primaryName",
                "birthYear",
                "deathYear",
                "primaryProfession",
                "knownForTitles",
            ),
            names,
            [("nm0644022\tBob Odenkirk", "")],
        ),
        "title.akas.tsv.gz": _tsv(
            "title.akas",
            (
                "titleId",
                "ordering",
                "title",
                "region",
                "language",
                "types",
                "attributes",
                "isOriginalTitle",
            ),
            [[t, o, title, r, la, ty, N, orig] for t, o, title, r, la, ty, orig in AKAS],
            [("tt6468322\t5\tDinero\tMX\tes\t\\N\t\\N\t2", "isOriginalTitle")],
        ),
        "title.episode.tsv.gz": _tsv(
            "title.episode",
            ("tconst", "parentTconst", "seasonNumber", "episodeNumber"),
            [list(e) for e in EPISODES],
            [("tt1528117\ttt0903747\tS3\t2", "seasonNumber")],
        ),
    }


def write_tv_datasets(folder: Path) -> dict[str, Path]:
    """Write the files into ``folder``; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, data in tv_dataset_bytes().items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


def import_fixture(store: Any, folder: Path, *, batch_size: int = 50) -> dict[str, Any]:
    """Write the files into ``folder`` and import them all into ``store`` (a tests.conftest
    Store) with the tests' filter; returns the summaries."""
    from nextshow.catalog.imdb_tv_import import import_imdb_catalogue

    files = {name.removesuffix(".tsv.gz"): path for name, path in write_tv_datasets(folder).items()}
    return import_imdb_catalogue(
        store.sessions,
        files,
        title_types=frozenset({"tvSeries", "tvMiniSeries"}),
        min_votes=MIN_VOTES,
        batch_size=batch_size,
        progress=False,
        reports_dir=folder / "reports",
    )


if __name__ == "__main__":
    for path in write_tv_datasets(Path(sys.argv[1])).values():
        print(path)
