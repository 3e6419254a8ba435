"""Prediction requests in the database: create (API), process (worker), read (API).

Processing is idempotent so the queue may deliver a task more than once (a retry after a
transient error, a worker killed after committing but before acknowledging, the periodic
re-enqueue of stale requests): a request that is no longer ``pending`` is left alone, and likes
are written with INSERT ... ON CONFLICT on the ratings key (user_id, show_id), so a second run
never records a like twice. A worker processes a batch of requests at once (those queued
together): it claims them, writes their likes and results, and marks them done in one
transaction; the claim makes concurrent deliveries of one request write it once.
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
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from nextshow.db.lookup import id_in
from nextshow.db.models import FEEDBACK_SOURCE, PredictionRequest, Rating, User, utcnow
from nextshow.db.upsert import conflict_insert
from nextshow.schemas.predictions import (
    InputMatch,
    InputMatches,
    PredictionAccepted,
    dump_results,
)
from nextshow.service.holder import ServingModel
from nextshow.service.recommend import answers, liked_ids

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
    executor: Session | Connection,
    *,
    inputs: Sequence[str],
    matches: list[InputMatch],
    user_external_id: str | None,
    n: int,
    idempotency_key: str | None = None,
    client_key: str | None = None,
) -> tuple[PredictionAccepted, bool]:
    """Store a pending request (the caller commits); returns its 202 body and whether it is new.

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
        executor.execute(_statement(executor, "request_insert", _build_request_insert), values)
        # No read-back: the row is exactly ``values``.
        return PredictionAccepted(prediction_id=request_id, status="pending", matches=matches), True
    # Two concurrent POSTs with one key: the database lets exactly one row in.
    insert_once = _statement(executor, "request_insert_once", _build_request_insert_once)
    executor.execute(insert_once, values)
    table = PredictionRequest.__table__
    row = executor.execute(select(table).where(table.c.idempotency_key == idempotency_key)).one()
    if row.id != request_id and row.inputs != body:
        raise IdempotencyConflict(
            f"Idempotency-Key {idempotency_key!r} was used for another request"
        )
    return PredictionAccepted.model_validate(row), row.id == request_id


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(
    executor: Session | Connection, name: str, build: Callable[[Session | Connection], Any]
) -> Any:
    """The statement ``name`` for the dialect of ``executor``, built once.

    The worker writes a few statements per prediction; building them anew each time (and
    SQLAlchemy computing their cache keys from the built tree) cost more CPU than running them.
    Values go in as execution parameters.
    """
    key = (_dialect_name(executor), name)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build(executor)
    return stmt


def _dialect_name(executor: Session | Connection) -> str:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


def _build_request_insert(session: Session) -> Any:
    return conflict_insert(session, PredictionRequest.__table__)


def _build_request_insert_once(session: Session) -> Any:
    insert = conflict_insert(session, PredictionRequest.__table__)
    return insert.on_conflict_do_nothing(index_elements=["idempotency_key"])


def _build_user_insert(session: Session | Connection) -> Any:
    # RETURNING gives the new ids in the same round trip (anonymous users are always new); a
    # conflict returns no row, and the existing users are read.
    insert = conflict_insert(session, User.__table__)
    return insert.on_conflict_do_nothing(index_elements=["source", "external_id"]).returning(
        User.external_id, User.id
    )


def _build_user_select(session: Session | Connection) -> Any:
    return select(User.external_id, User.id).where(
        User.source == WEB_SOURCE, id_in(User.external_id, _dialect_name(session))
    )


def _build_likes_upsert(session: Session | Connection) -> Any:
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


def _build_claim(session: Session | Connection) -> Any:
    # Counting the attempt locks the rows (PostgreSQL) until the transaction ends: a concurrent
    # delivery of the same request waits here, then finds it no longer pending and gets no row.
    table = PredictionRequest.__table__
    return (
        update(table)
        .where(id_in(table.c.id, _dialect_name(session)), table.c.status == "pending")
        .values(attempts=table.c.attempts + 1)
        .returning(table.c.id)
    )


