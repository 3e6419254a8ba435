"""IMDb title import: stream the official title.basics and title.ratings TSVs into the catalogue.

The files (https://developer.imdb.com/non-commercial-datasets/) are tab separated with a header,
``\\N`` for null and no quoting at all, so lines are split on tabs (a csv reader would treat a
stray quote in a title as the start of a quoted field). title.basics has ~11M lines (1 GB
unpacked); it is streamed line by line and only the kept titles of one batch are held in memory.
title.ratings (~1.5M lines) is read first into a dict restricted to titles with enough votes,
which is what lets every other line of title.basics be dropped on sight.

Fields of lines that are filtered out by type are not validated (they are never stored); a line
with the wrong number of fields, or undecodable bytes, is rejected whatever its type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from nextshow.catalog.review import adopt_imdb_twins
from nextshow.catalog.store import ShowSpec, get_or_create_shows
from nextshow.db.limits import GENRES as MAX_GENRES
from nextshow.db.limits import TITLE as MAX_TITLE
from nextshow.db.session import transaction
from nextshow.ids import RULE as IMDB_ID_RULE
from nextshow.ids import is_imdb_id
from nextshow.progress import file_progress_bar
from nextshow.rejects import ImportSummary, Reject, control_character_reject
from nextshow.textio import InputAborted, OverlongLine, iter_lines

log = logging.getLogger(__name__)

BASICS_COLUMNS = (
    "tconst",
    "titleType",
    "primaryTitle",
    "originalTitle",
    "isAdult",
    "startYear",
    "endYear",
    "runtimeMinutes",
    "genres",
)
RATINGS_COLUMNS = ("tconst", "averageRating", "numVotes")
NULL = "\\N"
SOURCE = "imdb"
_MAX_INT = 2**31 - 1  # the INTEGER column of PostgreSQL
DEFAULT_TITLE_TYPES = "tvSeries,tvMiniSeries"


def parse_title_types(text: str) -> frozenset[str]:
    """IMDb title types from a comma-separated list (``"tvSeries,tvMiniSeries"``)."""
    return frozenset(t.strip() for t in text.split(",") if t.strip())


def import_imdb_titles(
    sessions: sessionmaker[Session],
    basics_path: Path,
    ratings_path: Path,
    *,
    title_types: frozenset[str],
    min_votes: int,
    batch_size: int,
    progress: bool,
    reports_dir: Path,
) -> ImportSummary:
    """Upsert titles of ``title_types`` with at least ``min_votes`` votes, adult titles excluded.

    Shows are keyed by IMDb id, so a re-import only updates what changed, and a show first created
    by a rating import (same IMDb id) takes IMDb's data. Each batch of ``batch_size`` kept titles
    is one transaction. Filtered lines are counted as ``skipped``; malformed lines are rejects
    (reported under ``reports_dir``) and do not stop the import. Plain or gzip files.
    Pending user-submitted shows with an imported twin (same title and year) are merged into it.
    """
    summary = ImportSummary()
    with summary.reporting(reports_dir, "imdb-titles"):
        try:
            _import_titles(
                sessions,
                basics_path,
                ratings_path,
                summary,
                title_types=title_types,
                min_votes=min_votes,
                batch_size=batch_size,
                progress=progress,
            )
        except InputAborted as exc:
            summary.aborted = str(exc)
            log.error("%s", exc)
    return summary


def _import_titles(
    sessions: sessionmaker[Session],
    basics_path: Path,
    ratings_path: Path,
    summary: ImportSummary,
    *,
    title_types: frozenset[str],
    min_votes: int,
    batch_size: int,
    progress: bool,
) -> None:
    votes = _read_ratings(ratings_path, min_votes, summary.reject)
    log.info("%d titles with >= %d votes in %s", len(votes), min_votes, ratings_path)

    batch: list[ShowSpec] = []

    def flush() -> None:
        with transaction(sessions) as session:
            written = get_or_create_shows(session, batch, update_existing=True)
        summary.inserted += written.inserted
        summary.updated += written.updated
        summary.unchanged += written.unchanged
        batch.clear()

    bar = file_progress_bar(basics_path, enabled=progress, desc=f"titles {basics_path.name}")
    with bar:
        for item in _iter_basics(basics_path, title_types, votes, on_progress=bar.update):
            if item is None:
                summary.skipped += 1
            elif isinstance(item, Reject):
                summary.reject(item)
            else:
                batch.append(item)
                if len(batch) >= batch_size:
                    flush()
        if batch:
            flush()
    # Titles typed on the web that IMDb now knows become those IMDb shows (likes and all).
    with transaction(sessions) as session:
        merged = adopt_imdb_twins(session)
    if merged:
        log.info("%d pending user-submitted shows merged into the IMDb shows they are", len(merged))


def _split(path: Path, number: int, data: bytes | OverlongLine, width: int) -> list[str] | Reject:
    if isinstance(data, OverlongLine):
        return Reject(str(path), number, "", data.reason())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raw = data.decode("utf-8", errors="backslashreplace")
        return Reject(str(path), number, "", f"not valid UTF-8 ({exc.reason})", raw)
    parts = text.split("\t")
    if len(parts) != width:
        return Reject(str(path), number, "", f"expected {width} fields, got {len(parts)}", text)
    return parts


def parse_count(text: str) -> int | None:
    """``\\N`` -> None, digits -> int; raises ValueError otherwise."""
    if text == NULL:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > _MAX_INT:
        raise ValueError(text)
    return int(text)


def _read_ratings(
    path: Path, min_votes: int, reject: Callable[[Reject], None]
) -> dict[str, tuple[float, int]]:
    """tconst -> (average rating, votes) of the titles with at least ``min_votes`` votes."""
    kept: dict[str, tuple[float, int]] = {}
    file = str(path)
    for number, data in iter_lines(path):
        if not data:
            continue
        parts = _split(path, number, data, len(RATINGS_COLUMNS))
        if isinstance(parts, Reject):
            reject(parts)
            if number == 1:
                return kept
            continue
        if number == 1:
            if tuple(parts) != RATINGS_COLUMNS:
                reject(Reject(file, 1, "header", "not a title.ratings header", "\t".join(parts)))
                return kept
            continue
        tconst, rating_text, votes_text = parts
        raw = "\t".join(parts)
        try:
            votes = parse_count(votes_text)
        except ValueError:
            reject(Reject(file, number, "numVotes", f"not a count: {votes_text!r}", raw))
            continue
        try:
            rating = float(rating_text)
        except ValueError:
            rating = -1.0
        if not 0.0 <= rating <= 10.0:
            reason = f"averageRating not in 0–10: {rating_text!r}"
            reject(Reject(file, number, "averageRating", reason, raw))
            continue
        if votes is not None and votes >= min_votes:
            kept[tconst] = (rating, votes)
    return kept


def _iter_basics(
    path: Path,
    title_types: frozenset[str],
    votes: dict[str, tuple[float, int]],
    *,
    on_progress,
) -> Iterator[ShowSpec | Reject | None]:
    """Each line of title.basics as a ShowSpec to store, a Reject, or None (filtered out)."""
    file = str(path)
    width = len(BASICS_COLUMNS)
    for number, data in iter_lines(path, on_progress=on_progress):
        if not data:
            continue
        parts = _split(path, number, data, width)
        if isinstance(parts, Reject):
            yield parts
            if number == 1:
                return
            continue
        if number == 1:
            if tuple(parts) != BASICS_COLUMNS:
                yield Reject(file, 1, "header", "not a title.basics header", "\t".join(parts))
                return
            continue
        if parts[1] not in title_types:  # titleType
            yield None
            continue
        yield _basics_row(file, number, parts, votes)


def _basics_row(
    file: str, number: int, parts: list[str], votes: dict[str, tuple[float, int]]
) -> ShowSpec | Reject | None:
    tconst, title_type, title, original, adult, start, end, _runtime, genres = parts

    def bad(name: str, reason: str) -> Reject:
        return Reject(file, number, name, reason, "\t".join(parts))

    if not is_imdb_id(tconst):
        return bad("tconst", f"not an IMDb id ({IMDB_ID_RULE}): {tconst!r}")
    text_fields = [("primaryTitle", title), ("originalTitle", original), ("genres", genres)]
    control = control_character_reject(file, number, text_fields, "\t".join(parts))
    if control is not None:
        return control
    if adult not in ("0", "1"):
        return bad("isAdult", f"not 0 or 1: {adult!r}")
    years: list[int | None] = []
    for name, text in (("startYear", start), ("endYear", end)):
        try:
            years.append(parse_count(text))
        except ValueError:
            return bad(name, f"not a year: {text!r}")
    if title in ("", NULL) or len(title) > MAX_TITLE:
        return bad("primaryTitle", f"empty or longer than {MAX_TITLE} characters")
    if len(original) > MAX_TITLE:
        original = NULL  # only informative; keep the title rather than reject it
    if len(genres) > MAX_GENRES:
        return bad("genres", f"longer than {MAX_GENRES} characters")
    if adult == "1" or tconst not in votes:
        return None
    rating, count = votes[tconst]
    return ShowSpec(
        title=title,
        source=SOURCE,
        external_id=tconst,
        imdb_id=tconst,
        original_title=None if original == NULL else original,
        title_type=title_type,
        start_year=years[0],
        end_year=years[1],
        genres=None if genres == NULL else genres,
        imdb_rating=rating,
        imdb_votes=count,
    )
