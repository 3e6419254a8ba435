"""Review-crawl throughput: pages/s and ratings/s against a local server, politeness off and on.

    .venv/bin/python benchmarks/bench_collect.py [--shows 20] [--pages 10] [--polite-pages 10]

A local HTTP server (127.0.0.1, a thread of this process) serves generated review pages in the
legacy markup: ``--shows`` shows of ``--pages`` pages each, 25 reviews per page (1 in 10 without
a rating, 1 in 25 by a deleted user), chained by ``load-more-data`` keys, as IMDb paginates.
The real spider runs in its own process (``run_review_crawl``) with a fresh job folder per case:

- ``off``: ``--no-politeness`` (no robots.txt, no delay, no AutoThrottle, no cache, 16 requests
  in flight) over all shows x pages;
- ``on``: the real defaults (robots.txt, 2 s delay with AutoThrottle, one request at a time, HTTP
  cache, job folder), capped at ``--polite-pages`` pages (shows x page cap), so it ends: at 2 s a
  page the defaults are the limit, not the code.

Times are the crawl's own (scrapy's elapsed_time_seconds, process start-up excluded). The CSV import
is not timed here (see bench_import.py). Never part of the tests.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from nextshow.collect.crawl import run_review_crawl
from nextshow.collect.spider import CrawlConfig

REVIEWS_PER_PAGE = 25


def _review(show: int, page: int, n: int) -> str:
    index = (show * 1000 + page) * REVIEWS_PER_PAGE + n
    rating = (
        ""
        if index % 10 == 0
        else (
            '<span class="rating-other-user-rating"><svg class="ipl-icon"></svg>'
            f'<span>{index % 10 + 1}</span><span class="point-scale">/10</span></span>'
        )
    )
    author = (
        "Deleted user" if index % 25 == 1 else f'<a href="/user/ur{index:08d}/">user {index}</a>'
    )
    return (
        '<div class="lister-item mode-detail imdb-user-review collapsable">'
        '<div class="review-container"><div class="lister-item-content">'
        f'<div class="ipl-ratings-bar">{rating}</div>'
        f'<a href="/review/rw{index:08d}/" class="title"> Review {index}</a>'
        f'<div class="display-name-date"><span class="display-name-link">{author}</span>'
        f'<span class="review-date">{1 + index % 28} March 20{10 + index % 14}</span></div>'
        '<div class="content"><div class="text">' + "Words. " * 60 + "</div></div>"
        "</div></div></div>"
    )


def _page(show: int, page: int, pages: int) -> bytes:
    items = "".join(_review(show, page, n) for n in range(REVIEWS_PER_PAGE))
    more = f' data-key="K{page + 1}"' if page + 1 < pages else ""
    html = (
        f"<html><head><title>Show {show} - User Reviews - IMDb</title></head><body>"
        f'<div class="lister-list">{items}</div>'
        f'<div class="load-more-data"{more} data-ajaxurl="/title/tt{show:07d}/reviews/_ajax">'
        "</div></body></html>"
    )
    return html.encode()


def _serve(shows: int, pages: int) -> tuple[ThreadingHTTPServer, str]:
    routes: dict[str, bytes] = {"/robots.txt": b"User-agent: *\nDisallow: /private/\n"}
    for show in range(1, shows + 1):
        routes[f"/title/tt{show:07d}/reviews/"] = _page(show, 0, pages)
        for page in range(1, pages):
            key = f"/title/tt{show:07d}/reviews/_ajax?paginationKey=K{page}"
            routes[key] = _page(show, page, pages)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"not found"
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

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
    server, base = _serve(args.shows, args.pages)
    ids = [f"tt{show:07d}" for show in range(1, args.shows + 1)]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
            off = _run(base, ids, args.pages, False, Path(tmp) / "off")
            polite_shows = max(1, (args.polite_pages + args.pages - 1) // args.pages)
            per_show = max(1, args.polite_pages // polite_shows)
            on = _run(base, ids[:polite_shows], per_show, True, Path(tmp) / "on")
    finally:
        server.shutdown()
    print(f"{'':>14} {'politeness off':>16} {'politeness on':>16}")
    for key, fmt in [
        ("pages", "{:.0f}"),
        ("ratings", "{:.0f}"),
        ("seconds", "{:.2f}"),
        ("pages_per_s", "{:.2f}"),
        ("ratings_per_s", "{:.1f}"),
    ]:
        print(f"{key:>14} {fmt.format(off[key]):>16} {fmt.format(on[key]):>16}")
    print(
        f"off: {args.shows} shows x {args.pages} pages, 16 in flight; on: the real defaults "
        f"(robots.txt, 2 s delay + AutoThrottle, 1 at a time, cache), capped at "
        f"{on['pages']:.0f} pages"
    )


if __name__ == "__main__":
    main()
