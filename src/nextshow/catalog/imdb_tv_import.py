"""Import IMDb's people and TV datasets for the shows already in the catalogue.

The kept titles are the catalogue's IMDb shows of the TV title types (what the title.basics import
kept), read from the database, so each file is one independent pass over the file: run the
title.basics import first, and name.basics after title.principals / title.crew (names are
looked up only for the people those passes stored). Every pass streams its file (see
:mod:`nextshow.catalog.imdb_tv`), writes one transaction per ``batch_size`` parsed rows, reports
malformed lines with file, line and field (they never stop the import) and holds in memory only
the kept-id map, the people id map and one batch.

Re-imports refresh what the files say (upserts by key); credits or alternative titles that IMDb
dropped since an earlier import stay until the show is deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from nextshow.catalog import imdb_tv as tv
from nextshow.catalog.imdb_import import import_imdb_titles
from nextshow.catalog.normalize import normalize_title
from nextshow.catalog.store import chunks
from nextshow.db.models import Person, Show, ShowCredit, ShowTitle
from nextshow.db.session import transaction
from nextshow.db.upsert import insert_ignoring_conflicts, update_rows, upsert_rows
from nextshow.progress import file_progress_bar
from nextshow.rejects import ImportSummary, Reject
from nextshow.textio import InputAborted

log = logging.getLogger(__name__)

PEOPLE: Table = Person.__table__  # type: ignore[assignment]
CREDITS: Table = ShowCredit.__table__  # type: ignore[assignment]
TITLES: Table = ShowTitle.__table__  # type: ignore[assignment]
SHOWS: Table = Show.__table__  # type: ignore[assignment]

# The order the passes must run in (name.basics needs the people the credit passes stored).
TV_DATASETS = ("title.akas", "title.episode", "title.crew", "title.principals", "name.basics")


def kept_shows(session: Session, title_types: Iterable[str]) -> dict[bytes, int]:
    """``tt`` id (bytes, as the files hold it) -> show id of the catalogue's IMDb shows."""
    rows = session.execute(
        select(Show.imdb_id, Show.id).where(
            Show.imdb_id.is_not(None),
            Show.title_type.in_(sorted(title_types)),
            Show.status == "active",  # pending or rejected shows get no IMDb enrichment
        )
    )
    return {imdb_id.encode(): show_id for imdb_id, show_id in rows}


def import_tv_dataset(
    sessions: sessionmaker[Session],
    name: str,
    path: Path,
    *,
    title_types: frozenset[str],
    batch_size: int,
    progress: bool,
    reports_dir: Path,
) -> ImportSummary:
    """One pass of ``name`` (one of :data:`TV_DATASETS`) over ``path`` (plain or gzip).

    ``inserted`` counts rows written (new or refreshed), ``skipped`` the lines about titles or
    people outside the catalogue.
    """
    if name not in TV_DATASETS:
        raise ValueError(f"unknown IMDb dataset {name!r}; known: {', '.join(TV_DATASETS)}")
    summary = ImportSummary()
    with sessions() as session:
        if name == "name.basics":
            keep: dict[bytes, int] = {
                imdb_id.encode(): pid
                for imdb_id, pid in session.execute(select(Person.imdb_id, Person.id))
            }
        else:
            keep = kept_shows(session, title_types)
    log.info("%s: %d kept keys", path.name, len(keep))
    columns, key_field, parse, write = _PASSES[name]
    bar = file_progress_bar(path, enabled=progress, desc=f"{name} {path.name}")
    with bar, summary.reporting(reports_dir, name):
        rows = tv.stream(
            path,
            columns,
            key_field=key_field,
            keep=keep,
            parse=parse,
            summary=summary,
            on_progress=bar.update,
        )
        try:
            write(sessions, rows, keep, summary, batch_size)
        except InputAborted as exc:  # truncated or oversized: what was read before is stored
            summary.aborted = str(exc)
            log.error("%s", exc)
    return summary


def import_imdb_catalogue(
    sessions: sessionmaker[Session],
    files: dict[str, Path],
    *,
    title_types: frozenset[str],
    min_votes: int,
    batch_size: int,
    progress: bool,
    reports_dir: Path,
) -> dict[str, ImportSummary]:
    """title.basics + title.ratings (both required), then every other dataset in ``files`` in
    the order of :data:`TV_DATASETS`; ``files`` maps dataset names (``title.crew``) to paths.
    Returns one summary per dataset (``title.basics`` for the titles import)."""
    unknown = set(files) - {"title.basics", "title.ratings", *TV_DATASETS}
    if unknown or not {"title.basics", "title.ratings"} <= set(files):
        raise ValueError(
            f"need title.basics and title.ratings; unknown datasets: {sorted(unknown)}"
        )
    summaries = {
        "title.basics": import_imdb_titles(
            sessions,
            files["title.basics"],
            files["title.ratings"],
            title_types=title_types,
            min_votes=min_votes,
            batch_size=batch_size,
            progress=progress,
            reports_dir=reports_dir,
        )
    }
    for name in TV_DATASETS:
        if name in files:
            summaries[name] = import_tv_dataset(
                sessions,
                name,
                files[name],
                title_types=title_types,
                batch_size=batch_size,
                progress=progress,
                reports_dir=reports_dir,
            )
    return summaries


