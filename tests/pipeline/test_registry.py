"""Registry transitions, the quality gate, forced promotion, rollback, and the history."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from nextshow.db.models import ModelEvent, ModelVersion
from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.promotion import promote_with_gate
from nextshow.pipeline.train import TrainOptions, train_version
from nextshow.registry.snapshots import export_snapshot
from nextshow.registry.versions import (
    GateRefused,
    RegistryError,
    gate,
    production_version,
    rollback,
)


def _snapshot(store, artifacts) -> str:
    with store.sessions() as s, s.begin():
        return export_snapshot(s, artifacts, like_threshold=8.0, source="test")[0].id


def _train(store, artifacts, snapshot_id, model, **params):
    options = TrainOptions(model=model, params=params, protocol=Protocol(tune=False))
    return train_version(store.sessions, artifacts, snapshot_id=snapshot_id, options=options)


def _stages(store) -> dict[int, str]:
    with store.sessions() as s:
        return dict(s.execute(select(ModelVersion.id, ModelVersion.stage)).all())


def test_gate_arithmetic():
    assert gate({"ndcg@10": 0.10}, None).passed
    assert gate({"ndcg@10": 0.10}, {"ndcg@10": 0.10}).passed  # not worse is enough
    assert not gate({"ndcg@10": 0.099}, {"ndcg@10": 0.10}).passed
    assert gate({"ndcg@10": 0.099}, {"ndcg@10": 0.10}, tolerance=0.02).passed
    with pytest.raises(ValueError, match="tolerance"):
        gate({"ndcg@10": 0.1}, None, tolerance=1.5)
    with pytest.raises(RegistryError, match="no metric"):
        gate({"recall@10": 0.1}, None)


def test_train_registers_a_candidate_with_its_lineage(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    result = _train(store, artifacts, snapshot_id, "itemknn", k=10)
    with store.sessions() as s:
        version = s.get(ModelVersion, result.version_id)
        assert version.stage == "candidate"
        assert version.snapshot_id == snapshot_id
        assert json.loads(version.params)["k"] == 10
        assert 0 <= json.loads(version.metrics)["ndcg@10"] <= 1
        assert version.artifact_bytes > 0 and len(version.artifact_sha256) == 64
        assert version.code_version
        assert [e.action for e in s.scalars(select(ModelEvent))] == ["register"]


def test_the_training_engine_is_recorded(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    result = _train(store, artifacts, snapshot_id, "popularity")
    assert result.engine == "numpy"
    with store.sessions() as s:
        assert s.get(ModelVersion, result.version_id).engine == "numpy"
    with pytest.raises(ValueError, match="engine must be one of numpy, spark"):
        TrainOptions(engine="dask")


def test_promotion_gate_refuses_worse_and_accepts_better(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    good = _train(store, artifacts, snapshot_id, "itemknn", k=20)
    bad = _train(store, artifacts, snapshot_id, "popularity")
    assert good.metrics["ndcg@10"] > bad.metrics["ndcg@10"]  # taste groups beat popularity

    promote_with_gate(store.sessions, artifacts, version_id=bad.version_id)
    assert _stages(store) == {good.version_id: "candidate", bad.version_id: "production"}
    promote_with_gate(store.sessions, artifacts, version_id=good.version_id)
    assert _stages(store) == {good.version_id: "production", bad.version_id: "archived"}

    with pytest.raises(GateRefused) as refused:
        promote_with_gate(store.sessions, artifacts, version_id=bad.version_id)
    assert "refused" in str(refused.value)
    assert _stages(store)[good.version_id] == "production"  # unchanged
    with store.sessions() as s:
        actions = [e.action for e in s.scalars(select(ModelEvent).order_by(ModelEvent.id))]
    assert actions[-1] == "refuse"  # the refusal is on record


def test_forced_promotion_needs_and_records_a_reason(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    good = _train(store, artifacts, snapshot_id, "itemknn", k=20)
    bad = _train(store, artifacts, snapshot_id, "popularity")
    promote_with_gate(store.sessions, artifacts, version_id=good.version_id)
    with pytest.raises(RegistryError, match="reason"):
        promote_with_gate(store.sessions, artifacts, version_id=bad.version_id, force=True)
    promote_with_gate(
        store.sessions, artifacts, version_id=bad.version_id, force=True, reason="incident 7"
    )
    with store.sessions() as s:
        event = s.scalars(select(ModelEvent).order_by(ModelEvent.id.desc()).limit(1)).one()
        assert (event.action, event.forced, event.reason) == ("promote", True, "incident 7")
        assert event.previous_production_id == good.version_id


def test_rollback_walks_back_through_promotions(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    v1 = _train(store, artifacts, snapshot_id, "popularity").version_id
    v2 = _train(store, artifacts, snapshot_id, "itemknn", k=5).version_id
    v3 = _train(store, artifacts, snapshot_id, "itemknn", k=20).version_id
    for v in (v1, v2, v3):
        promote_with_gate(store.sessions, artifacts, version_id=v, tolerance=0.5)
    with store.sessions() as s, s.begin():
        rollback(s, reason="bad answers")
    assert _stages(store)[v2] == "production"
    with store.sessions() as s, s.begin():
        rollback(s, reason=None)
    assert _stages(store)[v1] == "production"
    with pytest.raises(RegistryError, match="nothing to roll back"), store.sessions() as s:
        rollback(s)
    with store.sessions() as s:
        last = s.scalars(select(ModelEvent).where(ModelEvent.action == "rollback")).first()
        assert (last.version_id, last.previous_production_id, last.reason) == (
            v2,
            v3,
            "bad answers",
        )


def test_database_allows_only_one_production_version(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    a = _train(store, artifacts, snapshot_id, "popularity").version_id
    b = _train(store, artifacts, snapshot_id, "itemknn", k=5).version_id
    with pytest.raises(IntegrityError), store.sessions() as s, s.begin():
        for version in s.scalars(select(ModelVersion).where(ModelVersion.id.in_([a, b]))):
            version.stage = "production"
    with store.sessions() as s:
        assert production_version(s) is None


def test_gate_re_evaluates_production_on_the_candidates_snapshot(seeded):
    store, artifacts = seeded
    first = _snapshot(store, artifacts)
    v1 = _train(store, artifacts, first, "itemknn", k=20)
    promote_with_gate(store.sessions, artifacts, version_id=v1.version_id)
    from tests.pipeline.conftest import seed_ratings

    seed_ratings(store, n_users=30, seed=7, first_user=1000)  # new data: another snapshot
    second = _snapshot(store, artifacts)
    assert second != first
    v2 = _train(store, artifacts, second, "popularity")
    with pytest.raises(GateRefused) as refused:
        promote_with_gate(store.sessions, artifacts, version_id=v2.version_id)
    assert f"re-evaluated on snapshot {second}" in refused.value.decision.basis


def test_a_known_recipe_fits_beside_the_evaluation_and_gives_the_same_model(
    seeded, monkeypatch, tmp_path
):
    """Given params (or untuned defaults): the final fit runs in its own thread while the
    evaluation runs, and the artifact holds the very arrays of a plain fit. Tuned: the fit
    waits for the evaluation's params, in the calling thread."""
    import threading

    import numpy as np

    from nextshow.pipeline.train import NumpyTrainer, known_recipe, open_trainer

    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    threads: list[str] = []
    plain_fit = NumpyTrainer.fit

    def fit(self, model, params, seed):
        threads.append(threading.current_thread().name)
        return plain_fit(self, model, params, seed)

    monkeypatch.setattr(NumpyTrainer, "fit", fit)
    known = _train(store, artifacts, snapshot_id, "itemknn", k=10)
    assert threads == ["final-fit_0"]
    tuned = TrainOptions(model="itemknn", protocol=Protocol(tune=True))
    assert not known_recipe(tuned)
    assert known_recipe(TrainOptions(model="itemknn", protocol=Protocol(tune=False)))
    assert not known_recipe(TrainOptions(protocol=Protocol(tune=False)))  # a choice: not known
    train_version(store.sessions, artifacts, snapshot_id=snapshot_id, options=tuned)
    assert threads == ["final-fit_0", threading.current_thread().name]

    trainer = open_trainer(artifacts, snapshot_id, "numpy")
    plain_fit(trainer, "itemknn", known.params, 42).save(tmp_path / "plain")
    served = artifacts.download_dir(artifacts.key_of(known.artifact_uri), tmp_path / "served")
    with np.load(tmp_path / "plain" / "arrays.npz") as want, np.load(served / "arrays.npz") as got:
        assert sorted(got.files) == sorted(want.files)
        for name in want.files:
            np.testing.assert_array_equal(got[name], want[name])
