"""Resumable, conditional downloads of IMDb's title datasets.

A file is fetched to ``<name>.part`` and only replaces ``<name>`` once it is complete and, for
gzip files, read through to the end (every member's CRC and length checked), so the importer never
sees a truncated file. Around it:

- **Resume**: an existing ``.part`` is continued with ``Range: bytes=N-`` (with ``If-Range`` set to
  the validator the part was started with, so a file that changed meanwhile is fetched whole
  instead of being spliced). A ``200`` answer to a range request starts the part over.
- **Unchanged files are not fetched**: the ETag and Last-Modified of the last complete download
  are kept in a JSON sidecar (``<name>.meta.json``) and sent back as ``If-None-Match`` /
  ``If-Modified-Since``; a ``304`` leaves the file as it is.
- **Interruptions**: a dropped connection or a 429/5xx answer is retried (``attempts`` in all,
  with back-off), each retry resuming from what the part holds.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from nextshow.config import Settings
from nextshow.progress import progress_bar

log = logging.getLogger(__name__)

IMDB_DATASET_FILES = ("title.basics.tsv.gz", "title.ratings.tsv.gz")
# Every dataset nextshow reads, in import order; title.basics and title.ratings are always needed.
DATASETS = (
    "title.basics",
    "title.ratings",
    "title.akas",
    "title.episode",
    "title.crew",
    "title.principals",
    "name.basics",
)
# The TV path's default: people (creators, cast) and alternative titles; title.crew adds
# directors and writers beyond the billed principals and is optional.
DEFAULT_TV_DATASETS = (
    "title.basics",
    "title.ratings",
    "title.akas",
    "title.episode",
    "title.principals",
    "name.basics",
)
_ALIASES = {"titles": DATASETS[:2], "tv": DEFAULT_TV_DATASETS, "all": DATASETS}


def parse_datasets(text: str) -> tuple[str, ...]:
    """``"tv"``, ``"all"``, ``"titles"`` or comma-separated dataset names -> names in import order.

    Raises ValueError naming unknown datasets, or when title.basics / title.ratings are missing
    (every other file is kept only for the titles those two select).
    """
    wanted: set[str] = set()
    for part in (p.strip() for p in text.split(",")):
        if part in _ALIASES:
            wanted.update(_ALIASES[part])
        elif part:
            wanted.add(part.removesuffix(".tsv.gz"))
    unknown = sorted(wanted - set(DATASETS))
    if unknown:
        raise ValueError(
            f"unknown IMDb dataset(s) {', '.join(unknown)}; known: {', '.join(DATASETS)} "
            f"(or {', '.join(_ALIASES)})"
        )
    if not {"title.basics", "title.ratings"} <= wanted:
        raise ValueError("title.basics and title.ratings are always needed")
    return tuple(name for name in DATASETS if name in wanted)


_RETRY_STATUS = {429, 500, 502, 503, 504}


class DownloadError(Exception):
    """A download that could not be completed (after its retries) or failed verification."""


@dataclass(frozen=True)
class DownloadResult:
    """What one download did: ``downloaded`` or ``unchanged``, bytes fetched, and where from."""

    url: str
    path: Path
    status: str
    bytes_fetched: int
    resumed_from: int
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def sidecar_path(path: Path) -> Path:
    """The JSON file holding the validators (ETag, Last-Modified) of ``path``'s download."""
    return path.with_name(path.name + ".meta.json")


def part_path(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def verify_gzip(path: Path) -> None:
    """Read a gzip file to its end; raises DownloadError when it is truncated or corrupt."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise DownloadError(f"{path.name}: not a complete gzip file ({exc})") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


class _Retryable(Exception):
    """One attempt failed in a way that a later attempt may get past."""


def download(
    url: str,
    dest: Path,
    *,
    user_agent: str,
    progress: bool = False,
    timeout: float = 60.0,
    attempts: int = 3,
    backoff: float = 2.0,
    client: httpx.Client | None = None,
) -> DownloadResult:
    """Download ``url`` to ``dest`` resumably; skipped (``unchanged``) when the server says 304.

    ``attempts`` counts tries in all; between them the wait doubles from ``backoff`` seconds.
    Gzip files (by name) are verified before they replace ``dest``. Raises DownloadError.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=True)
    fetched = 0
    first_offset: int | None = None
    try:
        for attempt in range(1, attempts + 1):
            offset = part_path(dest).stat().st_size if part_path(dest).exists() else 0
            if first_offset is None:
                first_offset = offset
            try:
                status, got = _attempt(http, url, dest, user_agent, progress, offset)
            except _Retryable as exc:
                fetched += getattr(exc, "fetched", 0)
                if attempt == attempts:
                    raise DownloadError(f"{url}: {exc} (gave up after {attempts} tries)") from exc
                wait = backoff * 2 ** (attempt - 1)
                log.warning("%s: %s; retrying in %.1f s (try %d)", url, exc, wait, attempt + 1)
                time.sleep(wait)
                continue
            fetched += got
            return DownloadResult(
                url, dest, status, fetched, first_offset or 0, dest.stat().st_size
            )
    finally:
        if own:
            http.close()
    raise AssertionError("unreachable")  # the loop returns or raises


