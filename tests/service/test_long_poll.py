"""Long-poll ``GET /api/predictions/{id}?wait=S`` and ``POST /api/predictions`` with ``Prefer:
wait=S`` (RFC 7240) on every backend, and on a real server's stop.

The API apps here run without a worker, so predictions stay pending until a test starts one (a
second app whose consumer thread reads the same queue and database), and the waiter's counters
show what it did: how many requests waited, how many one query covered.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from nextshow.db.models import PredictionRequest
from tests.pipeline.conftest import seed_ratings
from tests.service.conftest import service_settings
from tests.service.test_serve import free_port, start_serve, wait_http

PROBLEM = "application/problem+json"


def _post(client, show: str = "Show 1") -> str:
    accepted = client.post("/api/predictions", json={"shows": [show]})
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["prediction_id"]


def _until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not reached within {timeout} s: {what}"
        time.sleep(0.01)


@pytest.fixture
def settings(trained):
    return service_settings(trained)


@pytest.fixture
def api(settings, make_client):
    """An API without a worker: its predictions stay pending."""
    return make_client(settings, run_worker=False)


def test_wait_answers_done_once_the_worker_finishes(api, settings, make_client):
    prediction_id = _post(api)
    waiter = api.app.state.services.waiter
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(api.get, f"/api/predictions/{prediction_id}", params={"wait": 20})
        _until(lambda: waiter.waiting == 1, "the request waits")
        make_client(settings)  # a worker starts and takes the queued prediction
        response = answer.result(timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "done" and len(body["recommendations"]) == 10
    # One GET: the waiter handed over the row its check found settled.
    assert waiter.settled == 1 and waiter.refused == 0
    _until(lambda: not waiter.running, "the check loop stops when no one waits")


def test_wait_without_a_worker_answers_pending_after_the_time(api):
    prediction_id = _post(api)
    waiter = api.app.state.services.waiter
    t0 = time.monotonic()
    response = api.get(f"/api/predictions/{prediction_id}", params={"wait": 0.3})
    elapsed = time.monotonic() - t0
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    assert 0.3 <= elapsed < 5
    assert waiter.checks >= 1 and waiter.settled == 0 and waiter.waiting == 0
    # wait=0 (the default) answers at once, as before long-polls existed.
    assert api.get(f"/api/predictions/{prediction_id}").json()["status"] == "pending"


def test_wait_on_a_settled_prediction_answers_at_the_next_check(api, settings, make_client):
    prediction_id = _post(api)
    make_client(settings)  # a worker
    _until(
        lambda: api.get(f"/api/predictions/{prediction_id}").json()["status"] == "done",
        "the prediction is done",
    )
    waiter = api.app.state.services.waiter
    t0 = time.monotonic()
    response = api.get(f"/api/predictions/{prediction_id}", params={"wait": 20})
    assert response.status_code == 200 and response.json()["status"] == "done"
    assert time.monotonic() - t0 < 5 and waiter.checks == 1 and waiter.settled == 1


def test_wait_bad_values_and_unknown_ids(api):
    prediction_id = _post(api)
    for bad in ("-1", "30.5", "soon", "nan"):
        response = api.get(f"/api/predictions/{prediction_id}", params={"wait": bad})
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["errors"][0]["loc"] == ["query", "wait"]
    t0 = time.monotonic()
    unknown = api.get(f"/api/predictions/{uuid.uuid4()}", params={"wait": 20})
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith(PROBLEM)
    # No read before the wait: the waiter's first check found no such prediction.
    assert api.app.state.services.waiter.checks == 1 and time.monotonic() - t0 < 5


def test_many_waiters_are_answered_by_one_query_loop(api, settings, make_client):
    count = 24
    ids = [_post(api, f"Show {i % 12}") for i in range(count)]
    waiter = api.app.state.services.waiter
    with ThreadPoolExecutor(count) as pool:
        answers = [pool.submit(api.get, f"/api/predictions/{i}", params={"wait": 25}) for i in ids]
        _until(lambda: waiter.waiting == count, f"{count} requests wait")
        make_client(settings)  # a worker
        bodies = [a.result(timeout=60).json() for a in answers]
    assert [b["status"] for b in bodies] == ["done"] * count
    assert waiter.settled == count
    assert waiter.largest_check == count  # one query covered every waiting request


def test_waiters_beyond_the_limit_are_answered_at_once(trained, make_client):
    api = make_client(service_settings(trained, max_connections=2), run_worker=False)
    ids = [_post(api) for _ in range(3)]
    waiter = api.app.state.services.waiter
    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(api.get, f"/api/predictions/{i}", params={"wait": 1}) for i in ids[:2]]
        _until(lambda: waiter.waiting == 2, "two requests wait")
        third = api.get(f"/api/predictions/{ids[2]}", params={"wait": 20})
        assert third.status_code == 200 and third.json()["status"] == "pending"
        assert waiter.refused == 1
        assert [h.result(timeout=10).json()["status"] for h in held] == ["pending"] * 2


def _prefer(client, prefer: str | list[str], show: str = "Show 1"):
    headers = [("Prefer", p) for p in ([prefer] if isinstance(prefer, str) else prefer)]
    return client.post("/api/predictions", json={"shows": [show]}, headers=headers)


def test_prefer_wait_answers_the_prediction_in_one_request(api, settings, make_client):
    make_client(settings)  # a worker
    waiter = api.app.state.services.waiter
    response = _prefer(api, "wait=20")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "done" and len(body["recommendations"]) == 10
    assert response.headers["preference-applied"] == "wait=20"
    status_url = f"/api/predictions/{body['prediction_id']}"
    assert response.headers["content-location"] == status_url
    assert "location" not in response.headers
    # The same answer a GET of the prediction gives, byte for byte.
    assert api.get(status_url).content == response.content
    assert waiter.settled == 1 and waiter.waiting == 0
    # A repeat with the same Idempotency-Key (the first answer was lost): the settled answer.
    key = [("Idempotency-Key", "k-prefer")]
    first = api.post("/api/predictions", json={"shows": ["Show 3"]}, headers=key)
    assert first.status_code == 202  # no Prefer: as before
    repeat = api.post(
        "/api/predictions", json={"shows": ["Show 3"]}, headers=[*key, ("Prefer", "wait=20")]
    )
    assert repeat.status_code == 200 and repeat.json()["status"] == "done", repeat.text
    assert repeat.json()["prediction_id"] == first.json()["prediction_id"]
    # Among other preferences, and in a second Prefer field: the same.
    for prefer in ("respond-async, wait=20", ["respond-async", "wait=20"]):
        again = _prefer(api, prefer, "Show 2")
        assert again.status_code == 200 and again.json()["status"] == "done", prefer
        assert again.headers["preference-applied"] == "wait=20"


def test_prefer_wait_without_a_worker_answers_202_after_the_time(api):
    waiter = api.app.state.services.waiter
    t0 = time.monotonic()
    response = _prefer(api, "wait=1")
    elapsed = time.monotonic() - t0
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending"
    # As without the header: the status URL to poll, nothing said of the preference.
    assert response.headers["location"] == body["status_url"]
    assert "preference-applied" not in response.headers
    assert elapsed >= 1
    assert waiter.checks >= 1 and waiter.settled == 0 and waiter.waiting == 0
    assert api.get(body["status_url"]).json()["status"] == "pending"


@pytest.mark.parametrize(
    "prefer", ["wait=abc", "wait=-1", "wait=1.5", "wait=", "wait=0", "wait=abc, wait=20"]
)
def test_prefer_wait_that_cannot_be_honoured_is_ignored(api, prefer):
    waiter = api.app.state.services.waiter
    response = _prefer(api, prefer)
    # Answered as without the header: at once (the waiter never held it), 202.
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    assert "preference-applied" not in response.headers
    assert waiter.checks == 0 and waiter.refused == 0 and not waiter.running


@pytest.mark.parametrize("huge", ["31", "99999999999999999999", "9" * 5000])
def test_prefer_wait_longer_than_the_cap_is_capped(api, settings, make_client, huge):
    make_client(settings)  # a worker
    response = _prefer(api, f"wait={huge}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done"
    assert response.headers["preference-applied"] == "wait=30"


def test_prefer_wait_beyond_the_waiting_limit_answers_202_at_once(trained, make_client):
    api = make_client(service_settings(trained, max_connections=1), run_worker=False)
    prediction_id = _post(api)
    waiter = api.app.state.services.waiter
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(api.get, f"/api/predictions/{prediction_id}", params={"wait": 2})
        _until(lambda: waiter.waiting == 1, "one request waits")
        response = _prefer(api, "wait=20")
        assert response.status_code == 202 and waiter.refused == 1
        assert held.result(timeout=10).json()["status"] == "pending"


def _stored(store) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(PredictionRequest))


def test_server_stop_answers_long_polls_at_once(sqlite_store):
    seed_ratings(sqlite_store)
    port = free_port()
    env = {**sqlite_store.env(), "NEXTSHOW_QUEUE_NAME": f"nobody-{uuid.uuid4().hex[:8]}"}
    proc = start_serve(env, port, "--no-worker")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/readyz", proc=proc)
        status_url = (
            base
            + httpx.post(f"{base}/api/predictions", json={"shows": ["Show 1"]}).json()["status_url"]
        )
        with ThreadPoolExecutor(2) as pool:
            answer = pool.submit(httpx.get, status_url, params={"wait": 30}, timeout=60)
            asked = pool.submit(
                httpx.post,
                f"{base}/api/predictions",
                json={"shows": ["Show 2"]},
                headers={"Prefer": "wait=30"},
                timeout=60,
            )
            _until(lambda: _stored(sqlite_store) == 2, "the held POST stored its prediction")
            time.sleep(0.5)  # the requests are held
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            response = answer.result(timeout=60)
            accepted = asked.result(timeout=60)
        assert response.status_code == 200 and response.json()["status"] == "pending"
        assert accepted.status_code == 202 and accepted.json()["status"] == "pending"
        out, _ = proc.communicate(timeout=20)
        assert time.monotonic() - t0 < 10, "the stop waited for the held requests"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
