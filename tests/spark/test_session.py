"""Artifact-store URLs as Spark paths, S3A settings, and what the Spark engine refuses."""

from __future__ import annotations

import pytest

from nextshow.config import Settings
from nextshow.registry.snapshots import SnapshotError
from nextshow.spark.models import check_spark_model, spark_models
from nextshow.spark.session import s3a_conf, spark_conf, storage_path


def test_storage_paths() -> None:
    assert storage_path("s3://bucket/prefix/x.parquet") == "s3a://bucket/prefix/x.parquet"
    assert storage_path("s3a://bucket/x") == "s3a://bucket/x"
    assert storage_path("file:///srv/artifacts/x") == "file:///srv/artifacts/x"
    assert storage_path("/srv/artifacts/x") == "file:///srv/artifacts/x"
    assert storage_path("hdfs://nn:8020/a") == "hdfs://nn:8020/a"
    with pytest.raises(ValueError, match="memory://"):
        storage_path("memory://bucket/x")


def test_s3a_settings_follow_the_artifact_store_options() -> None:
    conf = s3a_conf({"client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}})
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert s3a_conf({}) == {}


def test_spark_conf_from_settings(tmp_path) -> None:
    settings = Settings(
        home=tmp_path,
        spark_master="local[2]",
        spark_shuffle_partitions=3,
        spark_conf={"spark.ui.enabled": "true", "spark.executor.memory": "8g"},
        artifact_options={"endpoint_url": "https://s3.example.org"},
    )
    conf = spark_conf(settings)
    assert conf["spark.sql.shuffle.partitions"] == "3"
    assert conf["spark.ui.enabled"] == "true"  # the settings' extras win
    assert conf["spark.executor.memory"] == "8g"
    assert conf["spark.driver.host"] == "127.0.0.1"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "https://s3.example.org"
    remote = spark_conf(Settings(home=tmp_path, spark_master="spark://head:7077"))
    assert "spark.driver.host" not in remote


def test_models_without_a_spark_engine_are_refused_by_name() -> None:
    assert spark_models() == [
        "als",
        "graph",
        "itemknn",
        "popularity",
        "recent-popularity",
        "rp3beta",
    ]
    with pytest.raises(ValueError, match=r"time-aware.*itemknn"):
        check_spark_model("time-aware")


def test_a_tampered_snapshot_is_refused(spark, snapshot, tmp_path) -> None:
    from nextshow.registry.artifact_store import ArtifactStore
    from nextshow.spark.frames import read_likes

    store = ArtifactStore((tmp_path / "copy").as_uri())
    key = f"snapshots/{snapshot.snapshot_id}"
    for name in ("manifest.json", "shows.parquet", "ratings.parquet"):
        store.write_bytes(f"{key}/{name}", snapshot.store.read_bytes(f"{key}/{name}"))
    ratings = snapshot.store.read_bytes(f"{key}/ratings.parquet")
    store.write_bytes(f"{key}/ratings.parquet", ratings[:-20] + b"\0" * 20)
    with pytest.raises(SnapshotError, match=r"ratings\.parquet: checksum does not match"):
        read_likes(spark, store, snapshot.snapshot_id)
    with pytest.raises(SnapshotError, match="not found"):
        read_likes(spark, store, "0123456789abcdef")


def test_a_model_needing_times_is_refused_without_them(spark_likes) -> None:
    from nextshow.spark.models import fit_on_spark

    with pytest.raises(ValueError, match="needs like times"):
        fit_on_spark(
            "recent-popularity", {}, spark_likes.frame, spark_likes.vocabulary, timed=False
        )
