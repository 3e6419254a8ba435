"""Rating import: parsed rows (see :mod:`nextshow.ratings.formats`) written to the store in batches.

Each batch -- its users, the shows it creates and its ratings -- is one transaction, so an
interrupted import leaves whole batches only, and a re-run picks up where it stopped (rows already
stored come back as ``unchanged``). Writes are set-based, no per-row ORM objects: per batch the
missing users are created by one ``INSERT ... RETURNING`` (looked up first only when the store
held users of the source before the import began), shows are got or created, the stored ratings
of users not new in this batch are read, and one bulk upsert writes the new and changed ratings.
A batch is handled as columns (:class:`~nextshow.ratings.records.RatingColumns`): CSV blocks
arrive parsed that way, rows of the other formats are turned into them.

On PostgreSQL, whose server does most of the work in a process of its own, a CSV file is
parsed one batch ahead in a thread (:mod:`nextshow.prefetch`), so the client's parsing runs
while the server writes, and a batch that shares no user with the one before it (and follows
one that created no shows) is written on a second connection while that one is (see
:mod:`nextshow.ratings.overlap`): ids are still created in file order, commits happen in file
order, a batch after a failed one is rolled back, so the stored result, the counts and the
order of the rejects are those of writing the batches one by one. At most three batches are in
memory: two being written, one parsed.

One rating per (user, show), the newest wins:

- A row with a timestamp is newer than one without; of two rows without one, or with the same
  one, the later wins (later line in the file, later import against the store). So an undated
  row never overwrites a dated rating, and re-importing an undated file is idempotent.
- A row that loses (an older duplicate in the file, or older than what the store holds) is counted
  as ``skipped``: valid, but not applied.

Rows whose show cannot be resolved (an internal show id that does not exist) are rejects, like
malformed lines; every valid row is still imported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from nextshow.catalog.normalize import normalize_title
from nextshow.catalog.store import (
    ShowSpec,
    chunks,
    existing_show_ids,
    external_key,
    find_shows_by_title,
    get_or_create_shows,
)
from nextshow.db.lookup import rows_where_in
from nextshow.db.models import Rating, User
from nextshow.db.session import transaction
from nextshow.db.types import bound_epoch_micros
from nextshow.db.upsert import bulk_insert_bound, insert_returning, upsert_clause
from nextshow.gcpause import collect_young, gc_paused
from nextshow.prefetch import prefetched
from nextshow.progress import file_progress_bar
from nextshow.ratings.formats import ParsedRating, RatingColumns, ShowRef, iter_rating_blocks
from nextshow.ratings.overlap import Cancelled, OverlappedWriter, Turn
from nextshow.ratings.records import EPOCH
from nextshow.rejects import ImportSummary, Reject
from nextshow.textio import InputAborted

log = logging.getLogger(__name__)

USERS: Table = User.__table__  # type: ignore[assignment]
RATINGS: Table = Rating.__table__  # type: ignore[assignment]
# A batch written on its own (SQLite, tests): nothing to wait for; its marks are never read.
_ALONE: Turn[Any] = Turn(None)
_RATING_COLUMNS = ("user_id", "show_id", "rating", "liked", "rated_at", "source", "updated_at")


def import_ratings(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    fmt: str,
    items_path: Path | None,
    like_threshold: float,
    batch_size: int,
    progress: bool,
    reports_dir: Path,
    source: str | None = None,
) -> ImportSummary:
    """Import a rating file of format ``fmt`` (csv, movielens, movietweetings; plain or .gz).

    Ratings are stored on the 0–10 scale: MovieTweetings as is, MovieLens stars x2 (1–5 -> 2–10),
    CSV as given. ``liked`` is ``rating >= like_threshold`` unless the file states it. Users are
    keyed by (source, the file's user id), where source is ``source`` when given (e.g.
    ``imdb-reviews`` for a CSV written by the review collector) and ``fmt`` otherwise; ratings and
    shows created by the import carry the same source. Shows are keyed by IMDb id, else the file's
    own item id, else the title (CSV), and created from the file's metadata when the catalogue
    lacks them.
    Rejected lines go to a CSV report under ``reports_dir``; the summary counts ratings.
    """
    summary = ImportSummary()
    source = source or fmt
    stats = _BatchStats(source_stored=_has_users(sessions, source))
    bar = file_progress_bar(path, enabled=progress, desc=f"ratings {path.name}")
    items = iter_rating_blocks(path, fmt, items_path, size=batch_size, on_progress=bar.update)
    # PostgreSQL and CSV: the next batch is parsed while this one is written, by the server
    # mostly. SQLite writes in this process, releasing the GIL for each row it steps: a parse
    # thread would hold it up at every step, for no gain (the 100k import 0.2 s slower). The
    # other formats are parsed a Python line at a time (the GIL held), and their files, sorted
    # by user, give few batches that share no user with the one before: no gain either
    # (MovieTweetings 100k on PostgreSQL 0.1-0.2 s slower), so both keep one thread.
    overlapped = _dialect(sessions) == "postgresql" and fmt == "csv"
    parsed = _units(items, batch_size)
    with (
        summary.reporting(reports_dir, f"ratings-{path.name}"),
        bar,
        gc_paused(),
        prefetched(parsed, name="import-parse") if overlapped else nullcontext(parsed) as units,
    ):
        file = str(path)

        def write(unit: _Unit, turn: Turn[_Unit] = _ALONE) -> _Outcome:
            assert unit.batch is not None
            return _write_batch(sessions, unit.batch, source, like_threshold, file, stats, turn)

        def apply(unit: _Unit, outcome: _Outcome | None) -> None:
            """What a unit adds to the summary: its lines' rejects, then (once committed) its
            batch's counts and rejects."""
            for reject in unit.rejects:
                summary.reject(reject)
            if unit.aborted is not None:
                # The rows read before the damage are valid: stored next, then the summary
                # says where it stopped.
                summary.aborted = unit.aborted
                log.error("%s", unit.aborted)
            if outcome is not None:
                outcome.add_to(summary)
                collect_young()

        if not overlapped:  # SQLite: one writer at a time anyway
            for unit in units:
                apply(unit, None)
                if unit.batch is not None:
                    apply(_Unit(), write(unit))  # its counts, once committed
        else:
            writer = OverlappedWriter(
                write, apply, is_batch=lambda unit: unit.batch is not None, independent=_apart
            )
            try:
                for unit in units:
                    writer.add(unit)
            except BaseException:
                first = writer.abandon()
                if first is not None and not isinstance(first, Cancelled):
                    raise first from None
                raise
            writer.close()
    log.info(
        "%s: %d users and %d shows created; ratings %s",
        path,
        stats.users_created,
        stats.shows_created,
        summary.as_dict(),
    )
    return summary


