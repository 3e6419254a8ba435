"""A real HTTP server on 127.0.0.1 serving fixture review pages, IMDb's GraphQL API and datasets.

The review page of tt0000001 carries a ``__NEXT_DATA__`` of the shape of a page saved in January
2026 (a null rating, a null author, a spoiler; card dates one day before the JSON's); tt0000002's
page has cards only; tt0000003 is disallowed by robots.txt; tt0000004 has no page (404).

``/graphql`` answers ``TitleReviewsRefine`` from :data:`GRAPHQL_REVIEWS` (helpfulness order; the
newest-first order is derived from ``submissionDate``) as a full query document (POST) or a
persisted query (GET). It checks what it receives: ``const`` must be a known show, ``first`` 1–50,
``sort`` one of the two orders, ``filter`` ``{}``, and ``after`` must be a cursor it handed out for
the same show and order (the page's own ``endCursor`` counts). A violation is answered 400 and
recorded in ``graphql_violations``. An unknown persisted-query hash answers
``PersistedQueryNotFound`` with ``pqnf_status`` (200 or 400).

Scripted misbehaviour: the first request of a path can be answered with a status (429 with
Retry-After, 503); ``challenge`` prefixes turn answers into IMDb's bot wall (202 with
``x-amzn-waf-action: challenge``); a file's first download can be cut off after N bytes. Every
request is logged (path, headers, status, time, GraphQL variables), so tests assert what was asked
for, not just the result.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
GRAPHQL = "/graphql"
HELPFULNESS, NEWEST = "HELPFULNESS_SCORE", "SUBMISSION_DATE"
QUERY_HASH = "0f3e5b7c" * 8  # the persisted-query hash the fixture server knows

# path -> fixture file
REVIEW_ROUTES = {
    "/robots.txt": "robots.txt",
    "/title/tt0000001/reviews/": "reviews_tt0000001.html",
    "/title/tt0000002/reviews/": "cards_tt0000002.html",
    "/title/tt0000003/reviews/": "disallowed_tt0000003.html",
}


def node(review: str, user: str | None, rating: Any, day: str, spoiler: bool = False) -> dict:
    """A review node as IMDb's answers carry it."""
    author = {"__typename": "UserProfile", "userId": user, "nickName": user} if user else None
    return {
        "__typename": "Review",
        "id": review,
        "author": author,
        "authorRating": rating,
        "submissionDate": day,
        "spoiler": spoiler,
        "summary": {"originalText": f"review {review}"},
    }


# Every show's reviews in helpfulness order. tt0000001's first four are the ones on its page;
# rw0000014 comes twice, as when reviews move between the page's render and the next request.
GRAPHQL_REVIEWS: dict[str, list[dict]] = {
    "tt0000001": [
        node("rw0000011", "ur0000001", 9, "2020-03-12"),
        node("rw0000012", "ur0000002", None, "2019-01-01"),
        node("rw0000013", None, 8, "2022-02-03"),
        node("rw0000014", "ur0000004", 10, "2022-02-04", spoiler=True),
        node("rw0000014", "ur0000004", 10, "2022-02-04", spoiler=True),
        node("rw0000015", "ur0000005", 6, "2018-06-30"),
        node("rw0000016", "ur0000006", 8, "2017-07-07"),
        node("rw0000017", "ur0000007", 3, "2021-01-01"),
        node("rw0000018", "ur0000008", 1, "2023-12-31"),
        node("rw0000019", "ur0000009", 5, "2024-02-29", spoiler=True),
    ],
    # The cards of its page print these dates one day early (Jan 5, Feb 29, Mar 1 2024).
    "tt0000002": [
        node("rw0000101", "ur0000001", 7, "2024-01-06"),
        node("rw0000102", "ur0000007", 2, "2024-03-01"),
        node("rw0000103", "ur0000008", None, "2024-03-02"),
        node("rw0000104", "ur0000009", 5, "2023-12-31"),
        node("rw0000105", None, 9, "2023-11-02"),
    ],
    "tt0000003": [node("rw0000301", "ur0000099", 1, "2020-01-01")],
    "tt0000004": [
        node("rw0000401", "ur0000011", 3, "sometime in 2020"),
        node("rw0000402", "ur0000012", 11, "2020-05-05"),
    ],
}