def _build_mark_done(_session: Session | Connection) -> Any:
    # Per request: user_id, results, model_version_id, fallback and updated_at come as
    # parameters (an executemany over the batch).
    table = PredictionRequest.__table__
    return update(table).where(table.c.id == bindparam("request_id")).values(status="done")


def _build_read_requests(session: Session | Connection) -> Any:
    table = PredictionRequest.__table__
    return select(table).where(id_in(table.c.id, _dialect_name(session)))


def ensure_users(session: Session, users: dict[str, bool]) -> dict[str, int]:
    """Ids of the web users ``{external_id: anonymous}``, each created once even under
    concurrent calls."""
    now = utcnow()
    # In key order: two transactions creating the same users then wait for each other in the
    # same order and cannot deadlock.
    rows = [
        {"external_id": key, "source": WEB_SOURCE, "anonymous": anonymous, "created_at": now}
        for key, anonymous in sorted(users.items())
    ]
    created = session.execute(_statement(session, "user_insert", _build_user_insert), rows)
    ids: dict[str, int] = {key: user_id for key, user_id in created}
    missing = [external_id for external_id in users if external_id not in ids]
    if missing:
        lookup = _statement(session, "user_select", _build_user_select)
        ids.update((key, user_id) for key, user_id in session.execute(lookup, {"ids": missing}))
    return ids


def record_likes(session: Session, likes: Collection[tuple[int, int]]) -> None:
    """Record each (user id, show id) as a like: the feedback the next training reads."""
    if not likes:
        return
    now = utcnow()
    # In key order: two transactions liking the same shows for one user (PostgreSQL, two
    # requests of a named user) then lock the rows in the same order and cannot deadlock.
    session.execute(  # one statement with a parameter list (executemany)
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
            for user_id, show_id in sorted(set(likes))
        ],
    )


@dataclass(frozen=True)
class _Answered:
    """A pending request with its answer computed, ready to be written."""

    request_id: str
    external_id: str
    anonymous: bool
    liked: list[int]
    results: str
    fallback: bool


def _answered(rows: Sequence[Any], model: ServingModel) -> list[_Answered]:
    """The requests' answers, scored in one batch."""
    liked = [liked_ids(InputMatches.validate_json(row.matches)) for row in rows]
    results = answers(model, [(likes, row.n, ()) for likes, row in zip(liked, rows, strict=True)])
    out = []
    for row, likes, result in zip(rows, liked, results, strict=True):
        if row.user_external_id is None:
            external_id, anonymous = f"anon:{row.id}", True
        else:
            external_id, anonymous = row.user_external_id, False
        out.append(
            _Answered(
                row.id,
                external_id,
                anonymous,
                likes,
                dump_results(result),
                result.model.fallback,
            )
        )
    return out


def process_request(
    sessions: sessionmaker[Session], model: ServingModel, request_id: str
) -> str | None:
    """:func:`process_requests` for one request: its final status (None: no such request)."""
    return process_requests(sessions, model, [request_id])[request_id]


def process_requests(
    sessions: sessionmaker[Session], model: ServingModel, request_ids: Sequence[str]
) -> dict[str, str | None]:
    """Record each request's likes and store its recommendations; returns the final statuses.

    ``None`` for an id with no request. Safe to run any number of times (see module doc). The
    requests are scored in one batch and written in one transaction. One that fails does not
    hold back the others: when the batch's scoring fails, each request is scored alone and one
    whose answer fails is marked failed at once; when the batch's write fails, each request is
    written alone, and a database error of one is raised after the others are written (the
    caller retries, and only what is still pending is done again).
    """
    statuses: dict[str, str | None] = dict.fromkeys(request_ids)
    # Read and compute outside any write transaction: on SQLite the database-wide write lock is
    # then held only for the few statements below, not while the model scores.
    pending = []
    for row in read_requests(sessions, request_ids):
        statuses[row.id] = row.status
        if row.status == "pending":
            pending.append(row)
    for request_id, status in statuses.items():
        if status is None:
            log.warning("prediction %s does not exist", request_id)
    work: list[_Answered] = []
    try:
        work = _answered(pending, model)
    except Exception:  # one request's answer fails: find it, and answer the others
        for row in pending:
            try:
                work += _answered([row], model)
            except Exception as err:  # a bug or a model error: no retry can fix it
                statuses[row.id] = _fail(sessions, row.id, err)
    if len(work) > 1:
        try:
            statuses.update(_write(sessions, model, work))
            return statuses
        except Exception:
            log.warning("writing %d predictions at once failed", len(work), exc_info=True)
    retry: DBAPIError | None = None
    for item in work:
        try:
            statuses.update(_write(sessions, model, [item]))
        except DBAPIError as err:  # transient, perhaps: the caller may retry
            log.warning("prediction %s: %s", item.request_id, err.__class__.__name__)
            retry = retry or err
        except Exception as err:
            statuses[item.request_id] = _fail(sessions, item.request_id, err)
    if retry is not None:
        raise retry
    return statuses


