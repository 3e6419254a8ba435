"""The prediction queue (Huey): SQLite storage by default, Redis for the scale configuration.

Huey pickles task messages by default, and unpickling runs code: anyone able to write to the
queue's storage could then run code in the worker. We replace its serializer with JSON and pass
only plain JSON values as task arguments (a prediction id string), so a queue entry is data.

Task bodies use the process's :class:`~nextshow.runtime.Runtime` (database sessions, the model
holder, the artifact store). The API process only enqueues, so its holder is the one the API
already serves with; ``nextshow worker`` opens the runtime's parts on first use.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from huey.registry import Message
from huey.serializer import Serializer
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy.exc import DBAPIError, OperationalError

from nextshow.config import Settings
from nextshow.service.predictions import (
    SqliteWriteGuard,
    mark_failed,
    process_requests,
    stale_pending,
)

if TYPE_CHECKING:
    from nextshow.runtime import Runtime

log = logging.getLogger(__name__)

# Retries cover transient errors: a database lock timeout, a dropped connection.
TASK_RETRIES = 3
TASK_RETRY_DELAY = 1
STALE_AFTER = timedelta(minutes=2)
HEARTBEAT_KEY = "nextshow:worker-heartbeat"
RESTARTS_KEY = "nextshow:worker-restarts"
BEAT_EVERY = 1.0  # seconds between heartbeat writes of one process
RETRAIN_QUEUED_KEY = "nextshow:retrain-queued"
RETRAIN_FLAG_TTL = 3600.0
# Predictions one worker thread takes from the queue at once and writes in one transaction.
PREDICT_BATCH = 16


class JsonSerializer(Serializer):
    """Huey messages as JSON: task messages, and the (datetime, bool) pairs of revocations."""

    def _serialize(self, data: Any) -> bytes:
        return json.dumps(_encode(data), separators=(",", ":")).encode()

    def _deserialize(self, data: bytes) -> Any:
        return _decode(json.loads(data))


def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        return {"__message__": [_encode(v) for v in value]}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("queue messages need string keys")
        return {k: _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} cannot go through the queue (plain JSON values only)")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "__message__" in value:
            fields = [_decode(v) for v in value["__message__"]]
            msg = Message(*fields)
            # Huey expects a tuple of positional args.
            return msg._replace(args=tuple(msg.args or ()))
        if "__datetime__" in value:
            return datetime.fromisoformat(value["__datetime__"])
        return {k: _decode(v) for k, v in value.items()}
    return value


class _SqliteStorage(SqliteStorage):
    """Huey's SQLite storage, cheaper per task and fair between processes.

    - ``synchronous=NORMAL`` (WAL), like the application database. Huey leaves SQLite's default
      (FULL: an fsync on every enqueue, dequeue and acknowledgement, each under the storage's
      one lock). In WAL mode NORMAL is still crash-safe for the process; a power cut may lose
      the last few queue writes, and the periodic sweep re-enqueues requests that stay pending
      (their rows are in the database).
    - Every write transaction (Huey takes them ``BEGIN EXCLUSIVE``) holds a
      :class:`~nextshow.service.predictions.SqliteWriteGuard` on the queue file: the API process
      enqueues while the worker process dequeues, and a writer that finds SQLite's lock taken
      sleeps in its busy handler up to 100 ms per try however soon the lock is freed, where a
      ``flock`` waiter is woken the moment it is.
    """

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn

    @contextlib.contextmanager
    def db(self, commit: bool = False, close: bool = False) -> Iterator[Any]:
        if not commit:
            with super().db(commit, close) as cursor:
                yield cursor
            return
        guard = self.__dict__.get("_guard")
        if guard is None:
            guard = self.__dict__["_guard"] = SqliteWriteGuard(self.filename)
        with guard, super().db(commit, close) as cursor:
            yield cursor

    def dequeue_many(self, limit: int) -> list[bytes]:
        """Take up to ``limit`` messages, oldest first, without waiting (one transaction)."""
        if not self.sql("select 1 from task where queue = ? limit 1", (self.name,), results=True):
            return []  # the quick check without the exclusive lock, as Huey's dequeue
        with self.db(commit=True) as curs:
            curs.execute(
                "select id, data from task where queue = ? order by priority desc, id limit ?",
                (self.name, limit),
            )
            rows = curs.fetchall()
            curs.executemany("delete from task where id = ?", [(tid,) for tid, _ in rows])
        return [data for _, data in rows]


class _RedisStorage(RedisStorage):
    def dequeue_many(self, limit: int) -> list[bytes]:
        """Take up to ``limit`` messages, oldest first, without waiting (one RPOP)."""
        return self.conn.rpop(self.queue_key, limit) or []


class _Unrevocable:
    """Huey without task revocation: nextshow revokes no task.

    Huey reads a task's revocation flags before running it and deletes its flag after: two
    storage round trips per task (on Redis, an HMGET and an HDEL; on SQLite, a read and an
    exclusive write transaction) to find flags that are never set. Revoking raises, so the
    skipped reads can never miss one.
    """

    _REVOKE_PREFIX = "r:"  # Huey's key for one task's revocation flag: "r:<task id>"

    def is_revoked(self, task: Any, timestamp: Any = None, peek: bool = True) -> bool:
        return False

    def delete(self, key: str) -> Any:
        if key.startswith(self._REVOKE_PREFIX):  # the flag Huey clears after each task
            return False
        return super().delete(key)  # type: ignore[misc]

    def revoke(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("nextshow does not revoke queued tasks")

    revoke_all = revoke_by_id = revoke


class _Batching:
    """Huey that hands queued predictions to one worker thread together.

    When a worker thread takes a prediction task, the messages queued behind it (up to
    ``PREDICT_BATCH`` in all, taken in one round trip) join it: their ids become arguments of
    that one task, which writes them in one transaction. Other tasks taken along run next, in
    their order, on whichever thread asks first. Taken messages live in this process until they
    run: a worker that dies loses them as it loses its running tasks, and the requests, still
    pending in the database, are queued again (after a restart, or by the periodic sweep).
    """

    _batched: type | None = None
    _limit = 1

    def batch(self, task: Any, limit: int) -> None:
        """Hand up to ``limit`` queued calls of ``task`` (positional arguments only) together."""
        self._batched, self._limit = task.task_class, limit
        self._taken: deque[Any] = deque()
        self._taken_lock = threading.Lock()

    def dequeue(self) -> Any:
        if self._batched is not None:
            with self._taken_lock:
                if self._taken:
                    return self._taken.popleft()
        task = super().dequeue()  # type: ignore[misc]
        if task is None or self._batched is None or not isinstance(task, self._batched):
            return task
        args = list(task.args)
        for data in self.storage.dequeue_many(self._limit - 1):  # type: ignore[attr-defined]
            other = self.deserialize_task(data)  # type: ignore[attr-defined]
            if isinstance(other, self._batched):
                args.extend(other.args)
            else:
                with self._taken_lock:
                    self._taken.append(other)
        task.args = tuple(args)
        return task


class _RedisHuey(_Batching, _Unrevocable, RedisHuey):
    pass


class _SqliteHuey(_Batching, _Unrevocable, SqliteHuey):
    pass


def make_huey(settings: Settings, name: str | None = None) -> Huey:
    """A Huey instance on the configured storage; results are not stored (the table holds them)."""
    url = settings.effective_queue_url
    name = name or settings.queue_name
    common: dict[str, Any] = {"results": False, "serializer": JsonSerializer(), "utc": True}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _RedisHuey(name, url=url, storage_class=_RedisStorage, **common)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        settings.ensure_home()
        return _SqliteHuey(name, filename=path, timeout=30, storage_class=_SqliteStorage, **common)
    raise ValueError(f"queue URL {url!r}: use redis://host:port/db or sqlite:///path")


class _EmbeddedConsumer(Consumer):
    """A consumer that leaves signals alone: uvicorn (or the CLI) owns them in the process."""

    def _set_signal_handlers(self) -> None:
        pass


class PredictionQueue:
    """The Huey instance and its tasks."""

    def __init__(self, runtime: Runtime, huey: Huey | None = None) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.huey = huey or make_huey(runtime.settings)
        self._last_beat = 0.0

        # Only prediction ids (str) go into the queue: see the module doc. One id per message;
        # the worker takes messages queued together as one task (see _Batching).
        @self.huey.task(
            retries=TASK_RETRIES, retry_delay=TASK_RETRY_DELAY, context=True, name="predict"
        )
        def predict(*request_ids: str, task: Any = None) -> None:
            self._predict(request_ids, task)

        if isinstance(self.huey, _Batching):
            self.huey.batch(predict, PREDICT_BATCH)

        @self.huey.task(name="retrain")
        def retrain(reason: str) -> None:
            self._retrain(reason)

        @self.huey.task(name="promote")
        def promote(version_id: int, reason: str) -> None:
            self._promote(version_id, reason)

        @self.huey.periodic_task(crontab(minute="*"), name="requeue_stale")
        def requeue_stale() -> None:
            self._requeue_stale()

        self.predict_task = predict
        self.retrain_task = retrain
        self.promote_task = promote

    # -- producer side --------------------------------------------------------------------

    def enqueue_prediction(self, request_id: str) -> None:
        self.predict_task(request_id)

    def enqueue_retrain(self, reason: str) -> bool:
        """Queue a retrain unless one is already queued; whether this call queued it.

        Seven admin clicks used to train seven versions. The flag is set here and cleared when
        a worker starts the task, so one may wait while another runs; a flag older than
        ``RETRAIN_FLAG_TTL`` (its task lost with a dead worker) no longer blocks.
        """
        now = time.time()
        if not self.huey.put_if_empty(RETRAIN_QUEUED_KEY, now):
            queued_at = self.huey.get(RETRAIN_QUEUED_KEY, peek=True)
            if queued_at is not None and now - float(queued_at) < RETRAIN_FLAG_TTL:
                return False
            self.huey.put(RETRAIN_QUEUED_KEY, now)
        self.retrain_task(reason)
        return True

    def enqueue_promote(self, version_id: int, reason: str) -> None:
        self.promote_task(version_id, reason)

    def pending(self) -> int:
        """Tasks waiting in the queue (raises when the storage is unreachable)."""
        return int(self.huey.pending_count())

    # -- worker health, shared through the queue's storage by every process ---------------

    def beat(self) -> None:
        """Record that a worker of this process is taking a task (at most once a second)."""
        now = time.time()
        if now - self._last_beat < BEAT_EVERY:
            return
        self._last_beat = now
        try:
            self.huey.put(HEARTBEAT_KEY, now)
        except Exception:  # the task matters more than its heartbeat
            log.warning("could not record the worker heartbeat", exc_info=True)

    def last_task_taken(self) -> float | None:
        """Unix time a worker last took a task (any process), None when none ever did."""
        value = self.huey.get(HEARTBEAT_KEY, peek=True)
        return None if value is None else float(value)

    def record_restart(self, count: int) -> None:
        """Called by ``nextshow serve``'s supervisor after it restarted its worker.

        The dead worker took its running tasks with it (Huey removes a task from the queue when
        it starts it): every pending prediction is enqueued again now rather than after
        ``STALE_AFTER``. Running one twice is harmless (see ``process_requests``).
        """
        self.huey.put(RESTARTS_KEY, int(count))
        # Only the oldest few: the dead worker held at most a batch per thread.
        held = PREDICT_BATCH * self.settings.worker_threads
        self.requeue_pending(timedelta(0), limit=max(8, 2 * held))

    def worker_restarts(self) -> int:
        value = self.huey.get(RESTARTS_KEY, peek=True)
        return 0 if value is None else int(value)

    # -- consumer side --------------------------------------------------------------------

    def consumer_options(self, workers: int | None = None) -> dict[str, Any]:
        """Consumer settings shared by the embedded consumer and ``nextshow worker``.

        SQLite storage is polled: an idle worker sleeps ``initial_delay``, then ``backoff``
        times longer after each empty poll, up to ``max_delay``. That cap is also the worst
        wait of a task arriving at an idle worker, so it stays small (an empty poll is one
        indexed SELECT, tens of microseconds). Redis storage blocks on the list instead.
        """
        max_delay = self.settings.worker_poll_max_seconds
        return {
            "workers": workers or self.settings.worker_threads,
            "worker_type": "thread",
            "initial_delay": min(0.005, max_delay),
            "backoff": 1.25,
            "max_delay": max_delay,
        }

    def consumer(self, workers: int | None = None) -> Consumer:
        """A thread consumer that does not install signal handlers; ``start()`` / ``stop()``."""
        return _EmbeddedConsumer(
            self.huey, check_worker_health=False, **self.consumer_options(workers)
        )

    def _predict(self, request_ids: tuple[str, ...], task: Any) -> None:
        self.beat()
        ctx = self.runtime
        try:
            # Errors of one request (its answer, its write) are settled inside; what comes out
            # is a database error for the batch or for one of it.
            process_requests(ctx.sessions, ctx.holder.current, request_ids)
        except (OperationalError, DBAPIError) as err:
            # Transient (lock timeout, lost connection): let Huey retry, fail on the last try
            # (only requests still pending change).
            if task is None or task.retries <= 0:
                log.exception("predictions %s failed after retries", ", ".join(request_ids))
                error = f"database error: {err.__class__.__name__}"
                for request_id in request_ids:
                    mark_failed(ctx.sessions, request_id, error)
            raise
        except Exception as err:
            # A bug: retrying will not help; say so in the requests.
            log.exception("predictions %s failed", ", ".join(request_ids))
            for request_id in request_ids:
                mark_failed(ctx.sessions, request_id, f"{err.__class__.__name__}: {err}")

    def _retrain(self, reason: str) -> None:
        self.beat()
        self.huey.delete(RETRAIN_QUEUED_KEY)  # running now: the next request may queue one
        # Imported here only: the API process must never load training code.
        from nextshow.pipeline.triggers import run_pipeline

        ctx = self.runtime
        trigger = f"admin: {reason}"
        outcome = run_pipeline(ctx.sessions, ctx.artifacts, self.settings, trigger=trigger)
        log.info("retrain: %s", outcome.reason)
        ctx.holder.refresh()

    def _promote(self, version_id: int, reason: str) -> None:
        # Training code: imported in the worker only.
        from nextshow.pipeline.promotion import gate_options, promote_with_gate
        from nextshow.registry.versions import RegistryError

        ctx = self.runtime
        try:
            decision = promote_with_gate(
                ctx.sessions,
                ctx.artifacts,
                version_id=version_id,
                reason=reason,
                **gate_options(self.settings),
            )
        except RegistryError as err:  # GateRefused included: the refusal is on record
            log.warning("promotion of version %s: %s", version_id, err)
            return
        log.info("promoted version %s: %s", version_id, decision.explain())
        ctx.holder.refresh()

    def _requeue_stale(self) -> None:
        self.requeue_pending(STALE_AFTER)

    def requeue_pending(self, older_than: timedelta, limit: int = 1000) -> int:
        """Enqueue again the (oldest ``limit``) predictions pending longer than ``older_than``."""
        ids = stale_pending(self.runtime.sessions, older_than, limit)
        for request_id in ids:
            self.enqueue_prediction(request_id)
        if ids:
            log.warning("re-enqueued %d pending predictions", len(ids))
        return len(ids)
