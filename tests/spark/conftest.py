"""One local Spark session for the whole test run, and a synthetic snapshot both engines read.

Spark runs in local mode (``local[2]``, no UI, few shuffle partitions): starting a JVM costs
seconds, so the session is shared by every Spark test (session scope).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from nextshow.config import Settings
from nextshow.evaluation.dataset import Interactions
from nextshow.pipeline.data import interactions_from_snapshot
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.snapshots import read_snapshot, snapshot_from_tables
from nextshow.synthetic import generate

SPARK_TEST_SETTINGS = {
    "spark_master": "local[2]",
    "spark_driver_memory": "1g",
    "spark_shuffle_partitions": 2,
    # Tiny data: compiling query code and optimising the JVM cost more than they save.
    "spark_conf": {
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.adaptive.enabled": "false",
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    },
}


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from nextshow.spark.session import get_spark

    settings = Settings(home=tmp_path_factory.mktemp("spark-home"), **SPARK_TEST_SETTINGS)
    session = get_spark(settings)
    yield session
    session.stop()


@dataclass(frozen=True)
class SnapshotFixture:
    store: ArtifactStore
    snapshot_id: str
    interactions: Interactions  # what the NumPy engine reads from the same snapshot


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> SnapshotFixture:
    """About 30,000 likes of 400 shows by 12,000 users (1,100 test users), original shape."""
    data = generate(n_ratings=60_000, n_users=12_000, n_shows=400, seed=42)
    store = ArtifactStore(tmp_path_factory.mktemp("artifacts").as_uri())
    shows, ratings = data.tables()
    manifest = snapshot_from_tables(store, shows, ratings, like_threshold=8.0, source="synthetic")
    interactions = interactions_from_snapshot(read_snapshot(store, manifest.id))
    return SnapshotFixture(store, manifest.id, interactions)


@pytest.fixture(scope="session")
def spark_likes(spark, snapshot: SnapshotFixture):
    from nextshow.spark.frames import read_likes

    return read_likes(spark, snapshot.store, snapshot.snapshot_id)
