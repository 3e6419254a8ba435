"""Interactions: the likes matrix, its timestamps and the show metadata, built from rating rows.

``build_interactions`` is pure (rows in, matrices out) so the evaluation, the CLI and the training
pipeline (which reads a Parquet snapshot instead of a file) all build the same value the same way.
``load_interactions`` is the thin file-reading part on top of it.

Orientation: ``likes`` is a CSR matrix of shape (n_users, n_shows), 1.0 where a user liked a show;
``timestamps`` has exactly the same sparsity (same ``indptr`` and ``indices``) and holds each like's
unix time in seconds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders.base import ShowMetadata
from nextshow.recommenders.vocabulary import ShowVocabulary

log = logging.getLogger(__name__)

DEFAULT_LIKE_THRESHOLD = 8.0
DEMO_SOURCE = "demo"


class InteractionRow(NamedTuple):
    """One rating as the evaluation sees it.

    ``liked``, when not None, is an explicit statement ("I like this" on the web page, a CSV
    ``liked`` column) and overrides the like threshold; otherwise ``rating >= like_threshold``.
    """

    user_key: str
    show_key: str
    rating: float | None = None
    liked: bool | None = None
    timestamp: int | None = None  # unix seconds


class ShowInfo(NamedTuple):
    """Optional per-show side information, keyed like ``InteractionRow.show_key``."""

    title: str = ""
    start_year: int = 0
    genres: tuple[str, ...] = ()
    imdb_rating: float = float("nan")
    imdb_votes: int = 0


@dataclass(frozen=True)
class Interactions:
    """Likes of ``n_users`` users on ``n_shows`` shows, with times and show metadata.

    Only users and shows with at least one like are kept: a show nobody liked can neither be
    learned from nor held out, and keeping it would only grow every show x show model (EASE is
    O(n_shows²) in memory). ``n_ratings`` counts every input rating, liked or not.
    """

    likes: sp.csr_matrix  # (n_users, n_shows) float32, 1.0 per like
    timestamps: sp.csr_matrix | None  # same sparsity as likes, float64 unix seconds; None: unknown
    metadata: ShowMetadata
    user_ids: list[str]
    show_keys: list[str]
    n_ratings: int
    like_threshold: float

    @property
    def n_users(self) -> int:
        return self.likes.shape[0]

    @property
    def n_shows(self) -> int:
        return self.likes.shape[1]

    @property
    def n_likes(self) -> int:
        return int(self.likes.nnz)

    def describe(self) -> dict[str, Any]:
        """Counts for reports and logs."""
        return {
            "ratings": self.n_ratings,
            "likes": self.n_likes,
            "users": self.n_users,
            "shows": self.n_shows,
            "like_threshold": self.like_threshold,
            "timestamps": self.timestamps is not None,
        }


def _show_id(key: str, position: int) -> int:
    """IMDb ids ("tt0110912" or "0110912") become their number; other keys their position."""
    match = re.fullmatch(r"(?:tt)?(\d+)", key)
    return int(match.group(1)) if match else position


def show_vocabulary(show_keys: list[str]) -> ShowVocabulary:
    """The columns' ids: IMDb numbers where keys are IMDb ids, else positions; by position alone
    when that would name two columns alike ("tt0110912" and "0110912", or a clash with a
    position), because a vocabulary names each column once."""
    ids = np.array([_show_id(k, i) for i, k in enumerate(show_keys)], dtype=np.int64)
    if len(np.unique(ids)) != len(ids):
        log.warning("show keys name the same id twice: columns are numbered by position")
        return ShowVocabulary.positional(len(show_keys))
    return ShowVocabulary(ids)


def build_interactions(
    rows: Iterable[InteractionRow],
    *,
    like_threshold: float = DEFAULT_LIKE_THRESHOLD,
    shows: dict[str, ShowInfo] | None = None,
) -> Interactions:
    """Build ``Interactions`` from rating rows (pure: no files, no database).

    A row is a like when its ``liked`` flag is true, or, without a flag, when its rating is
    >= ``like_threshold`` (0–10 scale), the importer's rule. When the same user rated the same
    show twice the later row wins (by timestamp when both have one, else by input order), as a
    re-rating replaces the old one. Users and shows are numbered in order of first appearance
    among the likes, so the same rows always give the same matrices. Timestamps are kept only
    when every like has one; otherwise the splits fall back to show-index order (with a warning).
    """
    if not 0.0 <= like_threshold <= 10.0:
        raise ValueError(f"like_threshold must be in [0, 10], got {like_threshold}")
    latest: dict[tuple[str, str], tuple[bool, int | None, int]] = {}
    n_ratings = 0
    for position, row in enumerate(rows):
        n_ratings += 1
        if row.liked is not None:
            liked = bool(row.liked)
        elif row.rating is not None:
            liked = float(row.rating) >= like_threshold
        else:
            raise ValueError(f"row {position} has neither a rating nor a liked flag: {row}")
        key = (str(row.user_key), str(row.show_key))
        previous = latest.get(key)
        if (
            previous is not None
            and previous[1] is not None
            and row.timestamp is not None
            and row.timestamp < previous[1]
        ):
            continue  # an older re-rating read later does not replace the newer one
        if previous is not None:
            # Keep the first-seen position so numbering does not depend on re-ratings.
            position = previous[2]
        latest[key] = (liked, row.timestamp, position)

    liked_items = sorted(
        ((pos, user, show, ts) for (user, show), (liked, ts, pos) in latest.items() if liked),
    )
    user_index: dict[str, int] = {}
    show_index: dict[str, int] = {}
    user_col = np.empty(len(liked_items), dtype=np.int64)
    show_col = np.empty(len(liked_items), dtype=np.int64)
    times = np.empty(len(liked_items), dtype=np.float64)
    all_timed = True
    for i, (_, user, show, ts) in enumerate(liked_items):
        user_col[i] = user_index.setdefault(user, len(user_index))
        show_col[i] = show_index.setdefault(show, len(show_index))
        if ts is None:
            all_timed = False
            times[i] = np.nan
        else:
            times[i] = float(ts)

    shape = (len(user_index), len(show_index))
    likes, timestamps = csr_pair(user_col, show_col, times, shape)
    if not all_timed:
        if len(liked_items):
            log.warning("some likes have no timestamp: splits will use show-index order")
        timestamps = None

    show_keys = list(show_index)
    infos = [(shows or {}).get(key, ShowInfo()) for key in show_keys]
    metadata = ShowMetadata(
        show_ids=show_vocabulary(show_keys).show_ids,
        titles=[info.title or key for info, key in zip(infos, show_keys, strict=True)],
        start_year=np.array([info.start_year or 0 for info in infos], dtype=np.int32),
        imdb_rating=np.array([info.imdb_rating for info in infos], dtype=np.float32),
        imdb_votes=np.array([info.imdb_votes or 0 for info in infos], dtype=np.int64),
        genres=[tuple(info.genres) for info in infos],
    )
    return Interactions(
        likes=likes,
        timestamps=timestamps,
        metadata=metadata,
        user_ids=list(user_index),
        show_keys=show_keys,
        n_ratings=n_ratings,
        like_threshold=like_threshold,
    )


def csr_pair(
    rows: np.ndarray, cols: np.ndarray, times: np.ndarray, shape: tuple[int, int]
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """A likes CSR and a timestamps CSR with identical, canonical (row, column sorted) sparsity.

    Built by hand rather than through COO so a timestamp of 0 (or NaN) is never dropped and both
    matrices are guaranteed to share ``indptr`` and ``indices``.
    """
    order = np.lexsort((cols, rows))
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    indices = cols[order].astype(np.int32)
    likes = sp.csr_matrix(
        (np.ones(len(order), dtype=np.float32), indices, indptr.astype(np.int32)), shape=shape
    )
    timestamps = sp.csr_matrix((times[order], indices.copy(), indptr.astype(np.int32)), shape=shape)
    return likes, timestamps


# --- file reading -------------------------------------------------------------------------------


def show_key(ref: Any) -> str:
    """A stable key for an importer's ``ShowRef``: IMDb id first, as the importer matches shows."""
    if ref.imdb_id:
        return str(ref.imdb_id).lower()
    if ref.show_id is not None:
        return f"show:{ref.show_id}"
    if ref.source and ref.external_id:
        return f"{ref.source}:{ref.external_id}"
    return f"title:{(ref.title or '').casefold()}:{ref.year or ''}"


