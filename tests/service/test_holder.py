"""The model holder: hot swap under load, a failed swap keeps the old model, readiness says so."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from nextshow.db.models import ModelVersion
from nextshow.registry.artifact_store import ArtifactStore, folder_sha256
from nextshow.service.holder import ModelHolder
from tests.service.conftest import ADMIN_TOKEN, service_settings, train_and_promote


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def _corrupt_artifact(store, version_id: int) -> None:
    """Flip bytes in the stored model file, as a bad disk or a tampering hand would."""
    artifacts = ArtifactStore(store.settings.artifacts_url)
    with store.sessions() as session:
        uri = session.get(ModelVersion, version_id).artifact_uri
    folder = Path(artifacts.root) / artifacts.key_of(uri)
    target = folder / "arrays.npz"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))


def test_hot_swap_does_not_drop_requests(trained, tmp_path):
    artifacts = ArtifactStore(trained.settings.artifacts_url)
    holder = ModelHolder(trained.sessions, artifacts, tmp_path / "cache", poll_seconds=0.05)
    holder.start()
    try:
        assert holder.status().version_id == 1
        liked = [int(holder.current.vocabulary.show_ids[0])]
        stop = threading.Event()
        served: list[int | None] = []
        errors: list[BaseException] = []

        def hammer() -> None:
            while not stop.is_set():
                try:
                    model = holder.current  # what a request does: one read, then use it
                    recs, _ = model.recommend(liked, 5)
                    assert recs
                    served.append(model.version_id)
                except BaseException as err:  # any failure is a dropped request
                    errors.append(err)

        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for t in threads:
            t.start()
        version = train_and_promote(trained, "popularity", force_reason="swap test")
        _wait(lambda: holder.status().version_id == version)
        time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        assert not errors
        assert served[0] == 1 and served[-1] == version and set(served) == {1, version}
    finally:
        holder.stop()


def test_failed_swap_keeps_previous_model(trained, make_client, caplog):
    client = make_client(service_settings(trained, model_poll_seconds=3600), run_worker=False)
    holder = client.app.state.services.holder
    bad = train_and_promote(trained, "itemknn", force_reason="bad artifact", k=10)
    _corrupt_artifact(trained, bad)
    with caplog.at_level(logging.ERROR, logger="nextshow.service.holder"):
        assert holder.refresh() is False
    assert f"version {bad} failed to load" in caplog.text and "keeping version 1" in caplog.text

    ready = client.get("/readyz", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["model"]["version"] == 1 and body["model"]["failed_version"] == bad
    assert "checksum" in body["model"]["last_error"]
    answer = client.get("/api/recommendations", params={"show": "Show 1"}).json()
    assert answer["model"]["version"] == 1  # still answering with the previous model
    assert holder.refresh() is False  # a broken version is not reloaded on every poll
    public = client.get("/readyz").json()["model"]  # no paths or checksums for anyone else
    assert public["failed_version"] == bad and public["last_error"] == "details for admins only"

    good = train_and_promote(trained, "itemknn", force_reason="fixed", k=30)
    assert holder.refresh() is True
    body = client.get("/readyz").json()
    assert body["status"] == "ok" and body["model"]["version"] == good
    assert body["model"]["last_error"] is None


def test_old_format_artifact_is_refused(trained, tmp_path):
    """A format-1 artifact (vocabulary in a side shows.json) is refused with a clear error, even
    when the version's checksum matches it, and the holder keeps serving what it has."""
    version = train_and_promote(trained, "itemknn", force_reason="old format", k=10)
    artifacts = ArtifactStore(trained.settings.artifacts_url)
    with trained.sessions() as session, session.begin():
        row = session.get(ModelVersion, version)
        folder = Path(artifacts.root) / artifacts.key_of(row.artifact_uri)
        meta = json.loads((folder / "model.json").read_text())
        meta["format_version"] = 1
        (folder / "model.json").write_text(json.dumps(meta))
        (folder / "shows.json").write_text(json.dumps({"show_ids": [1, 2, 3]}))
        row.artifact_sha256 = folder_sha256(folder)[0]  # the store vouches for it: only the
        # format check is left to refuse it
    holder = ModelHolder(trained.sessions, artifacts, tmp_path / "cache")
    holder.refresh()
    status = holder.status()
    assert status.failed_version_id == version and status.fallback
    assert "format_version 1 not supported" in (status.last_error or "")
    assert "retrain" in (status.last_error or "")
    assert holder.current.recommend([1], 3)[1] is True


def test_liked_shows_unknown_to_the_model_are_reported(trained, tmp_path, caplog):
    artifacts = ArtifactStore(trained.settings.artifacts_url)
    holder = ModelHolder(trained.sessions, artifacts, tmp_path / "cache")
    model = holder.current
    known = int(model.vocabulary.show_ids[0])
    unknown = int(model.vocabulary.show_ids.max()) + 1000
    with caplog.at_level(logging.INFO, logger="nextshow.service.holder"):
        recs, fallback = model.recommend([known, unknown], 3)
    assert not fallback and recs
    assert f"does not know 1 liked show(s): [{unknown}]" in caplog.text
    # Only unknown likes: popularity answers, and the ids are still reported.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nextshow.service.holder"):
        assert model.recommend([unknown], 3)[1] is True
    assert str(unknown) in caplog.text


def test_a_loaded_model_answers_once_before_it_is_served(trained, tmp_path, monkeypatch):
    """What a model loads on first use (the ranker's compiled loops) is paid by the load, not
    by the first person: the holder asks the model once before swapping it in."""
    from nextshow.recommenders.base import Recommender

    calls: list[tuple[list[int], int]] = []
    recommend = Recommender.recommend

    def counted(self, liked, n=10, exclude=None):
        calls.append((list(liked), n))
        return recommend(self, liked, n, exclude)

    monkeypatch.setattr(Recommender, "recommend", counted)
    artifacts = ArtifactStore(trained.settings.artifacts_url)
    holder = ModelHolder(trained.sessions, artifacts, tmp_path / "cache", poll_seconds=3600)
    holder.start()
    try:
        assert holder.status().version_id == 1
        assert calls == [([0], 1)]
    finally:
        holder.stop()