@dataclass
class _Unit:
    """What the parse thread hands the writer: the rejects of the lines before a batch (in file
    order), then the batch (None at the end, or when rejects alone fill a unit), and the reason
    the input stopped early when it did (set on the unit that holds the last rows read)."""

    rejects: list[Reject] = field(default_factory=list)
    batch: RatingColumns | None = None
    aborted: str | None = None


def _units(
    items: Iterator[RatingColumns | ParsedRating | Reject], batch_size: int
) -> Iterator[_Unit]:
    """The parsed items as the writer takes them: rows gathered into batches of ``batch_size``,
    a CSV block as one batch, each with the rejects read before it.

    What the single-threaded loop did, so the order of rejects and writes is the same: a reject
    is reported before any batch that follows it in the file, and a batch's own rejects (shows
    that cannot be resolved) after the rejects of the lines read up to it.
    """
    unit = _Unit()
    rows: list[ParsedRating] = []
    try:
        for item in items:
            if isinstance(item, Reject):
                unit.rejects.append(item)
                if len(unit.rejects) >= batch_size:  # a file of rejects: bounded all the same
                    yield unit
                    unit = _Unit()
            elif isinstance(item, RatingColumns):  # a whole block: one batch, in file order
                if rows:
                    unit.batch = RatingColumns.from_rows(rows)
                    yield unit
                    unit, rows = _Unit(), []
                unit.batch = item
                yield unit
                unit = _Unit()
            else:
                rows.append(item)
                if len(rows) >= batch_size:
                    unit.batch = RatingColumns.from_rows(rows)
                    yield unit
                    unit, rows = _Unit(), []
    except InputAborted as exc:
        unit.aborted = str(exc)
    if rows:
        unit.batch = RatingColumns.from_rows(rows)
    if unit.rejects or unit.batch is not None or unit.aborted is not None:
        yield unit


@dataclass
class _BatchStats:
    """Counts over the whole import, and the ids batches already resolved (so each user and
    show is looked up once per import, not once per batch it appears in)."""

    users_created: int = 0
    shows_created: int = 0
    user_ids: dict[str, int] = field(default_factory=dict)
    # Whether the store held users of the import's source when it began: if not, a user that
    # this import has not created does not exist yet, and is created without a lookup.
    source_stored: bool = True
    show_ids: dict[ShowRef, int] = field(default_factory=dict)


