"""`train` with the Spark engine: same artifact, registry row with its engine, same gate."""

from __future__ import annotations

import json

import pytest

from nextshow.config import Settings
from nextshow.db.models import ModelVersion
from nextshow.evaluation.protocol import Protocol
from nextshow.pipeline.promotion import promote_with_gate
from nextshow.pipeline.train import TrainOptions, train_version
from nextshow.recommenders import load_artifact
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.snapshots import export_snapshot
from nextshow.registry.versions import GateRefused
from tests.pipeline.conftest import seed_ratings
from tests.spark.conftest import SPARK_TEST_SETTINGS

pytestmark = pytest.mark.slow


def _snapshot(store, artifacts) -> str:
    with store.sessions() as s, s.begin():
        return export_snapshot(s, artifacts, like_threshold=8.0, source="test")[0].id


def _train(store, artifacts, snapshot_id, engine, model, **params):
    settings = Settings(home=store.home, **SPARK_TEST_SETTINGS)
    options = TrainOptions(model=model, params=params, protocol=Protocol(tune=False), engine=engine)
    return train_version(
        store.sessions, artifacts, snapshot_id=snapshot_id, options=options, settings=settings
    )


def _artifact(artifacts, uri, tmp_path, name):
    folder = artifacts.download_dir(artifacts.key_of(uri), tmp_path / name)
    return folder, load_artifact(folder)


def test_spark_trained_version_is_the_numpy_one_and_passes_the_same_gate(
    spark, sqlite_store, tmp_path
) -> None:
    # SQLite only: the engine column on PostgreSQL is covered in tests/pipeline/test_registry.py,
    # and the Spark part does not depend on the database.
    store = sqlite_store
    seed_ratings(store)
    artifacts = ArtifactStore(store.settings.artifacts_url)
    snapshot_id = _snapshot(store, artifacts)
    on_spark = _train(store, artifacts, snapshot_id, "spark", "itemknn", k=10)
    on_numpy = _train(store, artifacts, snapshot_id, "numpy", "itemknn", k=10)
    assert (on_spark.engine, on_numpy.engine) == ("spark", "numpy")
    with store.sessions() as s:
        assert s.get(ModelVersion, on_spark.version_id).engine == "spark"
        assert s.get(ModelVersion, on_numpy.version_id).engine == "numpy"
    # Every test user fits in the sample, so the holdout metrics are the NumPy engine's.
    assert on_spark.metrics == on_numpy.metrics
    assert on_spark.params == on_numpy.params

    # The service cannot tell them apart: same files, same arrays, same shows per column.
    spark_dir, spark_model = _artifact(artifacts, on_spark.artifact_uri, tmp_path, "spark")
    numpy_dir, numpy_model = _artifact(artifacts, on_numpy.artifact_uri, tmp_path, "numpy")
    assert sorted(p.name for p in spark_dir.iterdir()) == sorted(
        p.name for p in numpy_dir.iterdir()
    )
    spark_shows, numpy_shows = spark_model.vocabulary_, numpy_model.vocabulary_
    assert spark_shows.show_ids.tolist() == numpy_shows.show_ids.tolist()
    assert spark_shows.imdb_ids == numpy_shows.imdb_ids
    spark_meta = json.loads((spark_dir / "model.json").read_text())
    numpy_meta = json.loads((numpy_dir / "model.json").read_text())
    for key in ("name", "params", "n_shows", "sparse", "vocabulary", "format_version"):
        assert spark_meta[key] == numpy_meta[key]
    assert (spark_model.similarity_ != numpy_model.similarity_).nnz == 0
    liked = [[0, 3], [1, 4, 7], [2]]
    assert [[r.show for r in recs] for recs in spark_model.recommend_batch(liked, 5)] == [
        [r.show for r in recs] for recs in numpy_model.recommend_batch(liked, 5)
    ]

    # The same gate: the Spark version goes to production first ...
    assert promote_with_gate(store.sessions, artifacts, version_id=on_spark.version_id).passed
    # ... and on a newer snapshot its recipe is re-evaluated on Spark against a weaker model.
    seed_ratings(store, first_user=120, seed=7)
    newer = _snapshot(store, artifacts)
    weak = _train(store, artifacts, newer, "numpy", "popularity")
    with pytest.raises(GateRefused, match="recipe re-evaluated on snapshot") as refused:
        promote_with_gate(store.sessions, artifacts, version_id=weak.version_id)
    baseline = refused.value.decision.production
    again = _train(store, artifacts, newer, "numpy", "itemknn", k=10)
    assert baseline == again.metrics["ndcg@10"] > refused.value.decision.candidate
