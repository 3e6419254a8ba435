"""A snapshot as Spark sees it: every like as a row ``(user, col, t)``, read from the store.

The column order is the NumPy engine's (:func:`nextshow.pipeline.data.likes_matrix`): the
distinct liked show ids, sorted; column ``i`` is ``show_ids[i]``. So a show-show matrix
computed here has the same rows and columns as one computed from the CSR matrix, and the
artifact's show vocabulary is the same.

Parquet is read by the executors straight from the artifact store (local path or ``s3a://``);
only the manifest, the checksums (streamed) and the sorted show ids pass through the driver.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from nextshow.recommenders.vocabulary import ShowVocabulary
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.snapshots import SnapshotError, SnapshotManifest
from nextshow.spark.session import storage_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

# Columns of a likes frame: database user id, model column, like time (unix seconds or null).
USER, COL, TIME = "user", "col", "t"


@dataclass(frozen=True)
class SparkLikes:
    """Every like of a snapshot (one row per liked (user, show) pair) and its column order."""

    frame: DataFrame  # user: long, col: int, t: double (null when unknown)
    show_ids: np.ndarray  # int64, column -> database show id (sorted)
    imdb_ids: tuple[str, ...]  # column -> IMDb id ("" when unknown)
    timed: bool  # every like has a time (else the holdout orders likes by column)

    @property
    def n_shows(self) -> int:
        return len(self.show_ids)

    @property
    def vocabulary(self) -> ShowVocabulary:
        """Which show each column is, as the trained model carries it."""
        return ShowVocabulary(self.show_ids, self.imdb_ids)


def read_manifest(store: ArtifactStore, snapshot_id: str, *, verify: bool) -> SnapshotManifest:
    """The snapshot's manifest; with ``verify`` each file's sha256 is checked (streamed)."""
    key = f"snapshots/{snapshot_id}"
    try:
        manifest = SnapshotManifest.from_json(store.read_bytes(f"{key}/manifest.json").decode())
    except FileNotFoundError as exc:
        raise SnapshotError(f"snapshot {snapshot_id} not found in {store.url}") from exc
    if verify:
        for name, expected in manifest.files.items():
            if store.sha256_of(f"{key}/{name}") != expected:
                raise SnapshotError(
                    f"{store.uri(f'{key}/{name}')}: checksum does not match manifest"
                )
    return manifest


def read_likes(
    spark: SparkSession, store: ArtifactStore, snapshot_id: str, *, verify: bool = True
) -> SparkLikes:
    """The snapshot's likes as a cached DataFrame, columns numbered like the NumPy engine's."""
    from pyspark.sql import functions as F

    manifest = read_manifest(store, snapshot_id, verify=verify)
    base = f"snapshots/{snapshot_id}"
    ratings = spark.read.parquet(storage_path(store.uri(f"{base}/ratings.parquet")))
    time = F.col("rated_at").cast("double")
    if manifest.cutoff is not None:
        # As the NumPy engine reads it (pipeline/data.py): likes stamped after the snapshot's
        # cut-off count as liked at it. least() skips nulls, so an unknown time is kept apart.
        clipped = F.least(time, F.lit(float(manifest.cutoff)))
        time = F.when(time.isNull(), F.lit(None).cast("double")).otherwise(clipped)
    liked = ratings.where(F.col("liked")).select(
        F.col("user_id").alias(USER), "show_id", time.alias(TIME)
    )
    ids = liked.select("show_id").distinct().orderBy("show_id").toArrow()
    show_ids = np.asarray(ids.column("show_id").to_numpy(), dtype=np.int64)
    columns = spark.createDataFrame(
        pa.table({"show_id": show_ids, COL: np.arange(len(show_ids), dtype=np.int32)})
    )
    frame = (
        liked.join(F.broadcast(columns), "show_id")
        .select(USER, COL, TIME)
        .persist()  # read by every step that follows; spills to disk when memory is short
    )
    timed = frame.where(F.col(TIME).isNull()).limit(1).count() == 0
    shows = spark.read.parquet(storage_path(store.uri(f"{base}/shows.parquet")))
    imdb = dict(_imdb_pairs(shows, columns))
    likes = SparkLikes(
        frame=frame,
        show_ids=show_ids,
        imdb_ids=tuple(imdb.get(int(s), "") for s in show_ids),
        timed=timed,
    )
    log.info("snapshot %s: %d shows with likes, times %s", snapshot_id, likes.n_shows, timed)
    return likes


def _imdb_pairs(shows: DataFrame, columns: DataFrame) -> list[tuple[int, str]]:
    from pyspark.sql import functions as F

    table = shows.select("show_id", "imdb_id").join(F.broadcast(columns), "show_id").toArrow()
    return list(
        zip(
            table.column("show_id").to_pylist(),
            [i or "" for i in table.column("imdb_id").to_pylist()],
            strict=True,
        )
    )
