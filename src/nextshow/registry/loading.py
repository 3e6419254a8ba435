"""Load a registered model version for serving: fetch, verify the checksum, load without pickle.

Serving code imports this module, never the pipeline: it needs only the registry row, the
artifact store and the recommenders' ``load``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from nextshow.db.models import ModelVersion
from nextshow.recommenders.artifact import ArtifactError
from nextshow.recommenders.base import Recommender
from nextshow.recommenders.kinds import load_artifact
from nextshow.registry.artifact_store import ArtifactStore, folder_sha256


def fetch_artifact(store: ArtifactStore, version: ModelVersion, cache_dir: Path) -> Path:
    """A verified local copy of the version's artifact folder (downloaded once, then cached).

    The registry's checksum is checked on every call, so a cached copy that was tampered with
    is refused too.
    """
    target = cache_dir / version.artifact_sha256
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
    actual, _ = folder_sha256(target)
    if actual != version.artifact_sha256:
        raise ArtifactError(
            target,
            f"checksum {actual} does not match the registry's {version.artifact_sha256} "
            f"for model version {version.id}",
        )
    return target


def load_version(store: ArtifactStore, version: ModelVersion, cache_dir: Path) -> Recommender:
    """Fetch, verify and load a model version; ArtifactError when it cannot be trusted."""
    return load_artifact(fetch_artifact(store, version, cache_dir))
