"""Long-poll: hold ``GET /api/predictions/{id}?wait=S`` until the prediction is settled.

Clients that poll every few tens of milliseconds spend most of the API's CPU on answers that say
"pending". One :class:`PredictionWaiter` per API process holds such requests instead: while
anyone waits, a single task asks the database every ``interval`` seconds which of ALL the waited
ids are no longer pending (one ``SELECT ... WHERE id IN (...) AND status != 'pending'``) and
hands each waiting request its row. The cost is one query per interval, however many wait, and
nothing runs when no one waits. Asking the database rather than listening for a message from the
worker makes it work unchanged on every configuration (SQLite with a worker child process,
PostgreSQL with N API and N worker processes): every worker writes the status there anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from nextshow.db.lookup import id_in
from nextshow.db.models import PredictionRequest
from nextshow.service.predictions import autocommit_engine

log = logging.getLogger(__name__)

T = TypeVar("T")

# Long enough that a check of a few hundred ids costs a small share of a core, short enough
# that an answer waits at most this long after the worker commits it.
CHECK_INTERVAL_SECONDS = 0.015

# What a wait answers when the check found no such prediction (the route says 404).
NOT_FOUND: Any = object()

_table = PredictionRequest.__table__
_CHECK = {
    dialect: select(_table).where(
        id_in(_table.c.id, dialect),
        or_(_table.c.status != "pending", id_in(_table.c.id, dialect, "new")),
    )
    for dialect in ("postgresql", "sqlite")
}


async def run_read(sessions: sessionmaker[Session], read: Callable[..., T], *args: Any) -> T:
    """Run a short read without blocking the event loop longer than it must.

    On SQLite the read (rows by primary key; WAL readers never wait for writers) runs on the
    event loop: a thread-pool hop costs more than the read. PostgreSQL's network round trip goes
    to a thread.
    """
    if sessions.kw["bind"].dialect.name == "sqlite":
        return read(sessions, *args)
    return await run_in_threadpool(read, sessions, *args)


def settled_requests(
    sessions: sessionmaker[Session], request_ids: Sequence[str], new_ids: Sequence[str] = ()
) -> list[Any]:
    """The rows of those of ``request_ids`` that are no longer pending (done or failed), and of
    those of ``new_ids`` (a subset) whatever their status: an id of it without a row does not
    exist."""
    engine = sessions.kw["bind"]
    params = {"ids": list(request_ids), "new": list(new_ids)}
    with autocommit_engine(engine).connect() as conn:
        return list(conn.execute(_CHECK[engine.dialect.name], params))


class PredictionWaiter:
    """Waits for predictions to settle, for every waiting request of this process at once.

    At most ``limit`` requests wait at a time (the connection limit: beyond it a client is
    answered at once, as without ``wait``), so waiting clients cannot grow memory or the query
    without bound. :meth:`close` (shutdown) answers every waiting request at once.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        limit: int,
        interval: float = CHECK_INTERVAL_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._limit = limit
        self._interval = interval
        self._waiting: dict[str, list[asyncio.Future[Any]]] = {}
        self._unchecked: set[str] = set()  # waited ids that no check has found yet
        self._count = 0
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        # Counters, for tests and curiosity: queries run, the most ids one query covered,
        # requests answered by a check, and requests refused a wait (over the limit, closing).
        self.checks = 0
        self.largest_check = 0
        self.settled = 0
        self.refused = 0

    @property
    def waiting(self) -> int:
        """Requests waiting now."""
        return self._count

    @property
    def running(self) -> bool:
        """Whether the checking task runs (only while someone waits)."""
        return self._task is not None

    async def wait(self, request_id: str, timeout: float) -> Any:
        """The request's row once it is done or failed; :data:`NOT_FOUND` when the first check
        finds no such request; None after ``timeout`` seconds, or at once when the waiter is
        full or closed (the caller then reads the current state).

        The caller need not read the request first: the next check (within one interval) tells
        whether it exists, in the same query for every new id.
        """
        if self._closed or self._count >= self._limit:
            self.refused += 1
            return None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if request_id not in self._waiting:
            self._unchecked.add(request_id)
        self._waiting.setdefault(request_id, []).append(future)
        self._count += 1
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="prediction-waiter")
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            return None
        finally:
            self._count -= 1
            futures = self._waiting.get(request_id)
            if futures is not None and future in futures:
                futures.remove(future)
                if not futures:
                    del self._waiting[request_id]
                    self._unchecked.discard(request_id)

    async def _run(self) -> None:
        """Check every waited id each interval until no one waits."""
        try:
            while self._waiting:
                await asyncio.sleep(self._interval)
                ids = list(self._waiting)
                if not ids:
                    break
                new = [i for i in ids if i in self._unchecked]
                rows = await run_read(self._sessions, settled_requests, ids, new)
                self.checks += 1
                self.largest_check = max(self.largest_check, len(ids))
                self._unchecked.difference_update(new)
                missing = set(new)
                for row in rows:
                    missing.discard(row.id)
                    if row.status != "pending":
                        self._answer(row.id, row)
                for request_id in missing:
                    self._answer(request_id, NOT_FOUND)
        except Exception:
            # The database is down: let everyone go; each reads its state itself (a 503).
            log.exception("checking waited predictions failed; answering the waiting clients")
            self._release()
        finally:
            self._task = None

    def _answer(self, request_id: str, answer: Any) -> None:
        for future in self._waiting.pop(request_id, ()):
            if not future.done():
                future.set_result(answer)
                if answer is not NOT_FOUND:
                    self.settled += 1

    def _release(self) -> None:
        for futures in self._waiting.values():
            for future in futures:
                if not future.done():
                    future.set_result(None)
        self._waiting.clear()
        self._unchecked.clear()

    def close(self) -> None:
        """Answer every waiting request now and refuse new waits (the server is stopping)."""
        self._closed = True
        self._release()
