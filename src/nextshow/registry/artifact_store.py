"""The artifact store: snapshots and model artifacts under one fsspec URL.

A local folder by default (``file://$NEXTSHOW_HOME/artifacts``); any fsspec URL when configured,
e.g. ``s3://bucket/prefix`` with ``NEXTSHOW_ARTIFACT_OPTIONS='{"endpoint_url": "..."}'`` for an
S3-compatible server. Keys are ``/``-separated paths relative to the root.
"""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem


def folder_sha256(path: Path) -> tuple[str, int]:
    """One checksum over every file of a flat folder (names and bytes), and its total size."""
    digest = hashlib.sha256()
    size = 0
    for file in sorted(p for p in Path(path).iterdir() if p.is_file()):
        data = file.read_bytes()
        size += len(data)
        digest.update(file.name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest(), size


class ArtifactStore:
    """Read and write bytes and folders under a root URL."""

    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **(options or {}))
        self._local = isinstance(self.fs, LocalFileSystem)
        if self._local:
            self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, key: str) -> str:
        clean = posixpath.normpath(key.strip("/"))
        if clean.startswith("..") or clean == ".":
            raise ValueError(f"artifact key {key!r} leaves the store")
        return f"{self.root}/{clean}"

    def uri(self, key: str) -> str:
        """The full URL of ``key``, as recorded in the registry."""
        return f"{self.url}/{key.strip('/')}"

    def key_of(self, uri: str) -> str:
        """The key of a URI this store wrote (inverse of :meth:`uri`)."""
        prefix = self.url + "/"
        if not uri.startswith(prefix):
            raise ValueError(f"{uri} is not in the artifact store {self.url}")
        return uri[len(prefix) :]

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key``; on a local disk through a temporary name and a rename, so a
        reader never sees half a file (an object store's put is already all-or-nothing)."""
        path = self._path(key)
        if self._local:
            self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
            tmp = f"{path}.tmp-{uuid.uuid4().hex}"
            with self.fs.open(tmp, "wb") as handle:
                handle.write(data)
            self.fs.mv(tmp, path)
        else:
            self.fs.pipe_file(path, data)

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.fs.cat_file(self._path(key))
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"no artifact {self.uri(key)}") from exc

    def sha256_of(self, key: str) -> str:
        """sha256 of the object at ``key``, read in blocks (bounded memory for any size)."""
        digest = hashlib.sha256()
        try:
            with self.fs.open(self._path(key), "rb") as handle:
                for block in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(block)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"no artifact {self.uri(key)}") from exc
        return digest.hexdigest()

    def upload_dir(self, local_dir: Path, key: str) -> None:
        """Copy every file of ``local_dir`` (flat) to ``key/<name>``."""
        for file in sorted(Path(local_dir).iterdir()):
            if file.is_file():
                self.write_bytes(f"{key}/{file.name}", file.read_bytes())

    def download_dir(self, key: str, local_dir: Path) -> Path:
        """Copy every file under ``key`` into ``local_dir`` (created) and return it."""
        local_dir.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.fs.ls(self._path(key), detail=False)):
            name = posixpath.basename(path.rstrip("/"))
            (local_dir / name).write_bytes(self.fs.cat_file(path))
        return local_dir

    def list(self, key: str) -> list[str]:
        """Names directly under ``key`` (empty when it does not exist)."""
        path = self._path(key)
        if not self.fs.exists(path):
            return []
        return sorted(posixpath.basename(p.rstrip("/")) for p in self.fs.ls(path, detail=False))
