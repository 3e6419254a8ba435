"""Snapshots as the pipeline takes them: threshold and source from the settings, "latest"."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from nextshow.catalog.review import settle_pending
from nextshow.config import Settings
from nextshow.registry.artifact_store import ArtifactStore
from nextshow.registry.snapshots import SnapshotManifest, export_snapshot, latest_snapshot_id

LATEST = "latest"


def take_snapshot(
    session: Session, store: ArtifactStore, settings: Settings
) -> tuple[SnapshotManifest, bool]:
    """Freeze the live tables (manifest, whether it is new) with the configured like threshold.

    Pending shows the data now confirms are settled first, so the snapshot sees them as they are.
    """
    settle_pending(session, min_clients=settings.auto_approve_clients)
    return export_snapshot(
        session, store, like_threshold=settings.like_threshold, source=settings.safe_db_url
    )


def resolve_snapshot(
    sessions: sessionmaker[Session], store: ArtifactStore, settings: Settings, snapshot_id: str
) -> str:
    """``snapshot_id`` itself, or for ``"latest"`` the newest snapshot (taken first if none)."""
    if snapshot_id != LATEST:
        return snapshot_id
    with sessions() as session, session.begin():
        return latest_snapshot_id(session) or take_snapshot(session, store, settings)[0].id
