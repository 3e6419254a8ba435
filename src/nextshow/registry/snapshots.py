"""Dataset snapshots: the shows and ratings tables frozen into content-addressed Parquet files.

Training reads only snapshots, never the live tables. A snapshot is three files under
``snapshots/<id>/`` in the artifact store: ``shows.parquet``, ``ratings.parquet`` and
``manifest.json`` (written last: a snapshot without a manifest is incomplete and ignored), plus
``credits.parquet`` when the catalogue has IMDb's people. The id is a hash of the Parquet files
and the like threshold, so exporting unchanged data gives the same id and writes nothing new.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nextshow import __version__
from nextshow.db.models import DatasetSnapshot, Rating, Show, ShowCredit
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.table_export import (
    CHUNK_ROWS,
    CREDITS_SCHEMA,
    RATINGS_SCHEMA,
    SHOWS_SCHEMA,
    RatingsSummary,
    credit_tables,
    rating_tables,
    show_tables,
)


@dataclass(frozen=True)
class SnapshotManifest:
    """What a snapshot holds and where it came from."""

    id: str
    rows: int
    users: int
    shows: int
    likes: int
    like_threshold: float
    data_as_of: str | None  # newest ratings.updated_at included (ISO 8601, UTC)
    created_at: str
    source: str
    code_version: str
    files: dict[str, str]  # name -> sha256
    # Unix time time-decay is measured against: the newest rated_at outside the feedback loop
    # (any rated_at when there is none). Likes stamped later count as of this time, so a few
    # requests stamped "now" on 2013 data cannot make every other like look ancient.
    cutoff: int | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SnapshotManifest:
        return cls(**json.loads(text))


def _parquet_bytes(tables: Iterator[pa.Table], schema: pa.Schema) -> bytes:
    buffer = io.BytesIO()
    # Fixed options and no wall-clock metadata: the same rows give the same bytes.
    with pq.ParquetWriter(buffer, schema, compression="zstd", write_statistics=False) as writer:
        for table in tables:
            writer.write_table(table, row_group_size=CHUNK_ROWS)
    return buffer.getvalue()


def export_snapshot(
    session: Session, store: ArtifactStore, *, like_threshold: float, source: str
) -> tuple[SnapshotManifest, bool]:
    """Freeze the shows and ratings tables; returns the manifest and whether it is new.

    Read in one transaction, so a concurrent import is either wholly in or wholly out.
    """
    shows_bytes = _parquet_bytes(show_tables(session), SHOWS_SCHEMA)
    summary = RatingsSummary()
    ratings_bytes = _parquet_bytes(rating_tables(session, summary), RATINGS_SCHEMA)
    cutoff = summary.cutoff
    blobs = {"shows.parquet": shows_bytes, "ratings.parquet": ratings_bytes}
    if session.scalar(select(ShowCredit.show_id).limit(1)) is not None:
        blobs["credits.parquet"] = _parquet_bytes(credit_tables(session), CREDITS_SCHEMA)
    files, snapshot_id = _content_id(blobs, like_threshold, cutoff)
    key = f"snapshots/{snapshot_id}"

    if store.exists(f"{key}/manifest.json"):
        manifest = SnapshotManifest.from_json(store.read_bytes(f"{key}/manifest.json").decode())
        _record(session, store, manifest)
        return manifest, False

    data_as_of = session.scalar(select(func.max(Rating.updated_at)))  # indexed
    manifest = SnapshotManifest(
        id=snapshot_id,
        rows=summary.rows,
        users=summary.users,
        shows=int(session.scalar(select(func.count()).select_from(Show)) or 0),
        likes=summary.likes,
        like_threshold=like_threshold,
        data_as_of=data_as_of.isoformat() if data_as_of else None,
        created_at=datetime.now(UTC).isoformat(),
        source=source,
        code_version=__version__,
        files=files,
        cutoff=cutoff,
    )
    _write_files(store, manifest, blobs)
    _record(session, store, manifest)
    return manifest, True


def _content_id(
    blobs: dict[str, bytes], like_threshold: float, cutoff: int | None = None
) -> tuple[dict[str, str], str]:
    """The files' checksums and the snapshot id they make (with the like threshold and, when
    known, the decay cut-off: the same rows with another cut-off train another model)."""
    files = {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()}
    payload: dict[str, object] = {"files": files, "like_threshold": like_threshold}
    if cutoff is not None:
        payload["cutoff"] = cutoff
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return files, digest[:16]


def _write_files(store: ArtifactStore, manifest: SnapshotManifest, blobs: dict[str, bytes]) -> None:
    key = f"snapshots/{manifest.id}"
    for name, blob in blobs.items():
        store.write_bytes(f"{key}/{name}", blob)
    store.write_bytes(f"{key}/manifest.json", manifest.to_json().encode())  # last: the commit


def snapshot_from_tables(
    store: ArtifactStore,
    shows: pa.Table,
    ratings: pa.Table,
    *,
    like_threshold: float,
    source: str,
    cutoff: int | None = None,
) -> SnapshotManifest:
    """Write a snapshot from in-memory tables (synthetic data, benchmarks) without a database.

    Same files, manifest and id rule as :func:`export_snapshot`; not recorded in any database.
    ``cutoff``: the decay cut-off (unix seconds) to record, as an export computes it.
    """
    blobs = {
        "shows.parquet": _parquet_bytes(iter([shows.cast(SHOWS_SCHEMA)]), SHOWS_SCHEMA),
        "ratings.parquet": _parquet_bytes(iter([ratings.cast(RATINGS_SCHEMA)]), RATINGS_SCHEMA),
    }
    files, snapshot_id = _content_id(blobs, like_threshold, cutoff)
    liked = ratings.filter(ratings.column("liked"))
    manifest = SnapshotManifest(
        id=snapshot_id,
        rows=ratings.num_rows,
        users=len(ratings.column("user_id").unique()),
        shows=shows.num_rows,
        likes=liked.num_rows,
        like_threshold=like_threshold,
        data_as_of=None,
        created_at=datetime.now(UTC).isoformat(),
        source=source,
        code_version=__version__,
        files=files,
        cutoff=cutoff,
    )
    _write_files(store, manifest, blobs)
    return manifest


def _record(session: Session, store: ArtifactStore, manifest: SnapshotManifest) -> None:
    """Register the snapshot in the database (once)."""
    if session.get(DatasetSnapshot, manifest.id) is not None:
        return
    session.add(
        DatasetSnapshot(
            id=manifest.id,
            uri=store.uri(f"snapshots/{manifest.id}"),
            rows=manifest.rows,
            users=manifest.users,
            shows=manifest.shows,
            likes=manifest.likes,
            like_threshold=manifest.like_threshold,
            data_as_of=datetime.fromisoformat(manifest.data_as_of) if manifest.data_as_of else None,
            manifest=manifest.to_json(),
        )
    )


class SnapshotError(Exception):
    """A snapshot that is missing, incomplete or does not match its manifest."""


@dataclass(frozen=True)
class SnapshotData:
    """A snapshot read back: its manifest and its tables (credits: None when it has none)."""

    manifest: SnapshotManifest
    shows: pa.Table
    ratings: pa.Table
    credits: pa.Table | None = None


def read_snapshot(store: ArtifactStore, snapshot_id: str) -> SnapshotData:
    """Read a snapshot and check its files against the manifest's checksums."""
    key = f"snapshots/{snapshot_id}"
    try:
        manifest = SnapshotManifest.from_json(store.read_bytes(f"{key}/manifest.json").decode())
    except FileNotFoundError as exc:
        raise SnapshotError(f"snapshot {snapshot_id} not found in {store.url}") from exc
    tables = {}
    for name, expected in manifest.files.items():
        data = store.read_bytes(f"{key}/{name}")
        if hashlib.sha256(data).hexdigest() != expected:
            raise SnapshotError(f"{store.uri(f'{key}/{name}')}: checksum does not match manifest")
        tables[name] = pq.read_table(io.BytesIO(data))
    return SnapshotData(
        manifest, tables["shows.parquet"], tables["ratings.parquet"], tables.get("credits.parquet")
    )


def latest_snapshot_id(session: Session) -> str | None:
    return session.scalar(
        select(DatasetSnapshot.id).order_by(DatasetSnapshot.created_at.desc()).limit(1)
    )
