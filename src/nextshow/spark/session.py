"""The SparkSession nextshow trains with, and artifact-store URLs as paths Spark can read.

Under ``spark-submit`` a session already exists (master, memory and jars come from the submit
command) and is reused as it is; otherwise one is started from the settings
(``NEXTSHOW_SPARK_MASTER``, ``NEXTSHOW_SPARK_DRIVER_MEMORY``, ``NEXTSHOW_SPARK_CONF``...).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from nextshow.config import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

APP_NAME = "nextshow-train"


def storage_path(url: str) -> str:
    """The Spark (Hadoop) path of an artifact-store URL: ``s3://`` and ``s3a://`` become
    ``s3a://`` (Hadoop's S3 connector), ``file://`` and plain paths stay local files.

    Other fsspec protocols (memory://, gcs://...) have no Hadoop connector nextshow configures,
    so they are refused here rather than failing inside a Spark job.
    """
    if "://" not in url:
        return f"file://{url}" if url.startswith("/") else url
    scheme, rest = url.split("://", 1)
    if scheme in ("s3", "s3a"):
        return f"s3a://{rest}"
    if scheme == "file":
        return f"file://{rest}"
    if scheme in ("hdfs", "gs", "abfs", "abfss"):
        return url  # Hadoop reads these itself when the cluster has the connector
    raise ValueError(
        f"artifact store {url!r}: Spark training reads local folders, s3:// (as s3a://) or "
        f"Hadoop file systems (hdfs://, gs://, abfs://), not {scheme}://"
    )


def s3a_conf(options: dict[str, Any]) -> dict[str, str]:
    """Hadoop S3A settings equivalent to the artifact store's fsspec (s3fs) options.

    Only the endpoint (an S3-compatible server) and path-style access are translated; keys are
    left to the usual AWS credential chain (environment, instance profile) of every executor.
    """
    conf: dict[str, str] = {}
    endpoint = options.get("endpoint_url") or (options.get("client_kwargs") or {}).get(
        "endpoint_url"
    )
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = str(endpoint)
        # MinIO, Ceph and most self-hosted servers serve buckets as paths, not subdomains.
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        if str(endpoint).startswith("http://"):
            conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = "false"
    return conf


def spark_conf(settings: Settings) -> dict[str, str]:
    """Every setting nextshow gives a session it starts itself (the settings' extras win)."""
    conf = {
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Arrow makes collecting the (small) model arrays to the driver a columnar copy.
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
    }
    if settings.spark_master.startswith("local"):
        # A local driver needs no network: bind to loopback (no hostname lookups, no firewall).
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    conf.update(s3a_conf(settings.artifact_options))
    conf.update(settings.spark_conf)
    return conf


def get_spark(settings: Settings) -> SparkSession:
    """The active SparkSession (spark-submit, tests), or a new one from ``settings``."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        builder = SparkSession.builder.master(settings.spark_master).appName(APP_NAME)
        for key, value in spark_conf(settings).items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("WARN")
    if spark.sparkContext.getCheckpointDir() is None:
        # ALS's lineage grows with every iteration; without checkpoints a deep lineage ends
        # in a StackOverflowError when a task is deserialised.
        spark.sparkContext.setCheckpointDir(
            settings.spark_checkpoint_dir or str(settings.home / "spark-checkpoints")
        )
    log.info("Spark %s on %s", spark.version, spark.sparkContext.master)
    return spark