def _attempt(
    http: httpx.Client, url: str, dest: Path, user_agent: str, progress: bool, offset: int
) -> tuple[str, int]:
    part = part_path(dest)
    part_meta_path = part.with_name(part.name + ".json")
    # identity: ranges and the gzip check are about the file's own bytes, not a re-encoding.
    headers = {"User-Agent": user_agent, "Accept-Encoding": "identity"}
    if offset:
        part_meta = _read_json(part_meta_path)
        headers["Range"] = f"bytes={offset}-"
        validator = part_meta.get("etag") or part_meta.get("last_modified")
        if validator and part_meta.get("url") == url:
            headers["If-Range"] = validator
    else:
        done = _read_json(sidecar_path(dest))
        if dest.exists() and done.get("url") == url:
            if done.get("etag"):
                headers["If-None-Match"] = done["etag"]
            if done.get("last_modified"):
                headers["If-Modified-Since"] = done["last_modified"]

    written = 0
    try:
        with http.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                log.info("%s unchanged (304): keeping %s", url, dest)
                return "unchanged", 0
            if response.status_code == 416 and offset:
                # The part is not a prefix of what the server has now: start over.
                part.unlink(missing_ok=True)
                raise _Retryable("range not satisfiable; restarting the download")
            if response.status_code in _RETRY_STATUS:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code not in (200, 206):
                raise DownloadError(f"{url}: HTTP {response.status_code}")
            if response.status_code == 206:
                start = _content_range_start(response.headers.get("Content-Range", ""))
                if start != offset:
                    part.unlink(missing_ok=True)
                    raise _Retryable(f"server resumed at byte {start}, not {offset}")
                mode = "ab"
            else:
                if offset:
                    log.info("%s: server sent the whole file; restarting the part", url)
                offset, mode = 0, "wb"
                _write_json(
                    part_meta_path,
                    {
                        "url": url,
                        "etag": response.headers.get("ETag"),
                        "last_modified": response.headers.get("Last-Modified"),
                    },
                )
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length and length.isdigit() else None
            bar = progress_bar(
                enabled=progress,
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
            )
            with bar, part.open(mode) as out:
                for chunk in response.iter_raw():  # as received: a cut keeps every byte
                    out.write(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
            etag = response.headers.get("ETag")
            last_modified = response.headers.get("Last-Modified")
    except httpx.TransportError as exc:  # dropped connection, timeout, refused
        error = _Retryable(f"{type(exc).__name__}: {exc}")
        error.fetched = written  # type: ignore[attr-defined]
        raise error from exc

    if dest.name.endswith(".gz"):
        try:
            verify_gzip(part)
        except DownloadError:
            # A corrupt part would be resumed forever: drop it so the next try starts clean.
            part.unlink(missing_ok=True)
            part_meta_path.unlink(missing_ok=True)
            raise
    if response.status_code == 206:  # validators of the part's first answer describe the file
        started = _read_json(part_meta_path)
        etag = etag or started.get("etag")
        last_modified = last_modified or started.get("last_modified")
    os.replace(part, dest)
    _write_json(
        sidecar_path(dest),
        {
            "url": url,
            "etag": etag,
            "last_modified": last_modified,
            "size": dest.stat().st_size,
            "downloaded_at": datetime.now(UTC).isoformat(),
        },
    )
    part_meta_path.unlink(missing_ok=True)
    return "downloaded", written


def _content_range_start(value: str) -> int | None:
    """``bytes 100-199/200`` -> 100; None when the header is missing or malformed."""
    unit, _, rest = value.partition(" ")
    start, _, _ = rest.partition("-")
    return int(start) if unit == "bytes" and start.isdigit() else None


def download_imdb_datasets(
    base_url: str,
    dest_dir: Path,
    *,
    user_agent: str,
    progress: bool = False,
    timeout: float = 60.0,
    attempts: int = 3,
    backoff: float = 2.0,
    files: tuple[str, ...] = IMDB_DATASET_FILES,
) -> list[DownloadResult]:
    """Download (or keep, when unchanged) title.basics and title.ratings into ``dest_dir``."""
    results = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for name in files:
            results.append(
                download(
                    f"{base_url.rstrip('/')}/{name}",
                    dest_dir / name,
                    user_agent=user_agent,
                    progress=progress,
                    timeout=timeout,
                    attempts=attempts,
                    backoff=backoff,
                    client=client,
                )
            )
    return results


def download_configured(
    settings: Settings,
    *,
    base_url: str | None = None,
    dest_dir: Path | None = None,
    progress: bool = False,
    files: tuple[str, ...] = IMDB_DATASET_FILES,
) -> list[DownloadResult]:
    """:func:`download_imdb_datasets` as configured; the arguments given override the settings."""
    return download_imdb_datasets(
        base_url or settings.imdb_datasets_url,
        dest_dir or settings.collect_dir / "imdb",
        user_agent=settings.collect_user_agent,
        progress=progress,
        timeout=settings.collect_timeout,
        attempts=settings.collect_retry_times + 1,
        backoff=settings.collect_retry_backoff,
        files=files,
    )