# (user, show, rating, review date) the crawl of tt0000001, tt0000002 and tt0000004 stores.
EXPECTED = {
    ("ur0000001", "tt0000001", 9.0, "2020-03-12"),
    ("ur0000004", "tt0000001", 10.0, "2022-02-04"),
    ("ur0000005", "tt0000001", 6.0, "2018-06-30"),
    ("ur0000006", "tt0000001", 8.0, "2017-07-07"),
    ("ur0000007", "tt0000001", 3.0, "2021-01-01"),
    ("ur0000008", "tt0000001", 1.0, "2023-12-31"),
    ("ur0000009", "tt0000001", 5.0, "2024-02-29"),
    ("ur0000001", "tt0000002", 7.0, "2024-01-06"),
    ("ur0000007", "tt0000002", 2.0, "2024-03-01"),
    ("ur0000009", "tt0000002", 5.0, "2023-12-31"),
    ("ur0000011", "tt0000004", 3.0, None),
}


def cursor(imdb_id: str, sort: str, offset: int) -> str:
    """An opaque cursor (the page of tt0000001 carries cursor('tt0000001', HELPFULNESS, 4))."""
    return base64.urlsafe_b64encode(f"{imdb_id}|{sort}|{offset}".encode()).decode()


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
    method: str = "GET"
    graphql: dict | None = None  # the GraphQL request (operationName, variables, extensions)


@dataclass
class FixtureServer:
    """State the handler reads: routes, reviews, scripted failures, files; and the request log."""

    base_url: str = ""
    pages: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # path -> bytes (Range/ETag aware)
    etags: dict[str, str] = field(default_factory=dict)
    fail_first: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    cut_first: dict[str, int] = field(default_factory=dict)  # path -> bytes before dropping
    challenge: tuple[str, ...] = ()  # path prefixes answered by the bot wall
    reviews: dict[str, list[dict]] = field(default_factory=dict)
    cursors: set[str] = field(default_factory=set)  # handed out (the page's own included)
    query_hash: str = QUERY_HASH
    pqnf_status: int = 200
    graphql_violations: list[str] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def graphql_url(self) -> str:
        return self.base_url + GRAPHQL

    def paths(self) -> list[str]:
        with self.lock:
            return [entry.path for entry in self.log]

    def requests_to(self, path: str) -> list[Logged]:
        with self.lock:
            return [entry for entry in self.log if entry.path == path]

    def variables(self) -> list[dict]:
        """The variables of every GraphQL request answered 200, in order."""
        return [
            (entry.graphql or {}).get("variables") or {}
            for entry in self.requests_to(GRAPHQL)
            if entry.status == 200
        ]

    def answer(self, request: dict) -> tuple[int, dict]:
        """The GraphQL answer (status, body) to a TitleReviewsRefine request; checks it first."""
        with self.lock:
            return self._answer(request)

    def _refuse(self, message: str) -> tuple[int, dict]:
        self.graphql_violations.append(message)
        return 400, {"errors": [{"message": message}]}

    def _answer(self, request: dict) -> tuple[int, dict]:
        if request.get("operationName") != "TitleReviewsRefine":
            return self._refuse(f"unknown operation {request.get('operationName')!r}")
        persisted = (request.get("extensions") or {}).get("persistedQuery")
        if persisted:
            if persisted.get("version") != 1:
                return self._refuse("persistedQuery version must be 1")
            if persisted.get("sha256Hash") != self.query_hash:
                error = {
                    "message": "PersistedQueryNotFound",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                }
                return self.pqnf_status, {"errors": [error]}
        elif "query TitleReviewsRefine(" not in (request.get("query") or ""):
            return self._refuse("neither a query document nor a persisted query")
        values = request.get("variables") or {}
        imdb_id, first, sort = values.get("const"), values.get("first"), values.get("sort")
        if imdb_id not in self.reviews:
            return self._refuse(f"unknown const {imdb_id!r}")
        if not isinstance(first, int) or not 1 <= first <= 50:
            return self._refuse(f"first must be 1-50, not {first!r}")
        if not isinstance(sort, dict) or sort.get("order") != "DESC":
            return self._refuse(f"bad sort {sort!r}")
        if sort.get("by") not in (HELPFULNESS, NEWEST) or values.get("filter") != {}:
            return self._refuse(f"bad sort or filter: {sort!r} {values.get('filter')!r}")
        after, offset = values.get("after"), 0
        if after is not None:
            if after not in self.cursors:
                return self._refuse(f"after is not a cursor handed out: {after!r}")
            owner, order, at = base64.urlsafe_b64decode(after).decode().split("|")
            if (owner, order) != (imdb_id, sort["by"]):
                return self._refuse(f"cursor of {owner} {order} used for {imdb_id} {sort['by']}")
            offset = int(at)
        items = copy.deepcopy(self.reviews[imdb_id])
        if sort["by"] == NEWEST:
            items.sort(key=lambda item: item["submissionDate"], reverse=True)
        chunk = items[offset : offset + first]
        more = offset + len(chunk) < len(items)
        end = cursor(imdb_id, sort["by"], offset + len(chunk)) if more else None
        if end:
            self.cursors.add(end)
        connection = {
            "__typename": "ReviewConnection",
            "total": len(items),
            "pageInfo": {"__typename": "PageInfo", "endCursor": end, "hasNextPage": more},
            "edges": [{"__typename": "ReviewEdge", "node": item} for item in chunk],
        }
        return 200, {
            "data": {"title": {"__typename": "Title", "id": imdb_id, "reviews": connection}}
        }