def _has_users(sessions: sessionmaker[Session], source: str) -> bool:
    with sessions() as session:
        found = session.execute(select(USERS.c.id).where(USERS.c.source == source).limit(1))
        return found.first() is not None


def newer_wins(new: datetime | None, old: datetime | None) -> bool:
    """Whether a rating stamped ``new`` replaces one stamped ``old`` (see the module docstring)."""
    if new is None:
        return old is None
    return old is None or new >= old


def _write_batch(
    sessions: sessionmaker[Session],
    batch: RatingColumns,
    source: str,
    like_threshold: float,
    file: str,
    stats: _BatchStats,
    turn: Turn[_Unit] = _ALONE,
) -> _Outcome:
    """Write one batch (users, shows, ratings) in one transaction; its counts and rejects.

    The caller adds them to the summary only after the commit, so a failed batch adds nothing.
    ``turn`` is the batch's place among batches written at once (see
    :mod:`nextshow.ratings.overlap`): ids are created in turn, the commit waits for the one
    before.
    Rows are handled as columns: each distinct user and show is resolved once, and the newest
    row per (user, show) is chosen by one sort.
    """
    done = ImportSummary()
    with transaction(sessions) as session:
        shows_before = stats.shows_created
        user_ids, new_users = _get_or_create_users(session, source, set(batch.user_keys), stats)
        users = np.array([user_ids[key] for key in batch.user_keys], dtype=np.int64)[batch.user]
        # File order, not set order: new shows get ids in the same order on every run.
        resolved = _resolve_shows(session, list(dict.fromkeys(batch.shows)), source, stats)
        shows = np.array([resolved.get(ref, -1) for ref in batch.shows], dtype=np.int64)
        shows = shows[batch.show]
        turn.resolved(stats.shows_created > shows_before)  # whether it created shows
        unresolved = shows < 0
        # This batch's rejects, reported only once it committed.
        rejected = [_unresolved(file, batch, int(row)) for row in np.flatnonzero(unresolved)]

        chosen = _newest(batch, users, shows, np.flatnonzero(~unresolved))
        done.skipped += int(np.count_nonzero(~unresolved)) - len(chosen)
        users, shows = users[chosen], shows[chosen]
        rating, stamp, dated = batch.rating[chosen], batch.stamp[chosen], batch.dated[chosen]
        stated = batch.liked[chosen]
        liked = np.where(stated >= 0, stated == 1, rating >= like_threshold)

        outcome = np.full(len(chosen), _INSERT, dtype=np.int8)
        # Users created by this batch have no stored ratings: only ask about the others.
        known = np.flatnonzero(~np.isin(users, np.fromiter(new_users, np.int64, len(new_users))))
        if len(known):
            outcome[known] = _against_store(
                session,
                users[known],
                shows[known],
                rating[known],
                liked[known],
                stamp[known],
                dated[known],
            )
        # Decided above. Ratings of users new in this batch cannot exist yet: plain inserts
        # (on PostgreSQL a COPY straight into the table); the others are upserted, so one
        # statement writes new rows and changed ones (their key exists).
        is_known = np.zeros(len(chosen), dtype=bool)
        is_known[known] = True
        for written, clause in (
            (np.flatnonzero(~is_known), ""),
            (np.flatnonzero(is_known & (outcome <= _UPDATE)), _upsert(session)),
        ):
            _write_ratings(
                session,
                source,
                (users[written], shows[written], rating[written], liked[written]),
                (stamp[written], dated[written]),
                clause,
            )
        counts = np.bincount(outcome, minlength=4)
        done.inserted += int(counts[_INSERT])
        done.updated += int(counts[_UPDATE])
        done.unchanged += int(counts[_UNCHANGED])
        done.skipped += int(counts[_SKIPPED])
        turn.before_commit()
    return _Outcome(done, rejected)


@dataclass
class _Outcome:
    """A committed batch's counts and its own rejects (shows that could not be resolved)."""

    done: ImportSummary
    rejected: list[Reject]

    def add_to(self, summary: ImportSummary) -> None:
        summary.inserted += self.done.inserted
        summary.updated += self.done.updated
        summary.unchanged += self.done.unchanged
        summary.skipped += self.done.skipped
        for reject in self.rejected:
            summary.reject(reject)


def _apart(previous: Turn[_Unit], unit: _Unit) -> bool:
    """Whether ``unit``'s batch may be written while ``previous``'s is: it cannot see what
    that one writes (no user in common, so no stored rating of one that the other decides
    against; no show created by the earlier one, which the later one's rows would refer to
    before it is committed)."""
    assert previous.unit.batch is not None and unit.batch is not None
    if previous.note:  # it created shows
        return False
    return set(unit.batch.user_keys).isdisjoint(previous.unit.batch.user_keys)


