"""Crashes, tampering and concurrency leave the registry consistent; serving stays decoupled."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, text

from nextshow.db.models import ModelEvent, ModelVersion
from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.promotion import promote_with_gate
from nextshow.pipeline.train import TrainOptions, train_version
from nextshow.recommenders.artifact import ArtifactError
from nextshow.registry.loading import load_version
from nextshow.registry.snapshots import export_snapshot
from nextshow.registry.versions import production_version
from tests.conftest import run_cli


def _snapshot(store, artifacts) -> str:
    with store.sessions() as s, s.begin():
        return export_snapshot(s, artifacts, like_threshold=8.0, source="test")[0].id


def _assert_registry_consistent(store, artifacts) -> None:
    """Every registered version has an artifact whose checksum verifies; <= 1 in production."""
    with store.sessions() as s:
        versions = list(s.scalars(select(ModelVersion)))
        for version in versions:
            load_version(artifacts, version, store.home / "cache")
        assert sum(v.stage == "production" for v in versions) <= 1


def _fail_registration(store) -> None:
    """A real database refusal of the version insert (a trigger), as a crash would leave it."""
    if store.backend == "sqlite":
        ddl = [
            "CREATE TRIGGER no_versions BEFORE INSERT ON model_versions "
            "BEGIN SELECT RAISE(ABORT, 'registry unavailable'); END"
        ]
    else:
        ddl = [
            "CREATE FUNCTION no_versions() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'registry unavailable'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER no_versions BEFORE INSERT ON model_versions "
            "FOR EACH ROW EXECUTE FUNCTION no_versions()",
        ]
    with store.engine.begin() as conn:
        for statement in ddl:
            conn.execute(text(statement))


def test_failure_while_registering_leaves_no_half_registered_version(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    _fail_registration(store)
    with pytest.raises(Exception, match="registry unavailable"):
        train_version(
            store.sessions,
            artifacts,
            snapshot_id=snapshot_id,
            options=TrainOptions(model="popularity", protocol=Protocol(tune=False)),
        )
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ModelVersion)) == 0
        assert s.scalar(select(func.count()).select_from(ModelEvent)) == 0


def test_killed_training_leaves_the_registry_consistent(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    first = train_version(
        store.sessions,
        artifacts,
        snapshot_id=snapshot_id,
        options=TrainOptions(model="popularity", protocol=Protocol(tune=False)),
    )
    promote_with_gate(store.sessions, artifacts, version_id=first.version_id)
    # Kill `nextshow train` at several points of its life; whatever it reached, the registry
    # must hold only complete versions and production must not move.
    for delay in (0.3, 1.0, 2.0, 3.5):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nextshow.cli",
                "train",
                "--model",
                "itemknn",
                "--no-tune",
                "--snapshot",
                snapshot_id,
            ],
            env=store.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        _assert_registry_consistent(store, artifacts)
        with store.sessions() as s:
            assert production_version(s).id == first.version_id


def test_tampered_artifact_is_refused_and_production_stays(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    good = train_version(
        store.sessions,
        artifacts,
        snapshot_id=snapshot_id,
        options=TrainOptions(model="itemknn", params={"k": 10}, protocol=Protocol(tune=False)),
    )
    promote_with_gate(store.sessions, artifacts, version_id=good.version_id)
    other = train_version(
        store.sessions,
        artifacts,
        snapshot_id=snapshot_id,
        options=TrainOptions(model="itemknn", params={"k": 20}, protocol=Protocol(tune=False)),
    )
    folder = store.home / "artifacts" / artifacts.key_of(other.artifact_uri)
    npz = folder / "arrays.npz"
    data = bytearray(npz.read_bytes())
    data[-100] ^= 0xFF
    npz.write_bytes(bytes(data))
    with store.sessions() as s:
        tampered = s.get(ModelVersion, other.version_id)
        with pytest.raises(ArtifactError, match="checksum"):
            load_version(artifacts, tampered, store.home / "cache")
        current = production_version(s)
        model = load_version(artifacts, current, store.home / "cache")
    assert current.id == good.version_id
    assert model.recommend([0, 3], n=5)


def test_two_concurrent_train_runs_register_two_intact_versions(seeded):
    store, artifacts = seeded
    snapshot_id = _snapshot(store, artifacts)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nextshow.cli",
                "train",
                "--model",
                model,
                "--no-tune",
                "--snapshot",
                snapshot_id,
                "--json",
            ],
            env=store.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for model in ("itemknn", "rp3beta")
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    ids = sorted(json.loads(out)["version_id"] for out, _ in outputs)
    with store.sessions() as s:
        assert sorted(s.scalars(select(ModelVersion.id))) == ids
        assert s.scalar(select(func.count()).select_from(ModelEvent)) == 2
    _assert_registry_consistent(store, artifacts)


def test_cli_snapshot_train_promote_models(seeded):
    store, _ = seeded
    env = store.env()
    first = run_cli("snapshot", "--json", env=env, check=True)
    again = run_cli("snapshot", "--json", env=env, check=True)
    assert json.loads(first.stdout)["id"] == json.loads(again.stdout)["id"]
    run_cli("train", "--model", "itemknn", "--param", "k=20", env=env, check=True)
    run_cli("train", "--model", "popularity", "--no-tune", env=env, check=True)
    run_cli("promote", "1", env=env, check=True)
    refused = run_cli("promote", "2", env=env)
    assert refused.returncode == 3 and "refused" in refused.stderr
    forced = run_cli("promote", "2", "--force", env=env)
    assert forced.returncode != 0 and "reason" in forced.stderr
    run_cli("promote", "2", "--force", "--reason", "testing", env=env, check=True)
    run_cli("rollback", "--reason", "oops", env=env, check=True)
    listing = json.loads(run_cli("models", "--json", env=env, check=True).stdout)
    stages = {v["version"]: v["stage"] for v in listing["versions"]}
    assert stages == {1: "production", 2: "archived"}
    assert [e["action"] for e in listing["events"]] == [
        "register",
        "register",
        "promote",
        "refuse",
        "promote",
        "rollback",
    ]
    bad = run_cli("train", "--model", "itemknn", "--param", "nonsense=1", env=env)
    assert bad.returncode != 0 and "nonsense" in bad.stderr
