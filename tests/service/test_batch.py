"""Predictions queued together are written together: one claim, one transaction per batch.

On every backend: likes are still recorded exactly once when batches that share requests run
at the same moment, and one request that fails (its answer, or its write) leaves the others of
its batch done. The queue hands a worker thread what is queued behind a prediction task.
"""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from huey.api import Task
from sqlalchemy import delete, select

from nextshow.config import Settings
from nextshow.db.models import PredictionRequest, Rating, Show, User
from nextshow.runtime import Runtime
from nextshow.service.predictions import process_requests
from nextshow.service.queue import PREDICT_BATCH, PredictionQueue
from tests.conftest import REDIS_URL
from tests.service.conftest import request_row, service_settings


def _show_id(store, title: str) -> int:
    with store.sessions() as session:
        return session.scalars(select(Show.id).where(Show.title == title)).one()


def _pending(store, titles: list[str], *, n: int = 5, user: str | None = None) -> str:
    """A pending request as the API stores it (the titles matched)."""
    row_id = str(uuid.uuid4())
    matches = [
        {"input": t, "status": "matched", "show": {"id": _show_id(store, t), "title": t}}
        for t in titles
    ]
    with store.sessions() as session, session.begin():
        session.add(
            PredictionRequest(
                id=row_id,
                inputs="{}",
                matches=json.dumps(matches),
                n=n,
                attempts=0,
                user_external_id=user,
            )
        )
    return row_id


def _likes(store) -> list[tuple[str, int]]:
    with store.sessions() as session:
        rows = session.execute(
            select(User.external_id, Rating.show_id)
            .join(User, User.id == Rating.user_id)
            .where(Rating.source == "web")
        )
        return sorted((external_id, show_id) for external_id, show_id in rows)


@pytest.fixture
def model(trained, make_client):
    """The serving model of an API without a worker (nothing else takes the requests)."""
    api = make_client(service_settings(trained), run_worker=False)
    return api.app.state.services.holder.current


def test_batch_scoring_answers_as_one_request_at_a_time(trained, model):
    shows = [_show_id(trained, f"Show {i}") for i in range(6)]
    liked_lists = [shows[:1], shows[1:4], [999_999], [shows[2], 999_999], shows[4:]]
    ns = [10, 3, 5, 1, 7]  # an unknown show alone: the popularity fallback
    batch = model.recommend_many(liked_lists, ns)
    assert batch == [model.recommend(liked, n) for liked, n in zip(liked_lists, ns, strict=True)]
    assert [fallback for _, fallback in batch] == [False, False, True, False, False]
    assert [len(items) for items, _ in batch] == ns
    with pytest.raises(ValueError, match="n must be a positive int"):
        model.recommend_many(liked_lists[:2], [5, 0])


def test_one_batch_writes_every_request(trained, model):
    anonymous = [_pending(trained, ["Show 1", "Show 2"]) for _ in range(3)]
    alice = [_pending(trained, ["Show 2", "Show 4"], user="alice") for _ in range(2)]
    ids = anonymous + alice
    missing = str(uuid.uuid4())
    statuses = process_requests(trained.sessions, model, [*ids, missing])
    assert statuses == {**dict.fromkeys(ids, "done"), missing: None}
    for row_id in ids:
        row = request_row(trained, row_id)
        assert row.status == "done" and row.attempts == 1 and row.user_id is not None
        assert len(json.loads(row.results)["recommendations"]) == 5
    s1, s2, s4 = (_show_id(trained, f"Show {i}") for i in (1, 2, 4))
    expected = [(f"anon:{r}", s) for r in anonymous for s in (s1, s2)]
    expected += [("alice", s2), ("alice", s4)]  # once, though asked twice in the batch
    assert _likes(trained) == sorted(expected)
    # Delivered again (a retry, the stale sweep): nothing changes.
    assert process_requests(trained.sessions, model, ids) == dict.fromkeys(ids, "done")
    assert _likes(trained) == sorted(expected)
    assert {request_row(trained, r).attempts for r in ids} == {1}


