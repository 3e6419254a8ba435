"""Snapshots: content-addressed, deterministic, checked on read, on a local folder and on S3."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

import fsspec
import numpy as np
import pytest
from sqlalchemy import select

from nextshow.catalog.normalize import normalize_title
from nextshow.db.models import DatasetSnapshot, Rating, Show, User
from nextshow.pipeline.data import likes_matrix
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.snapshots import (
    SnapshotError,
    export_snapshot,
    read_snapshot,
)


def _seed(store, ratings: list[tuple[str, str, float, int | None]]) -> None:
    """ratings: (user external id, show title, rating, unix time)."""
    with store.sessions() as s, s.begin():
        shows: dict[str, Show] = {}
        users: dict[str, User] = {}
        for user_key, title, rating, ts in ratings:
            if title not in shows:
                shows[title] = Show(
                    title=title, normalized_title=normalize_title(title), source="test"
                )
                s.add(shows[title])
            if user_key not in users:
                users[user_key] = User(external_id=user_key, source="test")
                s.add(users[user_key])
            s.flush()
            s.add(
                Rating(
                    user_id=users[user_key].id,
                    show_id=shows[title].id,
                    rating=rating,
                    liked=rating >= 8,
                    source="test",
                    rated_at=None if ts is None else datetime.fromtimestamp(ts, UTC),
                )
            )


ROWS = [
    ("u1", "The Wire", 9, 100),
    ("u1", "Lost", 8, 200),
    ("u2", "The Wire", 10, 150),
    ("u2", "Friends", 3, 160),
    ("u3", "Lost", 8, 300),
]


def _export(store, artifacts: ArtifactStore):
    with store.sessions() as s, s.begin():
        return export_snapshot(s, artifacts, like_threshold=8.0, source="test")


def test_unchanged_data_gives_the_same_id_and_writes_nothing_new(store, tmp_path):
    _seed(store, ROWS)
    artifacts = ArtifactStore((tmp_path / "artifacts").as_uri())
    first, created = _export(store, artifacts)
    assert created
    again, created_again = _export(store, artifacts)
    assert again.id == first.id and not created_again
    assert (first.rows, first.users, first.shows, first.likes) == (5, 3, 3, 4)
    assert artifacts.list(f"snapshots/{first.id}") == [
        "manifest.json",
        "ratings.parquet",
        "shows.parquet",
    ]
    with store.sessions() as s:
        assert s.scalars(select(DatasetSnapshot.id)).all() == [first.id]


def test_changed_data_gives_a_new_id(store, tmp_path):
    _seed(store, ROWS)
    artifacts = ArtifactStore((tmp_path / "a").as_uri())
    first, _ = _export(store, artifacts)
    with store.sessions() as s, s.begin():
        rating = s.scalars(select(Rating).where(Rating.rating == 3)).one()
        rating.rating, rating.liked = 9, True
    second, created = _export(store, artifacts)
    assert created and second.id != first.id and second.likes == 5


def test_same_content_in_two_databases_gives_the_same_id(store, sqlite_store, tmp_path):
    _seed(store, ROWS)
    _seed(sqlite_store, ROWS)
    a, _ = _export(store, ArtifactStore((tmp_path / "a").as_uri()))
    b, _ = _export(sqlite_store, ArtifactStore((tmp_path / "b").as_uri()))
    assert a.id == b.id


def test_read_back_builds_the_likes_matrix(store, tmp_path):
    _seed(store, ROWS)
    artifacts = ArtifactStore((tmp_path / "a").as_uri())
    manifest, _ = _export(store, artifacts)
    data = read_snapshot(artifacts, manifest.id)
    likes, timestamps, user_ids, show_ids = likes_matrix(data.ratings)
    assert likes.shape == (3, 2)  # Friends has no like: no column
    assert likes.nnz == 4
    assert timestamps is not None
    np.testing.assert_array_equal(timestamps.indptr, likes.indptr)
    assert sorted(timestamps.data.tolist()) == [100, 150, 200, 300]
    assert len(user_ids) == 3 and len(show_ids) == 2


def test_tampered_snapshot_is_refused(store, tmp_path):
    _seed(store, ROWS)
    artifacts = ArtifactStore((tmp_path / "a").as_uri())
    manifest, _ = _export(store, artifacts)
    path = tmp_path / "a" / "snapshots" / manifest.id / "ratings.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match="checksum"):
        read_snapshot(artifacts, manifest.id)
    with pytest.raises(SnapshotError, match="not found"):
        read_snapshot(artifacts, "0" * 16)


def test_snapshot_round_trip_through_s3_compatible_server(sqlite_store, tmp_path, s3_options):
    _seed(sqlite_store, ROWS)
    bucket = f"nextshow-{uuid.uuid4().hex[:8]}"
    fsspec.filesystem("s3", **s3_options).mkdir(bucket)
    remote = ArtifactStore(f"s3://{bucket}/prod", s3_options)
    local = ArtifactStore((tmp_path / "a").as_uri())
    on_s3, created = _export(sqlite_store, remote)
    assert created
    assert remote.uri(f"snapshots/{on_s3.id}").startswith(f"s3://{bucket}/prod/")
    # A fresh client sees the objects: they are on the server, not in a local cache.
    fresh = ArtifactStore(f"s3://{bucket}/prod", {**s3_options, "skip_instance_cache": True})
    data = read_snapshot(fresh, on_s3.id)
    assert data.ratings.num_rows == 5
    on_disk, _ = _export(sqlite_store, local)
    assert on_disk.id == on_s3.id


def test_same_file_imported_by_two_processes_gives_the_same_snapshot(tmp_path):
    """Ids must not depend on Python's per-process hash seed: same data, same snapshot id."""
    from pathlib import Path

    from tests.conftest import run_cli

    ratings = Path(__file__).parents[1] / "fixtures" / "movietweetings" / "ratings.dat"
    ids = []
    for seed in ("1", "2"):
        home = tmp_path / f"home-{seed}"
        env = {
            **os.environ,
            "NEXTSHOW_HOME": str(home),
            "NEXTSHOW_PROGRESS": "false",
            "PYTHONHASHSEED": seed,
        }
        env.pop("NEXTSHOW_DATABASE_URL", None)
        run_cli("import", "ratings", str(ratings), "--format", "movietweetings", env=env)
        snapshot = run_cli("snapshot", "--json", env=env, check=True)
        ids.append(json.loads(snapshot.stdout)["id"])
    assert ids[0] == ids[1]


