"""Review-crawl throughput against a local server: politeness off and on, and a re-crawl.

    .venv/bin/python benchmarks/bench_collect.py [--shows 20] [--pages 10] [--polite-pages 10]

A local HTTP server (127.0.0.1, a thread of this process) plays today's IMDb: each of ``--shows``
shows has a review page whose ``__NEXT_DATA__`` holds the first 25 reviews and an ``endCursor``,
and a GraphQL endpoint (``TitleReviewsRefine``, nextshow's own query document) serves the rest,
25 a page, ``--pages`` pages per show in all (1 in 10 reviews without a rating, 1 in 25 by a
deleted account). The real spider runs in its own process (``run_review_crawl``):

- ``off``: ``--no-politeness`` (no robots.txt, no delay, no AutoThrottle, no cache, 16 requests
  in flight) over all shows x pages, in a fresh job folder;
- ``re-crawl``: ``off`` again on the same job folder, after 3 new reviews per show: one GraphQL
  page per show, newest first, stopping at reviews already seen;
- ``on``: the real defaults (robots.txt, 2 s delay with AutoThrottle, one request at a time, HTTP
  cache, job folder), capped at ``--polite-pages`` pages (shows x page cap), so it ends: at 2 s a
  page the defaults are the limit, not the code.

Times are the crawl's own (scrapy's elapsed_time_seconds, process start-up excluded). The CSV
import is not timed here (see bench_import.py). Never part of the tests.
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from nextshow.collect.crawl import run_review_crawl
from nextshow.collect.job import CrawlConfig

PER_PAGE = 25


def _node(show: int, index: int) -> dict:
    serial = show * 100_000 + index
    year, month, day = 2025 - index // 300, 12 - index // 25 % 12, 28 - index % 28
    return {
        "id": f"rw{serial:08d}",
        "author": None if serial % 25 == 1 else {"userId": f"ur{serial:08d}"},
        "authorRating": None if serial % 10 == 0 else serial % 10 + 1,
        "submissionDate": f"{year}-{month:02d}-{day:02d}",
        "spoiler": serial % 7 == 0,
        "summary": {"originalText": "Words. " * 40},
    }


class Catalogue:
    """The generated reviews (newest first), added to between runs."""

    def __init__(self, shows: int, pages: int) -> None:
        self.reviews = {
            f"tt{show:07d}": [_node(show, i) for i in range(pages * PER_PAGE)]
            for show in range(1, shows + 1)
        }

    def add_new(self, count: int) -> None:
        for imdb_id, items in self.reviews.items():
            show = int(imdb_id[2:])
            fresh = [_node(show, 90_000 + len(items) + n) for n in range(count)]
            for item in fresh:  # rated, by a user, newer than everything else
                item.update(authorRating=7, submissionDate="2026-06-01")
                item["author"] = {"userId": "ur" + item["id"][2:]}
            items[:0] = fresh

    def connection(self, imdb_id: str, first: int, offset: int) -> dict:
        items = self.reviews[imdb_id]
        chunk = items[offset : offset + first]
        end = offset + len(chunk)
        token = base64.urlsafe_b64encode(f"{imdb_id}|{end}".encode()).decode()
        more = end < len(items)
        return {
            "total": len(items),
            "pageInfo": {"endCursor": token if more else None, "hasNextPage": more},
            "edges": [{"node": item} for item in chunk],
        }

    def page(self, imdb_id: str) -> bytes:
        data = {
            "props": {
                "pageProps": {
                    "contentData": {
                        "data": {"title": {"reviews": self.connection(imdb_id, PER_PAGE, 0)}}
                    }
                }
            }
        }
        return (
            f"<html><head><title>{imdb_id} - User reviews - IMDb</title></head><body>"
            '<script id="__NEXT_DATA__" type="application/json">'
            f"{json.dumps(data)}</script></body></html>"
        ).encode()

    def answer(self, request: dict) -> bytes:
        values = request["variables"]
        after = values.get("after")
        offset = int(base64.urlsafe_b64decode(after).decode().split("|")[1]) if after else 0
        reviews = self.connection(values["const"], values["first"], offset)
        return json.dumps({"data": {"title": {"reviews": reviews}}}).encode()


def _serve(catalogue: Catalogue) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, body: bytes | None, kind: str) -> None:
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"not found"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                self._send(b"User-agent: *\nDisallow: /private/\n", "text/plain")
                return
            parts = self.path.strip("/").split("/")
            known = len(parts) == 3 and parts[1] in catalogue.reviews
            self._send(catalogue.page(parts[1]) if known else None, "text/html; charset=utf-8")

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self._send(catalogue.answer(request), "application/json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _run(base: str, ids: list[str], max_pages: int, polite: bool, job: Path) -> dict[str, float]:
    config = CrawlConfig(
        imdb_ids=ids,
        base_url=base,
        job_dir=str(job),
        user_agent="nextshow-benchmark/0.1 (local fixture server)",
        graphql_url=base + "/graphql",
        max_pages=max_pages,
        polite=polite,
    )
    result = run_review_crawl(config)
    elapsed = float(result.stats["elapsed_time_seconds"])
    pages, ratings = result.count("pages"), result.count("ratings")
    return {
        "pages": pages,
        "ratings": ratings,
        "seconds": elapsed,
        "pages_per_s": pages / elapsed,
        "ratings_per_s": ratings / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shows", type=int, default=20)
    parser.add_argument("--pages", type=int, default=10, help="Pages per show (politeness off).")
    parser.add_argument("--polite-pages", type=int, default=10, help="Pages in all, politeness on.")
    args = parser.parse_args()
    catalogue = Catalogue(args.shows, args.pages)
    server, base = _serve(catalogue)
    ids = [f"tt{show:07d}" for show in range(1, args.shows + 1)]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
            polite_shows = max(1, (args.polite_pages + args.pages - 1) // args.pages)
            per_show = max(1, args.polite_pages // polite_shows)
            on = _run(base, ids[:polite_shows], per_show, True, Path(tmp) / "on")
            off = _run(base, ids, args.pages, False, Path(tmp) / "off")
            catalogue.add_new(3)
            again = _run(base, ids, args.pages, False, Path(tmp) / "off")
    finally:
        server.shutdown()
    print(f"{'':>14} {'politeness off':>16} {'re-crawl (off)':>16} {'politeness on':>16}")
    for key, fmt in [
        ("pages", "{:.0f}"),
        ("ratings", "{:.0f}"),
        ("seconds", "{:.2f}"),
        ("pages_per_s", "{:.2f}"),
        ("ratings_per_s", "{:.1f}"),
    ]:
        cells = [fmt.format(case[key]) for case in (off, again, on)]
        print(f"{key:>14} " + " ".join(f"{cell:>16}" for cell in cells))
    print(
        f"off: {args.shows} shows x {args.pages} pages (page + GraphQL), 16 in flight; re-crawl: "
        f"3 new reviews per show; on: the real defaults (robots.txt, 2 s delay + AutoThrottle, "
        f"1 at a time, cache), capped at {on['pages']:.0f} pages"
    )


if __name__ == "__main__":
    main()
