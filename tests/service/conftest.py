"""Service fixtures: a trained store, settings for the service, a running app with its worker.

The queue is Redis when ``NEXTSHOW_TEST_REDIS_URL`` is set (each test gets its own queue name,
so tests never see each other's tasks) and a SQLite file under the test's home otherwise.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from nextshow.config import Settings
from nextshow.db.models import PredictionRequest
from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.promotion import promote_with_gate
from nextshow.pipeline.train import TrainOptions, train_version
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.snapshots import export_snapshot
from nextshow.service.app import create_app
from nextshow.service.queue import make_huey
from tests.conftest import REDIS_URL
from tests.pipeline.conftest import seed_ratings

ADMIN_TOKEN = "test-admin-token-0123456789"


def service_settings(store: Any, **overrides: Any) -> Settings:
    """The store's settings plus a private queue, fast model polling and no rate limit."""
    values: dict[str, Any] = {
        "queue_url": REDIS_URL,
        "queue_name": f"nextshow-test-{uuid.uuid4().hex[:10]}",
        "model_poll_seconds": 0.2,
        "rate_limit_per_minute": 0,
        "admin_token": ADMIN_TOKEN,
        **overrides,
    }
    settings = store.settings.model_copy(update=values)
    if REDIS_URL:
        # Set means a server is expected: fail loudly (not skip) when it does not answer.
        make_huey(settings).storage.conn.ping()
    return settings


def train_and_promote(
    store: Any, model: str = "itemknn", *, force_reason: str | None = None, **params: Any
) -> int:
    """Snapshot the store, train ``model`` (no tuning) and promote it; returns the version id."""
    artifacts = ArtifactStore(store.settings.artifacts_url)
    with store.sessions() as session, session.begin():
        snapshot_id = export_snapshot(session, artifacts, like_threshold=8.0, source="test")[0].id
    options = TrainOptions(model=model, params=params, protocol=Protocol(tune=False))
    result = train_version(store.sessions, artifacts, snapshot_id=snapshot_id, options=options)
    promote_with_gate(
        store.sessions,
        artifacts,
        version_id=result.version_id,
        force=force_reason is not None,
        reason=force_reason,
    )
    return result.version_id


@pytest.fixture
def trained(store):
    """A store with ratings and a promoted item kNN model (version 1)."""
    seed_ratings(store)
    train_and_promote(store, "itemknn", k=20)
    return store


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Start apps (lifespan, model holder, a real Huey consumer thread); all closed at the end."""
    clients: list[TestClient] = []

    def start(settings: Settings, *, run_worker: bool = True) -> TestClient:
        client = TestClient(create_app(settings, run_worker=run_worker))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(trained, make_client) -> TestClient:
    return make_client(service_settings(trained))


def wait_done(client: TestClient, prediction_id: str, timeout: float = 15.0) -> dict[str, Any]:
    """Poll a prediction until it is no longer pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/predictions/{prediction_id}").json()
        if body["status"] != "pending":
            return body
        time.sleep(0.02)
    raise AssertionError(f"prediction {prediction_id} still pending after {timeout} s")


def request_row(store: Any, prediction_id: str) -> PredictionRequest:
    with store.sessions() as session:
        row = session.scalars(
            select(PredictionRequest).where(PredictionRequest.id == prediction_id)
        ).one()
        session.expunge(row)
        return row