# Writes one file's parsed rows: (sessions, rows, kept keys, summary, batch size).
Writer = Callable[
    [sessionmaker[Session], Iterable[Any], dict[bytes, int], ImportSummary, int], None
]


def _batches(items: Iterable[Any], summary: ImportSummary, size: int) -> Iterable[list[Any]]:
    """Valid rows in lists of ``size``; Rejects go to ``summary`` on the way."""
    batch: list[Any] = []
    for item in items:
        if isinstance(item, Reject):
            summary.reject(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _akas(sessions, rows, keep, summary, size) -> None:
    for batch in _batches(rows, summary, size):
        values = {
            (keep[a.tconst.encode()], a.ordering): {
                "show_id": keep[a.tconst.encode()],
                "ordering": a.ordering,
                "title": a.title,
                "normalized_title": normalize_title(a.title),
                "region": a.region,
                "language": a.language,
                "is_original": a.is_original,
            }
            for a in batch
        }
        with transaction(sessions) as session:
            upsert_rows(
                session,
                TITLES,
                list(values.values()),
                keys=("show_id", "ordering"),
                update_columns=("title", "normalized_title", "region", "language", "is_original"),
            )
        summary.inserted += len(values)


def _episodes(sessions, rows, keep, summary, size) -> None:
    """Seasons and episodes per series: one small counter per kept series, written at the end."""
    seasons: dict[int, set[int]] = {}
    episodes: dict[int, int] = {}
    for item in rows:
        if isinstance(item, Reject):
            summary.reject(item)
            continue
        show = keep[item.parent.encode()]
        episodes[show] = episodes.get(show, 0) + 1
        if item.season is not None:
            seasons.setdefault(show, set()).add(item.season)
    updates = [
        {"id": show, "seasons": len(seasons.get(show, ())) or None, "episodes": count}
        for show, count in sorted(episodes.items())
    ]
    for part in chunks(updates, size):
        with transaction(sessions) as session:
            update_rows(session, SHOWS, list(part), key="id")
        summary.updated += len(part)


def _person_ids(session: Session, nconsts: Iterable[str], cache: dict[str, int]) -> None:
    """Fill ``cache`` (nm id -> people.id) for ``nconsts``, creating people not yet stored."""
    missing = sorted({n for n in nconsts if n not in cache})
    for part in chunks(missing):
        insert_ignoring_conflicts(session, PEOPLE, [{"imdb_id": n, "name": None} for n in part])
        found = session.execute(
            select(Person.imdb_id, Person.id).where(Person.imdb_id.in_(list(part)))
        )
        cache.update({imdb_id: pid for imdb_id, pid in found})


def _write_credits(
    sessions: sessionmaker[Session],
    credits: list[tv.Credit],
    keep: dict[bytes, int],
    people: dict[str, int],
    *,
    overwrite: bool,
) -> int:
    """Store one batch; the same (show, person, role) twice keeps the first billing."""
    with transaction(sessions) as session:
        _person_ids(session, (c.nconst for c in credits), people)
        rows: dict[tuple[int, int, str], dict[str, Any]] = {}
        for c in credits:
            key = (keep[c.tconst.encode()], people[c.nconst], c.role)
            if key not in rows:
                rows[key] = {
                    "show_id": key[0],
                    "person_id": key[1],
                    "role": c.role,
                    "ordering": c.ordering,
                }
        values = list(rows.values())
        if overwrite:
            upsert_rows(
                session,
                CREDITS,
                values,
                keys=("show_id", "person_id", "role"),
                update_columns=("ordering",),
            )
        else:  # title.crew has no billing: never replace what title.principals said
            insert_ignoring_conflicts(session, CREDITS, values)
    return len(values)


def _principals(sessions, rows, keep, summary, size) -> None:
    people: dict[str, int] = {}
    for batch in _batches(rows, summary, size):
        summary.inserted += _write_credits(sessions, batch, keep, people, overwrite=True)


def _crew(sessions, rows, keep, summary, size) -> None:
    people: dict[str, int] = {}
    for batch in _batches(rows, summary, max(1, size // 4)):
        credits = [c for line in batch for c in line]
        summary.inserted += _write_credits(sessions, credits, keep, people, overwrite=False)


def _names(sessions, rows, keep, summary, size) -> None:
    for batch in _batches(rows, summary, size):
        values = {keep[p.nconst.encode()]: p.name for p in batch}
        with transaction(sessions) as session:
            update_rows(
                session,
                PEOPLE,
                [{"id": pid, "name": name} for pid, name in values.items()],
                key="id",
            )
        summary.updated += len(values)


# Per file: its columns, the field holding the key kept ids are looked up by, parser, writer.
_PASSES: dict[str, tuple[tuple[str, ...], int, Callable[..., Any], Writer]] = {
    "title.akas": (tv.AKAS_COLUMNS, 0, tv.parse_aka, _akas),
    # parentTconst: the series is what the catalogue keeps
    "title.episode": (tv.EPISODE_COLUMNS, 1, tv.parse_episode, _episodes),
    "title.crew": (tv.CREW_COLUMNS, 0, tv.parse_crew, _crew),
    "title.principals": (tv.PRINCIPALS_COLUMNS, 0, tv.parse_principal, _principals),
    "name.basics": (tv.NAMES_COLUMNS, 0, tv.parse_name, _names),
}
