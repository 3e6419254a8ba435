"""The scale configuration: PostgreSQL + Redis, 2 API processes + 2 worker processes.

Runs only when both NEXTSHOW_TEST_POSTGRES_URL and NEXTSHOW_TEST_REDIS_URL are set (CI). A load
generator sends a few thousand concurrent prediction requests to the two API processes (as a
load balancer would); every prediction must complete, and every like must be recorded exactly
once (anonymous likes: one per request and show; a named user's: one per show).
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from nextshow.db.models import PredictionRequest, Rating, Show, User
from tests.conftest import POSTGRES_URL, REDIS_URL, _make_store
from tests.pipeline.conftest import seed_ratings
from tests.service.conftest import train_and_promote
from tests.service.test_serve import free_port, wait_http

N_REQUESTS = 2000
CONCURRENCY = 64

pytestmark = [
    pytest.mark.scale,
    pytest.mark.skipif(
        not (POSTGRES_URL and REDIS_URL), reason="needs PostgreSQL and Redis test URLs"
    ),
]


@pytest.fixture
def pg_store(tmp_path, postgres_admin):
    yield from _make_store("postgresql", tmp_path, postgres_admin)


async def _load(ports: list[int], bodies: list[dict]) -> list[str]:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(i: int, body: dict) -> str:
            # A kept-alive connection can be closed by the server just as the client reuses it
            # (uvicorn's keep-alive timeout racing a busy client). A real client retries such a
            # POST under its Idempotency-Key; the server must then answer with the same
            # prediction, so a retry can never record the likes twice (asserted below).
            headers = {"Idempotency-Key": f"scale-{i}"}
            url = f"http://127.0.0.1:{ports[i % len(ports)]}/api/predictions"
            async with gate:
                for attempt in range(3):
                    try:
                        response = await client.post(url, json=body, headers=headers)
                        break
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        if attempt == 2:
                            raise
                assert response.status_code == 202, response.text
                return response.json()["prediction_id"]

        return await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))


def test_two_apis_two_workers_thousands_of_requests(pg_store):
    seed_ratings(pg_store)
    train_and_promote(pg_store, "itemknn", k=20)
    env = {
        **pg_store.env(),
        "NEXTSHOW_QUEUE_URL": REDIS_URL,
        "NEXTSHOW_QUEUE_NAME": f"nextshow-scale-{uuid.uuid4().hex[:8]}",
        "NEXTSHOW_RATE_LIMIT_PER_MINUTE": "0",
    }
    ports = [free_port(), free_port()]
    cmd = [sys.executable, "-m", "nextshow.cli"]
    procs = [
        subprocess.Popen([*cmd, "serve", "--no-worker", "--port", str(p)], env=env) for p in ports
    ] + [subprocess.Popen([*cmd, "worker", "--threads", "4"], env=env) for _ in range(2)]
    try:
        for port in ports:
            wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
        rng = random.Random(7)
        bodies = []
        for i in range(N_REQUESTS):
            shows = [f"Show {s}" for s in rng.sample(range(40), rng.randint(1, 3))]
            body: dict = {"shows": shows, "n": 5}
            if i % 2:
                body["user_id"] = f"user-{rng.randrange(50)}"
            bodies.append(body)
        started = time.monotonic()
        # In its own thread: another test's Playwright may own this thread's event loop.
        with ThreadPoolExecutor(1) as pool:
            ids = pool.submit(asyncio.run, _load(ports, bodies)).result()
        posted = time.monotonic() - started
        assert len(set(ids)) == N_REQUESTS

        deadline = time.monotonic() + 180
        while True:
            with pg_store.sessions() as session:
                counts = dict(
                    session.execute(
                        select(PredictionRequest.status, func.count()).group_by(
                            PredictionRequest.status
                        )
                    ).all()
                )
            if counts.get("done", 0) + counts.get("failed", 0) == N_REQUESTS:
                break
            assert time.monotonic() < deadline, f"not all predictions finished: {counts}"
            time.sleep(0.5)
        assert counts == {"done": N_REQUESTS}, counts
        print(f"{N_REQUESTS} POSTs in {posted:.1f} s; all done {time.monotonic() - started:.1f} s")

        # Likes: exactly what the requests said, each once.
        expected: set[tuple[str, str]] = set()
        for body, prediction_id in zip(bodies, ids, strict=True):
            user = body.get("user_id") or f"anon:{prediction_id}"
            expected |= {(user, title) for title in body["shows"]}
        with pg_store.sessions() as session:
            rows = session.execute(
                select(User.external_id, Show.title)
                .join(Rating, Rating.user_id == User.id)
                .join(Show, Show.id == Rating.show_id)
                .where(Rating.source == "web")
            ).all()
        recorded = [(u, t) for u, t in rows]
        assert len(recorded) == len(set(recorded)) == len(expected)
        assert set(recorded) == expected
        per_user = defaultdict(int)
        for user, _ in recorded:
            per_user[user] += 1
        assert max(per_user.values()) <= 40
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
