"""Attacks through the feedback loop: likes from the web must not move the model on their own."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import insert, select

from nextshow.catalog.normalize import normalize_title
from nextshow.db.models import FEEDBACK_SOURCE, Rating, Show, User
from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.data import interactions_from_snapshot
from nextshow.pipeline.promotion import promote_with_gate
from nextshow.pipeline.train import TrainOptions, train_version
from nextshow.registry.snapshots import export_snapshot, read_snapshot
from nextshow.registry.versions import GateRefused, production_version


def _snapshot(store, artifacts) -> str:
    with store.sessions() as s, s.begin():
        return export_snapshot(s, artifacts, like_threshold=8.0, source="test")[0].id


def _train(store, artifacts, snapshot_id, model, **params) -> int:
    options = TrainOptions(model=model, params=params, protocol=Protocol(tune=False))
    return train_version(
        store.sessions, artifacts, snapshot_id=snapshot_id, options=options
    ).version_id


def _poison(store, *, n_requests: int, seed: int = 0) -> None:
    """Anonymous web likes stamped now: a made-up show plus shows of every taste group."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    with store.sessions() as s, s.begin():
        s.execute(
            insert(Show),
            [
                {
                    "title": "Zqxv Blorp Nine",
                    "normalized_title": normalize_title("Zqxv Blorp Nine"),
                    "source": "user",
                    "external_id": "zqxv blorp nine",
                    "user_submitted": True,
                    "status": "pending",
                }
            ],
        )
        fake = s.scalar(select(Show.id).where(Show.external_id == "zqxv blorp nine"))
        real = [i for (i,) in s.execute(select(Show.id).where(Show.source == "test"))]
        s.execute(
            insert(User),
            [
                {"external_id": f"web-{i}", "source": FEEDBACK_SOURCE, "anonymous": True}
                for i in range(n_requests)
            ],
        )
        users = s.scalars(select(User.id).where(User.source == FEEDBACK_SOURCE)).all()
        rows = []
        for user in users:
            for show in {fake, *rng.choice(real, size=6, replace=False).tolist()}:
                rows.append(
                    {
                        "user_id": user,
                        "show_id": int(show),
                        "rating": None,
                        "liked": True,
                        "source": FEEDBACK_SOURCE,
                        "rated_at": now,
                    }
                )
        s.execute(insert(Rating), rows)


def test_web_likes_stamped_now_do_not_become_the_models_now(seeded):
    """Attack: three likes stamped "now" on older data made every other like look ancient."""
    store, artifacts = seeded
    with store.sessions() as s:
        newest_import = max(s.scalars(select(Rating.rated_at)).all())
    _poison(store, n_requests=3)
    snapshot_id = _snapshot(store, artifacts)
    data = read_snapshot(artifacts, snapshot_id)
    assert data.manifest.cutoff == int(newest_import.timestamp())
    interactions = interactions_from_snapshot(data)
    assert interactions.timestamps.data.max() == data.manifest.cutoff


def test_gate_refuses_a_candidate_poisoned_by_web_likes(seeded):
    """Attack: poisoned snapshot, same recipe -> the old gate compared like with like and passed."""
    store, artifacts = seeded
    first = _snapshot(store, artifacts)
    production = _train(store, artifacts, first, "itemknn", k=20)
    promote_with_gate(store.sessions, artifacts, version_id=production)
    _poison(store, n_requests=100)
    second = _snapshot(store, artifacts)
    candidate = _train(store, artifacts, second, "itemknn", k=20)
    with pytest.raises(GateRefused) as refused:
        promote_with_gate(store.sessions, artifacts, version_id=candidate)
    assert refused.value.decision.basis.startswith("frozen-split check")
    with store.sessions() as s:
        assert production_version(s).id == production