def _dialect(sessions: sessionmaker[Session]) -> str:
    return sessions.kw["bind"].dialect.name


# What becomes of a chosen row, given what the store holds for its (user, show).
_INSERT, _UPDATE, _UNCHANGED, _SKIPPED = 0, 1, 2, 3


def _unresolved(file: str, batch: RatingColumns, row: int) -> Reject:
    show = batch.shows[batch.show[row]]
    reason = (
        f"no show with id {show.show_id}"
        if show.show_id is not None
        else "show could not be created (conflicting catalogue entry)"
    )
    return Reject(file, int(batch.lines[row]), "show_id", reason, batch.raws[row])


def _newest(
    batch: RatingColumns, users: np.ndarray, shows: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Of ``rows``, the newest row per (user, show), ordered by (user, show).

    What :func:`newer_wins` keeps of rows applied in file order: the greatest by (dated, time,
    line), so the latest time wins, a dated row beats an undated one, and the later line breaks
    ties.
    """
    keys = (batch.lines[rows], batch.stamp[rows], batch.dated[rows], shows[rows], users[rows])
    order = rows[np.lexsort(keys)]
    user, show = users[order], shows[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (user[1:] != user[:-1]) | (show[1:] != show[:-1])
    return order[last]


def _against_store(
    session: Session,
    users: np.ndarray,
    shows: np.ndarray,
    rating: np.ndarray,
    liked: np.ndarray,
    stamp: np.ndarray,
    dated: np.ndarray,
) -> np.ndarray:
    """The outcome of each row against the rating the store holds for its pair, if any."""
    pairs = list(zip(users.tolist(), shows.tolist(), strict=True))
    existing = _existing_ratings(session, pairs)
    outcome = np.full(len(pairs), _INSERT, dtype=np.int8)
    if not existing:
        return outcome
    ratings = [None if r != r else r for r in rating.tolist()]  # NaN: no rating
    for i, (pair, value, like, micros, has_time) in enumerate(
        zip(pairs, ratings, liked.tolist(), stamp.tolist(), dated.tolist(), strict=True)
    ):
        old = existing.get(pair)
        if old is None:
            continue
        when = EPOCH + timedelta(microseconds=micros) if has_time else None
        if not newer_wins(when, old[2]):
            outcome[i] = _SKIPPED
        elif old == (value, like, when):
            outcome[i] = _UNCHANGED
        else:
            outcome[i] = _UPDATE
    return outcome


def _upsert(session: Session) -> str:
    return upsert_clause(session, ("user_id", "show_id"), _RATING_COLUMNS[2:])


def _write_ratings(
    session: Session,
    source: str,
    values: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    times: tuple[np.ndarray, np.ndarray],
    on_conflict: str,
) -> None:
    """Insert the ratings (user ids, show ids, ratings with NaN for none, liked flags), stamped
    with times (microseconds, and whether there is one); each column is bound as a whole, then
    one bulk statement."""
    users, shows, rating, liked = values
    stamp, dated = times
    if not len(users):
        return
    dialect = session.get_bind().dialect

    def bound(name: str, value: Any) -> Any:
        processor = RATINGS.c[name].type._cached_bind_processor(dialect)
        return value if processor is None else processor(value)

    ratings = rating.astype(object)
    ratings[np.isnan(rating)] = None
    flags = [bound("liked", False), bound("liked", True)]
    count = len(users)
    columns = [
        users.tolist(),
        shows.tolist(),
        ratings.tolist(),
        [flags[flag] for flag in liked.tolist()],
        bound_epoch_micros(dialect, stamp, dated),
        [bound("source", source)] * count,
        [bound("updated_at", datetime.now(UTC))] * count,
    ]
    bulk_insert_bound(session, RATINGS, _RATING_COLUMNS, columns, on_conflict)


def _get_or_create_users(
    session: Session, source: str, keys: set[str], stats: _BatchStats
) -> tuple[dict[str, int], set[int]]:
    """Ids of the users (source, key), creating the missing ones; and the ids just created."""

    def lookup(wanted: list[str]) -> dict[str, int]:
        sql = "SELECT external_id, id FROM users WHERE source = {p} AND external_id IN ({in_})"
        return dict(rows_where_in(session, sql, wanted, (source,)))  # type: ignore[arg-type]

    # Users seen by an earlier batch of this import are known (a user's lines are usually
    # together, but a file need not be sorted).
    ids = {key: stats.user_ids[key] for key in keys if key in stats.user_ids}
    unknown = sorted(keys - ids.keys())
    if stats.source_stored:  # else every user not created by this import is new: no lookup
        ids.update(lookup(unknown))
        unknown = [key for key in unknown if key not in ids]
    fixed = {"source": source, "anonymous": False, "created_at": datetime.now(UTC)}
    created = dict(
        insert_returning(session, USERS, "external_id", unknown, fixed, ("external_id", "id"))
    )
    ids.update(created)
    stats.users_created += len(created)
    # Keys the insert skipped: created meanwhile by another writer (concurrent imports of one
    # source are not supported, but they stay correct): found now, and not new.
    ids.update(lookup([key for key in unknown if key not in created]))
    stats.user_ids.update(ids)
    return ids, set(created.values())


def _resolve_shows(
    session: Session, refs: list[ShowRef], source: str, stats: _BatchStats
) -> dict[ShowRef, int]:
    """Show id of every reference that can be resolved; missing shows are created.

    Internal ids must exist (unresolved ones are absent from the result). Shows named by IMDb id
    or by the file's item id are got or created first, so that a title in the same batch can
    match them; titles are then matched exactly on the normalised title (and year), and the
    unmatched ones become shows of this source keyed by normalised title + year, so a re-import
    finds them again.
    """
    resolved = {ref: stats.show_ids[ref] for ref in refs if ref in stats.show_ids}
    refs = [ref for ref in refs if ref not in resolved]
    known_ids = existing_show_ids(session, [ref.show_id for ref in refs if ref.show_id is not None])
    by_title: dict[ShowRef, tuple[str, int | None]] = {}
    keyed: dict[ShowRef, ShowSpec] = {}
    for ref in refs:
        if ref.show_id is not None:
            if ref.show_id in known_ids:
                resolved[ref] = ref.show_id
        elif ref.imdb_id is not None or ref.external_id is not None:
            keyed[ref] = _spec(ref, source, ref.external_id or ref.imdb_id)
        elif ref.title:
            by_title[ref] = (normalize_title(ref.title), ref.year)
    _create(session, keyed, resolved, stats)

    title_ids = find_shows_by_title(session, by_title.values())
    unmatched: dict[ShowRef, ShowSpec] = {}
    for ref, title_key in by_title.items():
        if title_key in title_ids:
            resolved[ref] = title_ids[title_key]
        else:
            unmatched[ref] = _spec(ref, source, external_key(*title_key))
    _create(session, unmatched, resolved, stats)
    stats.show_ids.update(resolved)
    return resolved


def _create(
    session: Session,
    specs: dict[ShowRef, ShowSpec],
    resolved: dict[ShowRef, int],
    stats: _BatchStats,
) -> None:
    if not specs:
        return
    written = get_or_create_shows(session, specs.values())
    stats.shows_created += written.inserted
    for ref, spec in specs.items():
        if spec.key in written.ids:
            resolved[ref] = written.ids[spec.key]


def _spec(ref: ShowRef, source: str, external_id: str | None) -> ShowSpec:
    return ShowSpec(
        title=ref.title or ref.imdb_id or f"{ref.source or source} {external_id}",
        source=ref.source or source,
        external_id=external_id,
        imdb_id=ref.imdb_id,
        start_year=ref.year,
        genres=ref.genres,
    )


def _existing_ratings(
    session: Session, pairs: list[tuple[int, int]]
) -> dict[tuple[int, int], tuple[float | None, bool, datetime | None]]:
    """The stored (rating, liked, rated_at) of each (user_id, show_id) pair that exists.

    Selected by user id only, then filtered to the wanted pairs: a prefix scan of the primary key
    per user. (``user_id IN .. AND show_id IN ..`` makes SQLite probe every combination, and one
    bound value per pair costs more than the few extra rows of these users.)
    """
    found: dict[tuple[int, int], tuple[float | None, bool, datetime | None]] = {}
    wanted = set(pairs)
    users = sorted({user_id for user_id, _ in wanted})
    cols = (RATINGS.c.user_id, RATINGS.c.show_id, RATINGS.c.rating, RATINGS.c.liked)
    for part in chunks(users):
        rows = session.execute(select(*cols, RATINGS.c.rated_at).where(RATINGS.c.user_id.in_(part)))
        for user_id, show_id, rating, liked, rated_at in rows:
            if (user_id, show_id) in wanted:
                found[(user_id, show_id)] = (rating, liked, rated_at)
    return found
