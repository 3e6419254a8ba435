"""Load a registered model version for serving: fetch, verify the checksum, load without pickle.

Serving code imports this module, never the pipeline: it needs only the registry row, the
artifact store and the recommenders' ``load``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from nextshow.db.models import ModelVersion
from nextshow.recommenders.artifact import ArtifactError
from nextshow.recommenders.base import Recommender
from nextshow.recommenders.kinds import load_artifact
from nextshow.registry.artifact_store import ArtifactStore, folder_sha256

log = logging.getLogger(__name__)


def fetch_artifact(store: ArtifactStore, version: ModelVersion, cache_dir: Path) -> Path:
    """A verified local copy of the version's artifact folder (downloaded once, then cached).

    The registry's checksum is checked on every call. A cached copy that does not match (a
    crash mid-copy, a disk error, tampering) is deleted and fetched again once; only a fresh
    copy that does not match either is refused.
    """
    target = cache_dir / version.artifact_sha256
    if target.exists():
        actual, _ = folder_sha256(target)
        if actual == version.artifact_sha256:
            return target
        log.warning(
            "cached artifact %s is corrupt (checksum %s): fetching it again", target, actual
        )
        shutil.rmtree(target, ignore_errors=True)
    _download(store, version, target)
    actual, _ = folder_sha256(target)
    if actual != version.artifact_sha256:
        raise ArtifactError(
            target,
            f"checksum {actual} does not match the registry's {version.artifact_sha256} "
            f"for model version {version.id}",
        )
    return target


def _download(store: ArtifactStore, version: ModelVersion, target: Path) -> None:
    cache_dir = target.parent
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="fetch-", dir=cache_dir))
        try:
            store.download_dir(store.key_of(version.artifact_uri), tmp)
            try:
                tmp.rename(target)
            except OSError:
                if not target.exists():
                    raise
                # another process fetched the same artifact meanwhile: keep theirs
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def load_version(store: ArtifactStore, version: ModelVersion, cache_dir: Path) -> Recommender:
    """Fetch, verify and load a model version; ArtifactError when it cannot be trusted."""
    return load_artifact(fetch_artifact(store, version, cache_dir))