def test_small_chunks_give_the_same_counts_and_cutoff(store, tmp_path, monkeypatch):
    """Users and shows spanning chunk boundaries, a rating and a time unknown, a web like newer
    than the rest: the streamed summary equals the database's own counts."""
    from sqlalchemy import func

    from nextshow.db.models import FEEDBACK_SOURCE
    from nextshow.registry import table_export

    _seed(store, [*ROWS, ("u3", "The Wire", 9, None), ("u4", "Friends", 8, 400)])
    with store.sessions() as s, s.begin():
        s.scalars(select(Rating).where(Rating.rated_at.is_(None))).one().rating = None
        newest = s.scalars(select(Rating).where(Rating.rating == 8).order_by(Rating.user_id))
        newest.all()[-1].source = FEEDBACK_SOURCE  # u4's like at 400 is a web like
    whole, _ = _export(store, ArtifactStore((tmp_path / "a").as_uri()))
    monkeypatch.setattr(table_export, "CHUNK_ROWS", 2)
    chunked, _ = _export(store, ArtifactStore((tmp_path / "b").as_uri()))
    with store.sessions() as s:
        users = s.scalar(select(func.count(func.distinct(Rating.user_id))))
        likes = s.scalar(select(func.count()).select_from(Rating).where(Rating.liked))
    assert (chunked.rows, chunked.users, chunked.likes) == (7, users, likes) == (7, 4, 6)
    assert chunked.cutoff == whole.cutoff == 300  # the web like at 400 does not move it
    data = read_snapshot(ArtifactStore((tmp_path / "b").as_uri()), chunked.id)
    assert data.ratings.column("rating").null_count == 1
    assert data.ratings.column("rated_at").null_count == 1
