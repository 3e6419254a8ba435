"""Model artifacts: one directory with ``arrays.npz`` (plain numpy arrays) and ``model.json``.

Pure file I/O: this module knows files, arrays and checksums, not recommenders (turning an
artifact into a model is :func:`nextshow.recommenders.kinds.load_artifact`).

``model.json`` holds ``format_version``, the model kind's ``name``, ``params``, ``n_shows``,
``created_at``, the sha256 of ``arrays.npz``, per array its shape and dtype, and ``meta_sha256``
(over the other fields, so an edited model.json is noticed). CSR matrices are
stored as their ``<name>.data/.indices/.indptr/.shape`` arrays and listed under ``sparse``.
The show vocabulary (which show each column is) is stored in the same npz as ``vocabulary:<name>``
arrays, listed under ``vocabulary``, so the one checksum vouches for weights and vocabulary alike.

Loading checks the format version and the checksum *before* opening the npz, opens it with
``allow_pickle=False`` (an object array, i.e. a pickle, is refused) and compares every array with
what model.json announced. Every problem is an :class:`ArtifactError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

# 2: the show vocabulary moved inside the artifact (format 1 kept it in a side file).
FORMAT_VERSION = 2
VOCABULARY_PREFIX = "vocabulary:"
ARRAYS_FILE = "arrays.npz"
META_FILE = "model.json"
_SPARSE_PARTS = ("data", "indices", "indptr", "shape")


class ArtifactError(Exception):
    """An artifact that cannot be trusted or read: missing file, bad checksum, wrong version..."""

    def __init__(self, file: Path | str, problem: str) -> None:
        self.file = Path(file)
        self.problem = problem
        super().__init__(f"{file}: {problem}")


@dataclass(frozen=True)
class Artifact:
    """What :func:`read_artifact` returns: the metadata and the arrays (CSR rebuilt)."""

    name: str
    params: dict[str, Any]
    n_shows: int
    arrays: dict[str, np.ndarray | sp.csr_matrix]
    vocabulary: dict[str, np.ndarray]
    meta: dict[str, Any]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _flatten(arrays: dict[str, Any]) -> tuple[dict[str, np.ndarray], list[str]]:
    flat: dict[str, np.ndarray] = {}
    sparse: list[str] = []
    for key, value in arrays.items():
        if "." in key or key.startswith(VOCABULARY_PREFIX):
            raise ValueError(
                f"array name {key!r} must not contain '.' (CSR parts) "
                f"or start with {VOCABULARY_PREFIX!r} (the vocabulary)"
            )
        if sp.issparse(value):
            csr = sp.csr_matrix(value)
            sparse.append(key)
            flat[f"{key}.data"] = np.ascontiguousarray(csr.data)
            flat[f"{key}.indices"] = np.ascontiguousarray(csr.indices)
            flat[f"{key}.indptr"] = np.ascontiguousarray(csr.indptr)
            flat[f"{key}.shape"] = np.asarray(csr.shape, dtype=np.int64)
        else:
            arr = np.asarray(value)
            if arr.dtype.hasobject:
                raise ValueError(f"array {key!r} has dtype object: artifacts hold plain data only")
            flat[key] = arr
    return flat, sparse


def write_artifact(
    path: Path,
    *,
    name: str,
    params: dict[str, Any],
    arrays: dict[str, Any],
    n_shows: int,
    vocabulary: dict[str, np.ndarray],
) -> None:
    """Write ``path/arrays.npz``, then ``path/model.json`` (last: it vouches for the npz).

    ``vocabulary`` holds plain 1-D arrays of length ``n_shows`` (one entry per column).
    """
    path.mkdir(parents=True, exist_ok=True)
    flat, sparse = _flatten(arrays)
    for key, value in vocabulary.items():
        arr = np.asarray(value)
        if arr.dtype.hasobject or arr.shape != (n_shows,):
            raise ValueError(
                f"vocabulary array {key!r} must be plain data of shape ({n_shows},), "
                f"got {arr.dtype}{list(arr.shape)}"
            )
        flat[VOCABULARY_PREFIX + key] = arr
    # Write to a temporary file and rename, so a reader never sees a half-written npz.
    fd, tmp = tempfile.mkstemp(dir=path, suffix=".npz.tmp")
    os.close(fd)
    with open(tmp, "wb") as fh:
        np.savez(fh, **flat)
    os.replace(tmp, path / ARRAYS_FILE)
    meta = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "params": params,
        "n_shows": int(n_shows),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "arrays_sha256": sha256_file(path / ARRAYS_FILE),
        "arrays": {k: {"shape": list(v.shape), "dtype": v.dtype.str} for k, v in flat.items()},
        "sparse": sparse,
        "vocabulary": sorted(vocabulary),
    }
    meta["meta_sha256"] = _meta_digest(meta)
    (path / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def _meta_digest(meta: dict[str, Any]) -> str:
    """sha256 of model.json's other fields (canonical JSON): a hand-edited file is noticed."""
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_meta(path: Path) -> dict[str, Any]:
    """model.json, checked for the keys and the format version this code understands."""
    meta_path = path / META_FILE
    if not path.is_dir():
        raise ArtifactError(path, "artifact directory does not exist")
    if not meta_path.is_file():
        raise ArtifactError(meta_path, "missing")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(meta_path, f"not valid JSON: {err}") from err
    if not isinstance(meta, dict):
        raise ArtifactError(meta_path, "not a JSON object")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            meta_path,
            f"format_version {version!r} not supported (expected {FORMAT_VERSION}); "
            "retrain the model with this version of nextshow",
        )
    if meta.get("meta_sha256") != _meta_digest(meta):
        raise ArtifactError(meta_path, "edited after it was written (meta_sha256 does not match)")
    required = {
        "name": str,
        "params": dict,
        "n_shows": int,
        "arrays_sha256": str,
        "arrays": dict,
        "sparse": list,
        "vocabulary": list,
    }
    for key, kind in required.items():
        if not isinstance(meta.get(key), kind):
            raise ArtifactError(meta_path, f"field {key!r} missing or not a {kind.__name__}")
    return meta


