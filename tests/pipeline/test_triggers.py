"""Retrain triggers: new likes since production's snapshot, the schedule, and the off switches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from nextshow.db.models import ModelVersion
from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.train import TrainOptions
from nextshow.pipeline.triggers import (
    new_likes_since_production,
    retrain_if_needed,
    run_pipeline,
    run_scheduler,
    scheduled_retrain,
)
from tests.conftest import run_cli
from tests.pipeline.conftest import seed_ratings


def _settings(store, **changes):
    return store.settings.model_copy(update={"default_model": "itemknn", **changes})


def _versions(store) -> int:
    with store.sessions() as s:
        return s.scalar(select(func.count()).select_from(ModelVersion))


def test_new_likes_trigger_runs_only_past_the_threshold(seeded):
    store, artifacts = seeded
    settings = _settings(store, retrain_min_new_likes=50)
    first = retrain_if_needed(store.sessions, artifacts, settings)
    assert first.ran and first.promoted and "no production model" in first.reason
    with store.sessions() as s:
        assert new_likes_since_production(s) == 0
    idle = retrain_if_needed(store.sessions, artifacts, settings)
    assert not idle.ran and idle.new_likes == 0

    seed_ratings(store, n_users=3, seed=5, first_user=500)  # 24 new likes: not enough
    assert not retrain_if_needed(store.sessions, artifacts, settings).ran
    seed_ratings(store, n_users=5, seed=6, first_user=600)  # 40 more: 64 >= 50
    busy = retrain_if_needed(store.sessions, artifacts, settings)
    assert busy.ran and busy.new_likes == 64 and busy.train is not None
    assert _versions(store) == 2


def test_triggers_can_be_turned_off(seeded):
    store, artifacts = seeded
    settings = _settings(store, retrain_min_new_likes=0, retrain_interval_hours=0)
    assert not retrain_if_needed(store.sessions, artifacts, settings).ran
    assert not scheduled_retrain(store.sessions, artifacts, settings).ran
    assert run_scheduler(store.sessions, artifacts, settings, max_checks=1, poll_seconds=0.1)
    assert _versions(store) == 0


def test_schedule_runs_when_the_interval_has_passed(seeded):
    store, artifacts = seeded
    settings = _settings(store, retrain_interval_hours=6, retrain_min_new_likes=0)
    assert scheduled_retrain(store.sessions, artifacts, settings).ran  # never ran before
    soon = datetime.now(UTC) + timedelta(hours=1)
    assert not scheduled_retrain(store.sessions, artifacts, settings, now=soon).ran
    later = datetime.now(UTC) + timedelta(hours=7)
    assert scheduled_retrain(store.sessions, artifacts, settings, now=later).ran
    assert _versions(store) == 2


def test_pipeline_keeps_production_when_the_candidate_is_worse(seeded):
    store, artifacts = seeded
    settings = _settings(store)
    good = run_pipeline(store.sessions, artifacts, settings, trigger="test")
    assert good.promoted
    worse = run_pipeline(
        store.sessions,
        artifacts,
        settings,
        trigger="test",
        options=TrainOptions(model="popularity", protocol=Protocol(tune=False)),
    )
    assert worse.ran and not worse.promoted and "refused" in worse.reason


def test_scheduler_command_checks_once(seeded):
    store, _ = seeded
    env = {
        **store.env(),
        "NEXTSHOW_DEFAULT_MODEL": "itemknn",
        "NEXTSHOW_RETRAIN_MIN_NEW_LIKES": "10",
    }
    result = run_cli("scheduler", "--once", env=env, check=True)
    assert "new-likes: ran" in result.stdout
    result = run_cli("retrain", "--if-needed", env=env, check=True)
    assert "not promoted" in result.stdout and "new likes < 10" in result.stdout
