"""Set-based catalogue writes shared by every importer: get-or-create (and upsert) shows by key.

Importers hand over whole batches, never single rows: one SELECT per batch finds what exists, one
multi-row INSERT creates what is missing and one executemany UPDATE applies changes. Per-row ORM
objects would cost a round trip (and an identity-map entry) per row, which is what made 100k-row
imports take minutes.

A show is identified by its IMDb id when it has one (the ``imdb_id`` column is unique), otherwise
by its source and that source's own id (``uq_shows_source_external_id``), so a MovieLens item or a
title typed into a CSV file maps to the same row on every re-import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from nextshow.catalog.normalize import normalize_title
from nextshow.db import limits
from nextshow.db.lookup import rows_where_in
from nextshow.db.models import Show
from nextshow.db.upsert import insert_ignoring_conflicts, update_rows

SHOWS: Table = Show.__table__  # type: ignore[assignment]


# Keep IN lists well below SQLite's and psycopg's bound-parameter limits.
_CHUNK = 2000

# ("imdb", imdb_id) or ("ext", source, external_id)
ShowKey = tuple[str, ...]

# The columns an import may set; compared to decide between "updated" and "unchanged".
_DATA_COLUMNS = (
    "title",
    "original_title",
    "normalized_title",
    "title_type",
    "start_year",
    "end_year",
    "genres",
    "imdb_rating",
    "imdb_votes",
    "source",
    "external_id",
)


@dataclass(frozen=True)
class ShowSpec:
    """What an import knows about one show: its key and the data to create (or update) it with.

    With ``imdb_id`` set the show is keyed by it, otherwise by ``source`` + ``external_id``.
    """

    title: str
    source: str
    external_id: str | None
    imdb_id: str | None = None
    original_title: str | None = None
    title_type: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    genres: str | None = None
    imdb_rating: float | None = None
    imdb_votes: int | None = None

    @property
    def key(self) -> ShowKey:
        if self.imdb_id:
            return ("imdb", self.imdb_id)
        return ("ext", self.source, self.external_id or "")

    def row(self) -> dict[str, Any]:
        """The column values of this spec, with the normalised title filled in."""
        # Explicit rather than dataclasses.asdict, which deep-copies and is slow on 100k rows.
        values = {name: getattr(self, name) for name in _SPEC_FIELDS}
        values["normalized_title"] = normalize_title(self.title)
        return values


_SPEC_FIELDS = tuple(f.name for f in fields(ShowSpec))


@dataclass
class ShowWrite:
    """Result of :func:`get_or_create_shows`: the id of every key, and what happened to the rows."""

    ids: dict[ShowKey, int] = field(default_factory=dict)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def external_key(*parts: object) -> str:
    """An ``external_id`` built from free text (e.g. normalised title + year) that fits the column.

    Long values are replaced by a stable hash so that they still identify the same show.
    """
    text = "|".join("" if part is None else str(part) for part in parts)
    if len(text) <= limits.EXTERNAL_ID:
        return text
    return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()


def _select_existing(session: Session, keys: Iterable[ShowKey], columns: Sequence[str]):
    """Rows (id, imdb_id, source, external_id, *columns) of the shows having one of ``keys``.

    Driver-level SQL (:mod:`nextshow.db.lookup`): every column read here is text or a number.
    """
    imdb_ids = sorted({key[1] for key in keys if key[0] == "imdb"})
    by_source: dict[str, set[str]] = {}
    for key in keys:
        if key[0] == "ext":
            by_source.setdefault(key[1], set()).add(key[2])
    names = ["id", "imdb_id", "source", "external_id"]
    names += [name for name in columns if name not in ("source", "external_id")]
    select_sql = f"SELECT {', '.join(names)} FROM shows WHERE "
    rows = rows_where_in(session, select_sql + "imdb_id IN ({in_})", imdb_ids)
    yield from (dict(zip(names, row, strict=True)) for row in rows)
    for source, external_ids in by_source.items():
        sql = select_sql + "source = {p} AND external_id IN ({in_})"
        rows = rows_where_in(session, sql, sorted(external_ids), (source,))
        yield from (dict(zip(names, row, strict=True)) for row in rows)


def _index(rows: Iterable[Any], wanted: set[ShowKey]) -> dict[ShowKey, Any]:
    found: dict[ShowKey, Any] = {}
    for row in rows:
        imdb_key = ("imdb", row["imdb_id"])
        ext_key = ("ext", row["source"], row["external_id"] or "")
        if row["imdb_id"] and imdb_key in wanted:
            found[imdb_key] = row
        if ext_key in wanted:
            found[ext_key] = row
    return found


def _merge(earlier: ShowSpec, later: ShowSpec) -> ShowSpec:
    known = {
        name: getattr(later, name) for name in _SPEC_FIELDS if getattr(later, name) is not None
    }
    return replace(earlier, **known)


def get_or_create_shows(
    session: Session, specs: Iterable[ShowSpec], *, update_existing: bool = False
) -> ShowWrite:
    """Ids of the shows named by ``specs``, creating the missing ones, in the caller's transaction.

    ``update_existing=False`` (rating imports): an existing show is left as it is, because a rating
    file's titles are weaker data than the catalogue's. ``update_existing=True`` (the IMDb import):
    an existing show found by IMDb id gets the spec's values, including its source, so a film first
    created from MovieTweetings' movies.dat becomes an IMDb-sourced show. Specs with the same key
    are merged: the later one's known (not None) values win.
    """
    by_key: dict[ShowKey, ShowSpec] = {}
    for spec in specs:
        earlier = by_key.get(spec.key)
        by_key[spec.key] = spec if earlier is None else _merge(earlier, spec)
    result = ShowWrite()
    if not by_key:
        return result
    wanted = set(by_key)
    compare = _DATA_COLUMNS if update_existing else ()
    existing = _index(_select_existing(session, wanted, compare), wanted)
    now = datetime.now(UTC)

    changes: list[dict[str, Any]] = []
    for key, row in existing.items():
        result.ids[key] = row["id"]
        if not update_existing:
            continue
        values = by_key[key].row()
        if any(row[name] != values[name] for name in _DATA_COLUMNS):
            changes.append(
                {"id": row["id"], **{n: values[n] for n in _DATA_COLUMNS}, "updated_at": now}
            )
        else:
            result.unchanged += 1
    if changes:
        update_rows(session, SHOWS, changes, key="id")
        result.updated = len(changes)

    missing = [key for key in by_key if key not in existing]
    if missing:
        new_rows = [
            {**by_key[key].row(), "user_submitted": False, "created_at": now, "updated_at": now}
            for key in missing
        ]
        insert_ignoring_conflicts(session, SHOWS, new_rows)
        created = _index(_select_existing(session, missing, ()), set(missing))
        for key, row in created.items():
            result.ids[key] = row["id"]
        result.inserted = len(created)
    return result


def existing_show_ids(session: Session, ids: Iterable[int]) -> set[int]:
    """The subset of ``ids`` that are shows in the catalogue."""
    wanted = sorted(set(ids))
    found: set[int] = set()
    for part in chunks(wanted):
        found.update(session.scalars(select(SHOWS.c.id).where(SHOWS.c.id.in_(part))))
    return found


def find_shows_by_title(
    session: Session, wanted: Iterable[tuple[str, int | None]]
) -> dict[tuple[str, int | None], int]:
    """Exact matches on ``normalized_title`` (and start year when given): the most voted wins.

    ``wanted`` holds (normalised title, year or None) pairs; pairs without a match are absent from
    the result. Ties on votes go to the oldest row (lowest id) so the choice is stable.
    """
    keys = set(wanted)
    titles = sorted({title for title, _ in keys})
    best: dict[tuple[str, int | None], tuple[int, int]] = {}
    for part in chunks(titles):
        rows = session.execute(
            select(
                SHOWS.c.id, SHOWS.c.normalized_title, SHOWS.c.start_year, SHOWS.c.imdb_votes
            ).where(SHOWS.c.normalized_title.in_(part))
        )
        for show_id, title, year, votes in rows:
            rank = (votes if votes is not None else -1, -show_id)
            for key in ((title, None), (title, year)):
                if key in keys and (key not in best or rank > best[key]):
                    best[key] = rank
    return {key: -rank[1] for key, rank in best.items()}