def parsed_to_row(item: Any) -> tuple[InteractionRow, ShowInfo]:
    """An importer's ``ParsedRating`` as an ``InteractionRow`` and what it says about the show."""
    ref = item.show
    row = InteractionRow(
        user_key=str(item.user_key),
        show_key=show_key(ref),
        rating=item.rating,
        liked=item.liked,
        timestamp=None if item.timestamp is None else int(item.timestamp.timestamp()),
    )
    genres = tuple(g for g in (ref.genres or "").split(",") if g)
    return row, ShowInfo(title=ref.title or "", start_year=ref.year or 0, genres=genres)


def load_interactions(
    source: str | Path,
    fmt: str | None = None,
    like_threshold: float = DEFAULT_LIKE_THRESHOLD,
    items_path: Path | None = None,
) -> Interactions:
    """Read ``"demo"`` (the bundled MovieTweetings copy) or a ratings file into ``Interactions``.

    Files are parsed by ``nextshow.ratings.formats.iter_ratings``, the importer's own parser, so
    evaluation and import agree on every row. ``fmt`` is one of ``FORMATS``; for a path it
    defaults to ``movietweetings`` for ``.dat`` files and ``csv`` otherwise. Rejected rows are
    counted and logged, never used.
    """
    from nextshow.ratings.demo import demo_paths
    from nextshow.ratings.formats import FORMATS, ParsedRating, iter_ratings

    if str(source) == DEMO_SOURCE:
        if fmt not in (None, "movietweetings"):
            raise ValueError(f"the demo data is in movietweetings format, not {fmt!r}")
        path, items = demo_paths()
        fmt = "movietweetings"
    else:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"no ratings file at {path} (use 'demo' or a file path)")
        items = items_path
        if fmt is None:
            fmt = "movietweetings" if ".dat" in path.suffixes else "csv"
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")

    shows: dict[str, ShowInfo] = {}
    rejected = 0

    def rows() -> Iterator[InteractionRow]:
        nonlocal rejected
        for item in iter_ratings(path, fmt, items_path=items):
            if not isinstance(item, ParsedRating):
                rejected += 1
                if rejected == 1:
                    log.warning("rejected while reading %s: %s", path, item)
                continue
            row, info = parsed_to_row(item)
            shows.setdefault(row.show_key, info)
            yield row

    interactions = build_interactions(rows(), like_threshold=like_threshold, shows=shows)
    if rejected:
        log.warning("%d input rows rejected while reading %s", rejected, path)
    return interactions
