"""Prediction requests in the database: create (API), process (worker), read (API).

Processing is idempotent so the queue may deliver a task more than once (a retry after a
transient error, a worker killed after committing but before acknowledging, the periodic
re-enqueue of stale requests): a request that is no longer ``pending`` is left alone, and likes
are written with INSERT ... ON CONFLICT on the ratings key (user_id, show_id), so a second run
never records a like twice. Likes, results and the status change commit in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from nextshow.db.models import FEEDBACK_SOURCE, PredictionRequest, Rating, User, utcnow
from nextshow.db.upsert import conflict_insert
from nextshow.schemas.predictions import InputMatch, InputMatches
from nextshow.service.holder import ServingModel
from nextshow.service.recommend import answer, liked_ids

try:
    import fcntl
except ImportError:  # Windows: the thread lock alone (one process per database there)
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

WEB_SOURCE = FEEDBACK_SOURCE


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused with a different request body."""


class SqliteWriteGuard:
    """One writer at a time: a thread lock in the process, a ``flock`` across processes."""

    def __init__(self, database: str | None) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        if fcntl is not None and database and database != ":memory:":
            self._fd = os.open(f"{database}-writelock", os.O_RDWR | os.O_CREAT, 0o644)
            weakref.finalize(self, os.close, self._fd)

    def __enter__(self) -> None:
        self._lock.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._lock.release()
                raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()


_WRITE_GUARDS: weakref.WeakKeyDictionary[Engine, SqliteWriteGuard] = weakref.WeakKeyDictionary()
_WRITE_GUARDS_LOCK = threading.Lock()


def write_guard(sessions: sessionmaker[Session]) -> contextlib.AbstractContextManager[Any]:
    """Hold around a whole write transaction: on SQLite, one writer at a time.

    SQLite has a single write lock, and a connection that finds it taken sleeps in its busy
    handler for 1, 2, 5, 10, ... up to 100 ms between tries, however soon the lock is freed.
    With API threads and the worker process all writing, waiters oversleep, the worker starves
    and the queue backs up (seconds of POST -> done at 50 requests/s). Writers that queue on
    this guard instead (a thread lock, then an exclusive ``flock`` on ``<database>-writelock``,
    which the kernel hands over the moment it is released) find the database lock free. Other
    writers (imports, training) still work: they meet the busy handler as before. PostgreSQL
    locks rows, not the database: no guard there.
    """
    engine = sessions.kw.get("bind")
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    with _WRITE_GUARDS_LOCK:
        guard = _WRITE_GUARDS.get(engine)
        if guard is None:
            guard = _WRITE_GUARDS[engine] = SqliteWriteGuard(engine.url.database)
    return guard


def client_key(address: str | None) -> str | None:
    """A stable, non-reversible-at-a-glance key for a client address (None when unknown)."""
    if not address:
        return None
    return hashlib.sha256(address.encode()).hexdigest()[:32]


def create_request(
    session: Session,
    *,
    inputs: Sequence[str],
    matches: list[InputMatch],
    user_external_id: str | None,
    n: int,
    idempotency_key: str | None = None,
    client_key: str | None = None,
) -> tuple[PredictionRequest, bool]:
    """Store a pending request (the caller commits); returns it and whether it is new.

    With an ``idempotency_key`` already used for the same inputs, the earlier request is
    returned; for other inputs, :class:`IdempotencyConflict`.
    """
    body = json.dumps({"shows": list(inputs), "user_id": user_external_id, "n": n})
    now = utcnow()
    request_id = str(uuid.uuid4())
    values = {
        "id": request_id,
        "status": "pending",
        "inputs": body,
        "matches": InputMatches.dump_json(matches).decode(),
        "user_external_id": user_external_id,
        "n": n,
        "attempts": 0,
        "idempotency_key": idempotency_key,
        "client_key": client_key,
        "created_at": now,
        "updated_at": now,
    }
    if idempotency_key is None:
        session.execute(_statement(session, "request_insert", _build_request_insert), values)
    else:
        # Two concurrent POSTs with one key: the database lets exactly one row in.
        stmt = _statement(session, "request_insert_once", _build_request_insert_once)
        session.execute(stmt, values)
    if idempotency_key is not None:
        row = session.scalars(
            select(PredictionRequest).where(PredictionRequest.idempotency_key == idempotency_key)
        ).one()
        if row.id != request_id:
            if row.inputs != body:
                raise IdempotencyConflict(
                    f"Idempotency-Key {idempotency_key!r} was used for another request"
                )
            return row, False
        return row, True
    # No read-back: the row is exactly ``values`` (a detached copy saves a SELECT per POST).
    return PredictionRequest(**values), True


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(session: Session, name: str, build: Callable[[Session], Any]) -> Any:
    """The statement ``name`` for the session's dialect, built once.

    The worker writes a few statements per prediction; building them anew each time (and
    SQLAlchemy computing their cache keys from the built tree) cost more CPU than running them.
    Values go in as execution parameters.
    """
    key = (session.get_bind().dialect.name, name)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build(session)
    return stmt


