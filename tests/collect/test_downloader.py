"""The dataset downloader against a real local server: resume, verify, skip when unchanged."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from nextshow.collect.downloader import (
    DownloadError,
    download,
    download_imdb_datasets,
    part_path,
    sidecar_path,
    verify_gzip,
)

from .conftest import FixtureServer

UA = "nextshow-tests"
BASICS = "/datasets/title.basics.tsv.gz"


def test_interrupted_download_resumes_with_range(fixture_server: FixtureServer, tmp_path: Path):
    data = fixture_server.files[BASICS]
    half = len(data) // 2
    fixture_server.cut_first[BASICS] = half
    dest = tmp_path / "title.basics.tsv.gz"
    url = fixture_server.base_url + BASICS

    with pytest.raises(DownloadError):
        download(url, dest, user_agent=UA, attempts=1)
    assert not dest.exists()
    assert part_path(dest).stat().st_size == half

    result = download(url, dest, user_agent=UA, attempts=1)
    assert result.status == "downloaded"
    assert result.resumed_from == half
    assert result.bytes_fetched == len(data) - half
    assert dest.read_bytes() == data
    assert not part_path(dest).exists()
    first, second = fixture_server.requests_to(BASICS)
    assert "Range" not in first.headers
    assert second.headers["Range"] == f"bytes={half}-"
    assert second.headers["If-Range"] == '"v1"'
    assert second.status == 206
    assert second.headers["User-Agent"] == UA


def test_retry_resumes_within_one_call(fixture_server: FixtureServer, tmp_path: Path):
    data = fixture_server.files[BASICS]
    fixture_server.cut_first[BASICS] = 1000
    dest = tmp_path / "b.tsv.gz"
    result = download(fixture_server.base_url + BASICS, dest, user_agent=UA, backoff=0.0)
    assert dest.read_bytes() == data
    assert result.resumed_from == 0
    assert [r.headers.get("Range") for r in fixture_server.requests_to(BASICS)] == [
        None,
        "bytes=1000-",
    ]


def test_unchanged_file_is_skipped_by_etag(fixture_server: FixtureServer, tmp_path: Path):
    results = download_imdb_datasets(fixture_server.base_url + "/datasets", tmp_path, user_agent=UA)
    assert [r.status for r in results] == ["downloaded", "downloaded"]
    meta = json.loads(sidecar_path(tmp_path / "title.basics.tsv.gz").read_text())
    assert meta["etag"] == '"v1"'
    before = (tmp_path / "title.basics.tsv.gz").stat().st_mtime_ns

    again = download_imdb_datasets(fixture_server.base_url + "/datasets", tmp_path, user_agent=UA)
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    assert (tmp_path / "title.basics.tsv.gz").stat().st_mtime_ns == before
    last = fixture_server.requests_to(BASICS)[-1]
    assert last.headers["If-None-Match"] == '"v1"'
    assert last.headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert last.status == 304

    # A new version on the server (new ETag) is fetched again.
    fixture_server.etags[BASICS] = '"v2"'
    changed = download(
        fixture_server.base_url + BASICS, tmp_path / "title.basics.tsv.gz", user_agent=UA
    )
    assert changed.status == "downloaded"
    assert fixture_server.requests_to(BASICS)[-1].status == 200


def test_corrupt_gzip_never_replaces_the_file(fixture_server: FixtureServer, tmp_path: Path):
    good = fixture_server.files[BASICS]
    dest = tmp_path / "title.basics.tsv.gz"
    dest.write_bytes(good)
    # The server now sends a truncated gzip stream as if it were complete.
    fixture_server.files[BASICS] = good[: len(good) // 2]
    with pytest.raises(DownloadError, match="not a complete gzip file"):
        download(fixture_server.base_url + BASICS, dest, user_agent=UA, attempts=1)
    assert dest.read_bytes() == good
    assert not part_path(dest).exists()  # dropped, so the next try starts clean


def test_verify_gzip(tmp_path: Path):
    path = tmp_path / "x.gz"
    payload = gzip.compress(b"hello\n" * 1000)
    path.write_bytes(payload)
    verify_gzip(path)
    path.write_bytes(payload[:-4])
    with pytest.raises(DownloadError):
        verify_gzip(path)


def test_dataset_names_and_aliases() -> None:
    from nextshow.collect.downloader import DEFAULT_TV_DATASETS, parse_datasets

    assert parse_datasets("tv") == DEFAULT_TV_DATASETS
    assert parse_datasets("titles") == ("title.basics", "title.ratings")
    assert parse_datasets("title.crew.tsv.gz, titles") == (
        "title.basics",
        "title.ratings",
        "title.crew",
    )
    assert len(parse_datasets("all")) == 7
    with pytest.raises(ValueError, match=r"title\.trivia"):
        parse_datasets("tv,title.trivia")
    with pytest.raises(ValueError, match="always needed"):
        parse_datasets("title.principals")