class _Handler(BaseHTTPRequestHandler):
    server_version = "FixtureIMDb/1.0"
    state: FixtureServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _entry(self, status: int, path: str | None, graphql: dict | None) -> Logged:
        headers = dict(self.headers.items())
        return Logged(path or self.path, headers, status, time.time(), self.command, graphql)

    def _log(self, status: int, path: str | None = None, graphql: dict | None = None) -> None:
        entry = self._entry(status, path, graphql)
        with self.state.lock:
            self.state.log.append(entry)

    def _scripted(self, path: str, graphql: dict | None = None) -> bool:
        """Answer with the bot wall or a scripted first failure; whether it did."""
        state = self.state
        if any(path.startswith(prefix) for prefix in state.challenge):
            self._log(202, path)
            body = b"" if path.startswith("/title/") else b"<html><script>challenge</script>"
            self._send(202, body, {"x-amzn-waf-action": "challenge"})
            return True
        status, headers = state.fail_first.get(path, (0, {}))
        with state.lock:  # counted and logged at once: of concurrent requests only one fails
            first = status and not any(entry.path == path for entry in state.log)
            if first:
                state.log.append(self._entry(status, path, graphql))
        if first:
            self._send(status, b"busy", headers)
            return True
        return False

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if urlsplit(self.path).path != GRAPHQL:
            self._log(404)
            self._send(404, b"not found", {})
            return
        try:
            request = json.loads(body)
        except ValueError:
            request = {}
        self._graphql(request)

    def _graphql(self, request: dict) -> None:
        if self._scripted(GRAPHQL, request):
            return
        status, answer = self.state.answer(request)
        self._log(status, GRAPHQL, request)
        self._send(status, json.dumps(answer).encode(), {"Content-Type": "application/json"})

    def do_GET(self) -> None:
        state = self.state
        path = self.path
        split = urlsplit(path)
        if split.path == GRAPHQL:  # a persisted query
            params = {name: values[0] for name, values in parse_qs(split.query).items()}
            try:
                request = {
                    "operationName": params.get("operationName"),
                    "variables": json.loads(params.get("variables", "null")),
                    "extensions": json.loads(params.get("extensions", "null")),
                }
            except ValueError:
                request = {}
            self._graphql(request)
            return
        if self._scripted(path):
            return
        with state.lock:
            seen = sum(1 for entry in state.log if entry.path == path)
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
    state.reviews = copy.deepcopy(GRAPHQL_REVIEWS)
    state.cursors = {cursor("tt0000001", HELPFULNESS, 4)}  # the endCursor on tt0000001's page
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