def _build_request_insert(session: Session) -> Any:
    return conflict_insert(session, PredictionRequest.__table__)


def _build_request_insert_once(session: Session) -> Any:
    insert = conflict_insert(session, PredictionRequest.__table__)
    return insert.on_conflict_do_nothing(index_elements=["idempotency_key"])


def _build_user_insert(session: Session) -> Any:
    # RETURNING gives the new id in the same round trip (an anonymous user is always new); a
    # conflict returns no row, and the existing user is read.
    insert = conflict_insert(session, User.__table__)
    return insert.on_conflict_do_nothing(index_elements=["source", "external_id"]).returning(
        User.id
    )


def _build_user_select(_session: Session) -> Any:
    return select(User.id).where(
        User.source == bindparam("source"), User.external_id == bindparam("external_id")
    )


def _build_likes_upsert(session: Session) -> Any:
    # ON CONFLICT on the primary key (user_id, show_id): a row that is already a like is left
    # untouched (its updated_at too, so it is not counted as a new like again); an earlier
    # rating below the like threshold becomes a like, because the user now says so.
    stmt = conflict_insert(session, Rating.__table__)
    return stmt.on_conflict_do_update(
        index_elements=["user_id", "show_id"],
        set_={
            "liked": True,
            "source": stmt.excluded.source,
            "rated_at": stmt.excluded.rated_at,
            "updated_at": stmt.excluded.updated_at,
        },
        where=Rating.__table__.c.liked.is_(False),
    )


def _build_mark_done(_session: Session) -> Any:
    # Conditional on "pending": see process_request.
    table = PredictionRequest.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("request_id"), table.c.status == "pending")
        .values(status="done", attempts=table.c.attempts + 1)
    )


def ensure_user(session: Session, *, external_id: str, anonymous: bool) -> int:
    """The id of the web user ``external_id``, created once even under concurrent calls."""
    values = {
        "external_id": external_id,
        "source": WEB_SOURCE,
        "anonymous": anonymous,
        "created_at": utcnow(),
    }
    created = session.execute(_statement(session, "user_insert", _build_user_insert), values)
    row = created.first()
    if row is not None:
        return row[0]
    lookup = _statement(session, "user_select", _build_user_select)
    return session.scalars(lookup, {"source": WEB_SOURCE, "external_id": external_id}).one()


def record_likes(session: Session, *, user_id: int, show_ids: Sequence[int]) -> None:
    """Record ``show_ids`` as likes of ``user_id``: the feedback the next training reads."""
    if not show_ids:
        return
    # In key order: two transactions liking the same shows for one user (PostgreSQL, two
    # requests of a named user) then lock the rows in the same order and cannot deadlock.
    show_ids = sorted(set(show_ids))
    now = utcnow()
    # One statement with a parameter list (executemany).
    session.execute(
        _statement(session, "likes_upsert", _build_likes_upsert),
        [
            {
                "user_id": user_id,
                "show_id": show_id,
                "rating": None,
                "liked": True,
                "source": WEB_SOURCE,
                "rated_at": now,
                "updated_at": now,
            }
            for show_id in show_ids
        ],
    )


