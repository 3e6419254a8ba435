"""Rating file parsers: pure functions from a file to parsed ratings and rejects, no database.

This module dispatches on the format; the parsers live in ``dat_formats`` (MovieTweetings,
MovieLens), ``csv_format`` and ``items`` (title files), their records in ``records``.

The importer writes what these functions yield, and the evaluation code reads rating files with
them directly, so every format is parsed (and validated) in exactly one place.

Common rules, for every format:

- Plain or gzip-compressed files (recognised by their magic bytes, not their name).
- Files are read as bytes and decoded per line (UTF-8), so one undecodable line becomes a reject
  naming its line instead of aborting the whole file. Item files (u.item, movies.dat) fall back
  to Latin-1, the encoding MovieLens ships them in.
- Line numbers are 1-based physical lines. Blank lines are ignored.
- Ratings are put on the 0–10 scale of the store (IMDb's scale): MovieTweetings as is (0–10),
  MovieLens doubled (1–5 stars, 0.5 steps in newer sets, become 1–10).
- Timestamps are timezone-aware UTC datetimes; a CSV timestamp without an offset is read as UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from nextshow.ratings.csv_blocks import iter_csv_blocks
from nextshow.ratings.csv_format import iter_csv_ratings
from nextshow.ratings.dat_formats import fast_line_parser, movielens_line, movietweetings_line
from nextshow.ratings.items import MOVIELENS_100K_GENRES, default_items_path, read_items
from nextshow.ratings.records import (
    FORMATS,
    ItemInfo,
    ParsedRating,
    RatingColumns,
    ShowRef,
    decode_line,
    parse_timestamp,
)
from nextshow.rejects import Reject
from nextshow.textio import ProgressCallback, iter_lines

__all__ = [
    "FORMATS",
    "MOVIELENS_100K_GENRES",
    "ItemInfo",
    "ParsedRating",
    "RatingColumns",
    "ShowRef",
    "default_items_path",
    "iter_csv_ratings",
    "iter_rating_blocks",
    "iter_ratings",
    "parse_timestamp",
    "read_items",
]

log = logging.getLogger(__name__)


def iter_ratings(
    path: Path,
    fmt: str,
    items_path: Path | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> Iterator[ParsedRating | Reject]:
    """Parse a rating file: every line yields a :class:`ParsedRating` or a :class:`Reject`.

    ``fmt`` is one of :data:`FORMATS`:

    - ``movietweetings``: ``user::imdb_numeric_id::rating(0-10)::unix_ts``; titles from
      movies.dat beside the file (or ``items_path``); without it shows carry only their IMDb id.
    - ``movielens``: ``u.data`` (tab separated) or ``ratings.dat`` (``::``), 1–5 stars
      (0.5 steps allowed) stored as 2–10 (x2); titles from u.item / movies.dat (required).
    - ``csv``: see :func:`iter_csv_ratings`.

    Rejects of the item file come first. Pure: reads the files, touches nothing else.
    """
    if fmt == "csv":
        yield from iter_csv_ratings(path, on_progress=on_progress)
        return
    if fmt not in FORMATS:
        raise ValueError(f"unknown rating format {fmt!r}; expected one of {', '.join(FORMATS)}")
    items_path = items_path or default_items_path(path, fmt)
    items: dict[str, ItemInfo] = {}
    if items_path is None:
        if fmt == "movielens":
            raise FileNotFoundError(
                f"no u.item or movies.dat beside {path}: pass the titles file with --items"
            )
        log.warning("no movies.dat beside %s: shows get their IMDb id as title", path)
    else:
        items = yield from read_items(items_path, fmt)
    parse = movietweetings_line if fmt == "movietweetings" else movielens_line
    fast = fast_line_parser(fmt, items)
    file = str(path)
    for number, data in iter_lines(path, on_progress=on_progress):
        if isinstance(data, bytes):
            row = fast(number, data)
            if row is not None:
                yield row
                continue
            if not data.strip():
                continue
        text = decode_line(path, number, data)
        if isinstance(text, Reject):
            yield text
            continue
        yield parse(file, number, text, items)


def iter_rating_blocks(
    path: Path,
    fmt: str,
    items_path: Path | None = None,
    *,
    size: int,
    on_progress: ProgressCallback | None = None,
) -> Iterator[RatingColumns | ParsedRating | Reject]:
    """What :func:`iter_ratings` yields, except that a format read a block at a time (CSV)
    gives the valid rows of each block of ``size`` lines it vouches for as one
    :class:`RatingColumns` (see :mod:`nextshow.ratings.csv_blocks`). For the importer."""
    if fmt == "csv":
        yield from iter_csv_blocks(path, size, on_progress=on_progress)
        return
    yield from iter_ratings(path, fmt, items_path, on_progress=on_progress)