def test_concurrent_overlapping_batches_record_likes_once(trained, model):
    # Four workers, each taking a batch that shares requests with the others' batches: every
    # request is done by exactly one of them (attempts 1), and its likes exist once.
    ids = [_pending(trained, ["Show 1", "Show 2"]) for _ in range(6)]
    named = _pending(trained, ["Show 3", "Show 4"], user="bob")
    batches = [[*ids[0:4], named], [*ids[2:6], named], [*ids[::2], named], ids[::-1]]
    barrier = threading.Barrier(len(batches))

    def deliver(batch: list[str]) -> dict[str, str | None]:
        barrier.wait()
        return process_requests(trained.sessions, model, batch)

    with ThreadPoolExecutor(len(batches)) as pool:
        results = list(pool.map(deliver, batches))
    for batch, statuses in zip(batches, results, strict=True):
        assert statuses == dict.fromkeys(batch, "done")
    for row_id in [*ids, named]:
        assert request_row(trained, row_id).attempts == 1
    s1, s2, s3, s4 = (_show_id(trained, f"Show {i}") for i in (1, 2, 3, 4))
    expected = [(f"anon:{r}", s) for r in ids for s in (s1, s2)] + [("bob", s3), ("bob", s4)]
    assert _likes(trained) == sorted(expected)


def test_a_request_whose_answer_fails_does_not_hold_back_the_others(trained, model):
    good = [_pending(trained, ["Show 1"]) for _ in range(2)]
    bad = _pending(trained, ["Show 2"], n=0)  # the model refuses n=0; no retry can fix it
    statuses = process_requests(trained.sessions, model, [good[0], bad, good[1]])
    assert statuses == {good[0]: "done", bad: "failed", good[1]: "done"}
    failed = request_row(trained, bad)
    assert "n must be a positive int" in failed.error and failed.results is None
    assert [u for u, _ in _likes(trained)] == sorted(f"anon:{r}" for r in good)


def test_a_request_whose_write_fails_does_not_hold_back_the_others(trained, model):
    # The show a request likes is gone by the time the worker writes (say, deleted by an admin
    # between the POST and the task): its like breaks the foreign key, and the batch with it.
    doomed = Show(title="Doomed Show", normalized_title="doomed show", source="user")
    with trained.sessions() as session, session.begin():
        session.add(doomed)
    good = [_pending(trained, ["Show 1"]) for _ in range(2)]
    bad = _pending(trained, ["Doomed Show"])
    with trained.sessions() as session, session.begin():
        session.execute(delete(Show).where(Show.id == doomed.id))
    with pytest.raises(Exception, match=r"(?i)foreign key"):  # the caller retries it
        process_requests(trained.sessions, model, [good[0], bad, good[1]])
    assert [request_row(trained, r).status for r in (good[0], bad, good[1])] == [
        "done",
        "pending",  # the retry finds only this one still to do
        "done",
    ]
    assert [u for u, _ in _likes(trained)] == sorted(f"anon:{r}" for r in good)


QUEUES = ["sqlite"] + (["redis"] if REDIS_URL else [])


@pytest.fixture(params=QUEUES)
def queue(request, tmp_path) -> PredictionQueue:
    """A prediction queue on SQLite storage, and on Redis when configured (a private name)."""
    url = f"sqlite:///{tmp_path / 'queue.db'}" if request.param == "sqlite" else REDIS_URL
    name = f"nextshow-test-{uuid.uuid4().hex[:10]}"
    queue = PredictionQueue(
        Runtime.from_settings(Settings(home=tmp_path, queue_url=url, queue_name=name))
    )
    yield queue
    queue.huey.flush()


def test_the_queue_hands_queued_predictions_over_together(queue):
    ids = [str(uuid.uuid4()) for _ in range(PREDICT_BATCH + 3)]
    queue.enqueue_prediction(ids[0])
    queue.enqueue_retrain("in between")
    for request_id in ids[1:]:
        queue.enqueue_prediction(request_id)
    first = queue.huey.dequeue()
    assert isinstance(first, queue.predict_task.task_class)
    # PREDICT_BATCH messages taken at once: the predictions among them, oldest first, are one
    # task; the retrain taken along runs next, before anything still queued.
    assert list(first.args) == ids[: PREDICT_BATCH - 1]
    taken = queue.huey.dequeue()
    assert isinstance(taken, queue.retrain_task.task_class) and taken.args == ("in between",)
    rest = queue.huey.dequeue()
    assert list(rest.args) == ids[PREDICT_BATCH - 1 :]
    assert queue.huey.dequeue() is None and queue.pending() == 0


def test_tasks_are_never_revoked(queue):
    huey = queue.huey
    task = Task(id="some-task")
    huey.storage.put_data(task.revoke_id, huey.serializer.serialize((None, False)))
    assert not huey.is_revoked(task)  # the flags are not read: none can be set
    with pytest.raises(NotImplementedError):
        huey.revoke(task)
    with pytest.raises(NotImplementedError):
        huey.revoke_by_id("some-task")