def process_request(
    sessions: sessionmaker[Session], model: ServingModel, request_id: str
) -> str | None:
    """Record the request's likes and store its recommendations; returns the final status.

    ``None`` when no such request exists. Safe to run any number of times (see module doc).
    """
    # Read and compute outside any write transaction: on SQLite the database-wide write lock is
    # then held only for the few statements below, not while the model scores.
    request = read_request(sessions, request_id)
    if request is None:
        log.warning("prediction %s does not exist", request_id)
        return None
    if request.status != "pending":
        return request.status
    liked = liked_ids(InputMatches.validate_json(request.matches))
    result = answer(model, liked, request.n)
    if request.user_external_id is None:
        external_id, anonymous = f"anon:{request.id}", True
    else:
        external_id, anonymous = request.user_external_id, False
    with write_guard(sessions), sessions() as session:
        user_id = ensure_user(session, external_id=external_id, anonymous=anonymous)
        record_likes(session, user_id=user_id, show_ids=liked)
        # The status change is conditional: a second delivery that got here too (PostgreSQL:
        # it waits on the row until the first commits, then sees "done") changes no row and
        # rolls back. Its likes were no-ops anyway (ON CONFLICT), so none is recorded twice.
        changed = session.execute(
            _statement(session, "mark_done", _build_mark_done),
            {
                "request_id": request_id,
                "user_id": user_id,
                "results": result.model_dump_json(),  # recommendations and the model
                "model_version_id": model.version_id,
                "fallback": result.model.fallback,
                "updated_at": utcnow(),
            },
        ).rowcount
        if changed != 1:
            session.rollback()
            now = read_request(sessions, request_id)
            return None if now is None else now.status
        session.commit()
    log.debug("prediction %s done with %s", request_id, result.model)
    return "done"


def mark_failed(sessions: sessionmaker[Session], request_id: str, error: str) -> None:
    """Give up on a request (no retries left, or an error no retry can fix)."""
    with write_guard(sessions), sessions() as session, session.begin():
        request = session.get(PredictionRequest, request_id, with_for_update=True)
        if request is not None and request.status == "pending":
            request.status = "failed"
            request.error = error[:2000]
            request.updated_at = utcnow()


def stale_pending(
    sessions: sessionmaker[Session], older_than: timedelta, limit: int = 1000
) -> list[str]:
    """Ids of requests still pending after ``older_than``, oldest first: their task was lost
    (e.g. Redis restarted without persistence, or the worker running it died) or never enqueued
    (the queue was down at POST time)."""
    cutoff = utcnow() - older_than
    with sessions() as session:
        return list(
            session.scalars(
                select(PredictionRequest.id)
                .where(PredictionRequest.status == "pending", PredictionRequest.created_at < cutoff)
                .order_by(PredictionRequest.created_at)
                .limit(limit)
            )
        )


def oldest_pending_age(sessions: sessionmaker[Session]) -> float | None:
    """Seconds the oldest pending request has waited, None when nothing is pending."""
    with sessions() as session:
        oldest = session.scalar(
            select(func.min(PredictionRequest.created_at)).where(
                PredictionRequest.status == "pending"
            )
        )
    if oldest is None:
        return None
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    return max((utcnow() - oldest).total_seconds(), 0.0)


def read_request(sessions: sessionmaker[Session], request_id: str) -> Any:
    """The request's row (attribute access like the ORM object), or None; for status polls.

    A Core SELECT on a pooled connection: no session, unit of work or identity map to set up.
    """
    table = PredictionRequest.__table__
    with read_engine(sessions.kw["bind"]).connect() as conn:
        return conn.execute(select(table).where(table.c.id == request_id)).first()


def read_engine(engine: Engine) -> Engine:
    """``engine`` for single-statement reads: on PostgreSQL in autocommit.

    A read in a transaction costs three round trips (BEGIN, SELECT, ROLLBACK when the
    connection goes back to the pool); autocommit sends the SELECT alone. Clients poll status
    many times per prediction. pysqlite begins no transaction for a SELECT: nothing to save.
    """
    if engine.dialect.name == "sqlite":
        return engine
    # Kept on the engine (a weak map would hold it: the option engine refers to its parent).
    read = engine.__dict__.get("_nextshow_autocommit")
    if read is None:
        read = engine.execution_options(isolation_level="AUTOCOMMIT")
        engine.__dict__["_nextshow_autocommit"] = read
    return read