def read_artifact(path: Path) -> Artifact:
    """Check and read an artifact directory written by :func:`write_artifact`."""
    path = Path(path)
    meta = read_meta(path)
    arrays_path = path / ARRAYS_FILE
    if not arrays_path.is_file():
        raise ArtifactError(arrays_path, "missing")
    actual = sha256_file(arrays_path)
    if actual != meta["arrays_sha256"]:
        raise ArtifactError(
            arrays_path, f"sha256 {actual} does not match model.json ({meta['arrays_sha256']})"
        )
    flat: dict[str, np.ndarray] = {}
    try:
        with np.load(arrays_path, allow_pickle=False) as npz:
            for key in npz.files:
                flat[key] = npz[key]
    except ValueError as err:  # numpy's answer to an object (pickled) array
        raise ArtifactError(arrays_path, f"refused: {err}") from err
    except (OSError, zipfile.BadZipFile) as err:
        raise ArtifactError(arrays_path, f"unreadable: {err}") from err
    announced = meta["arrays"]
    if set(announced) != set(flat):
        raise ArtifactError(
            arrays_path,
            f"arrays {sorted(flat)} differ from those in model.json {sorted(announced)}",
        )
    for key, arr in flat.items():
        spec = announced[key]
        if list(arr.shape) != spec.get("shape") or arr.dtype.str != spec.get("dtype"):
            raise ArtifactError(
                arrays_path,
                f"array {key!r} is {arr.dtype.str}{list(arr.shape)}, model.json says "
                f"{spec.get('dtype')}{spec.get('shape')}",
            )
    arrays: dict[str, np.ndarray | sp.csr_matrix] = {}
    sparse = set(meta["sparse"])
    for key in sparse:
        try:
            parts = [flat.pop(f"{key}.{part}") for part in _SPARSE_PARTS]
            arrays[key] = sp.csr_matrix(tuple(parts[:3]), shape=tuple(int(s) for s in parts[3]))
        except (KeyError, ValueError) as err:
            raise ArtifactError(arrays_path, f"sparse matrix {key!r} is malformed: {err}") from err
    vocabulary: dict[str, np.ndarray] = {}
    for key in meta["vocabulary"]:
        arr = flat.pop(VOCABULARY_PREFIX + str(key), None)
        if arr is None or arr.shape != (meta["n_shows"],):
            raise ArtifactError(
                arrays_path, f"vocabulary array {key!r} missing or not one entry per show"
            )
        vocabulary[str(key)] = arr
    if any(key.startswith(VOCABULARY_PREFIX) for key in flat):
        raise ArtifactError(arrays_path, "vocabulary arrays not listed in model.json")
    arrays.update(flat)
    return Artifact(
        name=meta["name"],
        params=meta["params"],
        n_shows=meta["n_shows"],
        arrays=arrays,
        vocabulary=vocabulary,
        meta=meta,
    )
