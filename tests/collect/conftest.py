"""A real HTTP server on 127.0.0.1 serving the fixture review pages and dataset files.

Scripted misbehaviour: the first request of a path can be answered with a status (429 with
Retry-After, 503), and a file's first download can be cut off after N bytes. Every request is
logged (path, headers, status, time), so tests assert what was asked for, not just the result.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# path (with query) -> fixture file
REVIEW_ROUTES = {
    "/robots.txt": "robots.txt",
    "/title/tt0000001/reviews/": "legacy_tt0000001_p1.html",
    "/title/tt0000001/reviews/_ajax?paginationKey=KEY2": "legacy_tt0000001_KEY2.html",
    "/title/tt0000001/reviews/_ajax?paginationKey=KEY3": "legacy_tt0000001_KEY3.html",
    "/title/tt0000002/reviews/": "current_tt0000002_p1.html",
    "/title/tt0000002/reviews/?paginationKey=C2": "current_tt0000002_C2.html",
    "/title/tt0000003/reviews/": "other_tt0000003.html",
    "/title/tt0000004/reviews/": "malformed_tt0000004.html",
}

# (user, show, rating, review date) the fixture pages hold, deleted and unrated reviews aside.
EXPECTED = {
    ("ur0000001", "tt0000001", 9.0, "2020-03-12"),
    ("ur0000002", "tt0000001", 4.0, "2019-01-01"),
    ("ur0000004", "tt0000001", 10.0, "2022-02-03"),
    ("ur0000005", "tt0000001", 6.0, "2018-06-30"),
    ("ur0000006", "tt0000001", 8.0, "2017-07-07"),
    ("ur0000001", "tt0000002", 7.0, "2024-01-05"),
    ("ur0000007", "tt0000002", 2.0, "2024-02-29"),
    ("ur0000009", "tt0000002", 5.0, "2023-12-31"),
    ("ur0000011", "tt0000004", 3.0, None),
}


def dataset_bytes() -> dict[str, bytes]:
    """Small but valid title.basics / title.ratings gzip files (deterministic bytes)."""
    basics = [
        "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear"
        "\truntimeMinutes\tgenres"
    ]
    ratings = ["tconst\taverageRating\tnumVotes"]
    for n in range(1, 401):
        kind = "tvSeries" if n % 2 else "movie"
        basics.append(
            f"tt{n:07d}\t{kind}\tFixture Show {n} {n * 7919 % 10007}\t\\N\t0\t{1990 + n % 30}"
            f"\t\\N\t45\tDrama,Comedy"
        )
        ratings.append(f"tt{n:07d}\t{(n % 90) / 10 + 1:.1f}\t{1000 + n * 37}")
    return {
        "title.basics.tsv.gz": gzip.compress(("\n".join(basics) + "\n").encode(), mtime=0),
        "title.ratings.tsv.gz": gzip.compress(("\n".join(ratings) + "\n").encode(), mtime=0),
    }


@dataclass
class Logged:
    path: str
    headers: dict[str, str]
    status: int
    at: float


@dataclass
class FixtureServer:
    """State the handler reads: routes, scripted failures, files; and the request log."""

    base_url: str = ""
    pages: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # path -> bytes (Range/ETag aware)
    etags: dict[str, str] = field(default_factory=dict)
    fail_first: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    cut_first: dict[str, int] = field(default_factory=dict)  # path -> bytes before dropping
    log: list[Logged] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        with self.lock:
            return [entry.path for entry in self.log]

    def requests_to(self, path: str) -> list[Logged]:
        with self.lock:
            return [entry for entry in self.log if entry.path == path]


class _Handler(BaseHTTPRequestHandler):
    server_version = "FixtureIMDb/1.0"
    state: FixtureServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _log(self, status: int) -> int:
        with self.state.lock:
            self.state.log.append(
                Logged(self.path, dict(self.headers.items()), status, time.time())
            )
            return sum(1 for entry in self.state.log if entry.path == self.path)

    def do_GET(self) -> None:
        state = self.state
        path = self.path
        with state.lock:
            seen = sum(1 for entry in state.log if entry.path == path)
        if path in state.fail_first and seen == 0:
            status, headers = state.fail_first[path]
            self._log(status)
            self._send(status, b"busy", headers)
            return
        if path in state.files:
            self._file(path, seen)
            return
        body = state.pages.get(path)
        if body is None:
            self._log(404)
            self._send(404, b"not found", {})
            return
        self._log(200)
        kind = "text/plain" if path.endswith(".txt") else "text/html; charset=utf-8"
        self._send(200, body, {"Content-Type": kind})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _file(self, path: str, seen: int) -> None:
        data = self.state.files[path]
        etag = self.state.etags.get(path, '"v1"')
        modified = "Mon, 01 Jan 2024 00:00:00 GMT"
        validators = {"ETag": etag, "Last-Modified": modified, "Accept-Ranges": "bytes"}
        if self.headers.get("If-None-Match") == etag:
            self._log(304)
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        start = 0
        wanted = self.headers.get("Range")
        if wanted and self.headers.get("If-Range", etag) == etag:
            start = int(wanted.removeprefix("bytes=").split("-")[0])
        status = 206 if start else 200
        self._log(status)
        self.send_response(status)
        for name, value in validators.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        cut = self.state.cut_first.get(path)
        if cut is not None and seen == 0:
            self.wfile.write(data[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:])


@pytest.fixture
def fixture_server() -> Iterator[FixtureServer]:
    """The server, with the review fixtures and the two dataset files, on a free port."""
    state = FixtureServer()
    state.pages = {path: (FIXTURES / name).read_bytes() for path, name in REVIEW_ROUTES.items()}
    state.files = {f"/datasets/{name}": data for name, data in dataset_bytes().items()}
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