def _fail(sessions: sessionmaker[Session], request_id: str, err: Exception) -> str:
    """Log ``err`` and mark the request failed; its new status."""
    log.exception("prediction %s failed", request_id)
    mark_failed(sessions, request_id, f"{err.__class__.__name__}: {err}")
    return "failed"


def _write(
    sessions: sessionmaker[Session], model: ServingModel, work: Sequence[_Answered]
) -> dict[str, str | None]:
    """Claim, like, answer and mark done in one transaction; the requests' statuses."""
    with write_guard(sessions), sessions() as session:
        claim = _statement(session, "claim", _build_claim)
        claimed = set(session.scalars(claim, {"ids": [item.request_id for item in work]}))
        # The others were done by a concurrent delivery (its commit came first).
        mine = [item for item in work if item.request_id in claimed]
        if mine:
            users = ensure_users(session, {item.external_id: item.anonymous for item in mine})
            record_likes(
                session, [(users[item.external_id], s) for item in mine for s in item.liked]
            )
            now = utcnow()
            session.execute(
                _statement(session, "mark_done", _build_mark_done),
                [
                    {
                        "request_id": item.request_id,
                        "user_id": users[item.external_id],
                        "results": item.results,  # recommendations and the model
                        "model_version_id": model.version_id,
                        "fallback": item.fallback,
                        "updated_at": now,
                    }
                    for item in mine
                ],
            )
        session.commit()
    statuses: dict[str, str | None] = {item.request_id: "done" for item in mine}
    if len(mine) < len(work):
        others = [item.request_id for item in work if item.request_id not in claimed]
        statuses.update((row.id, row.status) for row in read_requests(sessions, others))
    log.debug("%d predictions done with %s", len(mine), model.name)
    return statuses


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


def read_requests(sessions: sessionmaker[Session], request_ids: Sequence[str]) -> list[Any]:
    """The rows of those of ``request_ids`` that exist (Core rows, in no particular order)."""
    with autocommit_engine(sessions.kw["bind"]).connect() as conn:
        stmt = _statement(conn, "read_requests", _build_read_requests)
        return list(conn.execute(stmt, {"ids": list(request_ids)}))


def read_request(sessions: sessionmaker[Session], request_id: str) -> Any:
    """The request's row (attribute access like the ORM object), or None; for status polls.

    A Core SELECT on a pooled connection: no session, unit of work or identity map to set up.
    """
    table = PredictionRequest.__table__
    with autocommit_engine(sessions.kw["bind"]).connect() as conn:
        return conn.execute(select(table).where(table.c.id == request_id)).first()


def autocommit_engine(engine: Engine) -> Engine:
    """``engine`` for single statements: on PostgreSQL in autocommit.

    A statement in a transaction costs three round trips (BEGIN, the statement, COMMIT or the
    ROLLBACK when the connection goes back to the pool); autocommit sends the statement alone.
    Clients poll status many times per prediction, and most POSTs write one row. pysqlite
    begins no transaction for a SELECT (nothing to save) and one for a write, which
    ``engine.begin()`` commits.
    """
    if engine.dialect.name == "sqlite":
        return engine
    # Kept on the engine (a weak map would hold it: the option engine refers to its parent).
    read = engine.__dict__.get("_nextshow_autocommit")
    if read is None:
        read = engine.execution_options(isolation_level="AUTOCOMMIT")
        engine.__dict__["_nextshow_autocommit"] = read
    return read
