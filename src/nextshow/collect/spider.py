"""The IMDb review spider (scrapy), its settings, and the process it runs in.

Run as ``python -m nextshow.collect.spider CONFIG.json`` (see :mod:`nextshow.collect.crawl`, which
does that): Twisted's reactor can start only once per process, so every crawl gets a fresh
process and the CLI, the tests and the benchmarks can run as many as they like.

Per show, in the order given (a priority by rank, so one show's pages come before the next's):

- **first crawl**: the review page (its JSON, else its cards), then IMDb's GraphQL API from the
  page's ``endCursor`` in the page's order (``HELPFULNESS_SCORE``); from the first GraphQL page when
  the page is unavailable (an HTTP error, no reviews in a known form) or has no cursor (cards). It
  ends when ``hasNextPage`` is false, ``endCursor`` is null or ``max_pages`` is reached.
- **re-crawl** (the show's first crawl completed, see :mod:`.state`): GraphQL only, newest first
  (``SUBMISSION_DATE``), never from the cache, until a page holds a review already seen or older
  than the newest one collected before.

Reviews are de-duplicated by review id across pages and runs. The bot wall (see
:mod:`.middlewares`) is not got around: a challenged show is not tried another way, and after
``challenge_limit`` challenges in a row the crawl stops (finish reason ``bot_wall``).

Politeness by default (``polite=True``): robots.txt obeyed per host, a download delay with
AutoThrottle, one request at a time, retries of 429/5xx with back-off, an HTTP cache and a
resumable job folder. Nothing here pickles: the scheduler's disk queues use marshal, the
spider-state extension (pickle) is off, and the HTTP cache stores JSON + raw bodies.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from nextshow.collect.graphql import HELPFULNESS, NEWEST, GraphQLError, build_request, parse_answer
from nextshow.collect.job import CrawlConfig
from nextshow.collect.middlewares import IN_A_ROW, STOPPING, BotWall, Stopped
from nextshow.collect.reviews import CARDS, UNKNOWN, ReviewPage, parse_review_page, reviews_url
from nextshow.collect.state import ShowState, StateError, StateStore
from nextshow.progress import progress_bar

log = logging.getLogger(__name__)

RETRY_HTTP_CODES = (429, 500, 502, 503, 504, 522, 524, 408)
STAT = "nextshow/"  # prefix of the spider's own counters in scrapy's stats
BOT_WALL = "bot_wall"  # finish reasons of a crawl stopped early
QUERY_NOT_FOUND = "persisted_query_not_found"
STOPPED = {"finished", BOT_WALL, QUERY_NOT_FOUND}  # nothing worth resuming afterwards
_MW = "nextshow.collect.middlewares."


def scrapy_settings(config: CrawlConfig) -> dict[str, Any]:
    """scrapy settings for ``config``: the polite defaults, or none of them for benchmarks."""
    polite = config.polite
    delay = config.download_delay if polite else 0.0
    job = Path(config.job_dir)
    settings: dict[str, Any] = {
        "BOT_NAME": "nextshow",
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": polite,
        "DOWNLOAD_DELAY": delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if polite else 0.0,  # 0.5-1.5 x the delay
        "AUTOTHROTTLE_ENABLED": polite,
        "AUTOTHROTTLE_START_DELAY": delay,
        "AUTOTHROTTLE_MAX_DELAY": max(60.0, delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "CONCURRENT_REQUESTS": 1 if polite else 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1 if polite else 16,
        "DOWNLOAD_TIMEOUT": config.timeout,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": config.log_level,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": config.retry_times,
        "RETRY_HTTP_CODES": list(RETRY_HTTP_CODES),
        "NEXTSHOW_RETRY_BACKOFF": config.retry_backoff,
        "NEXTSHOW_MAX_RETRY_AFTER": config.max_retry_after,
        "NEXTSHOW_OUTPUT": str(config.output),
        "NEXTSHOW_CHALLENGE_LIMIT": config.challenge_limit,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            _MW + "WalledRobotsTxtMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            _MW + "BackoffRetryMiddleware": 550,
            # Answers pass 900 (cache) first, then 560, then 550: a challenge is never retried.
            _MW + "BotWallMiddleware": 560,
        },
        "ITEM_PIPELINES": {"nextshow.collect.job.CsvRatingsPipeline": 300},
        "EXTENSIONS": {"scrapy.extensions.spiderstate.SpiderState": None},  # pickles state
        # Resumable: pending requests and seen fingerprints live in the job folder (marshal).
        "JOBDIR": str(config.state_dir),
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.MarshalLifoDiskQueue",
        "SCHEDULER_START_DISK_QUEUE": "scrapy.squeues.MarshalFifoDiskQueue",
    }
    if polite:
        settings.update(
            {
                "HTTPCACHE_ENABLED": True,
                "HTTPCACHE_DIR": str(job / "httpcache"),
                "HTTPCACHE_STORAGE": _MW + "JsonCacheStorage",
                "HTTPCACHE_POLICY": _MW + "CachePolicy",
                "HTTPCACHE_EXPIRATION_SECS": int(config.cache_hours * 3600),
            }
        )
    return settings


class ReviewsSpider(scrapy.Spider):
    """Review pages and GraphQL pages of each show, in the given order (see the module doc)."""

    name = "imdb-reviews"

    def __init__(self, config: CrawlConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.options = config.graphql()
        self.store = StateStore(config.shows_dir)
        self._states: dict[str, ShowState] = {}  # shows in progress only: memory stays bounded
        self._bar = progress_bar(
            enabled=config.progress, total=len(config.imdb_ids), desc="reviews", unit="show"
        )

    def _inc(self, key: str, by: int = 1) -> None:
        self.crawler.stats.inc_value(STAT + key, by)

    def _count(self, key: str) -> int:
        return int(self.crawler.stats.get_value(STAT + key, 0))

    async def start(self):  # type: ignore[override]
        count = len(self.config.imdb_ids)
        for rank, imdb_id in enumerate(self.config.imdb_ids):
            priority = count - rank  # higher first: the first show's pages before the next's
            try:
                state = self.store.load(imdb_id)
            except StateError as exc:
                self.logger.error("%s: not crawled: %s", imdb_id, exc)
                self._inc("failures")
                self._finish(imdb_id, complete=False)
                continue
            if state.complete:
                since = state.newest.isoformat() if state.newest else None
                yield self._graphql(imdb_id, None, NEWEST, 1, priority, since=since)
            else:
                yield Request(
                    reviews_url(self.config.base_url, imdb_id),
                    callback=self.parse_page,
                    errback=self.failed,
                    priority=priority,
                    meta={"imdb_id": imdb_id, "page": 1, "kind": "page"},
                )

    def _graphql(
        self, imdb_id: str, after: str | None, sort: str, number: int, priority: int, **extra: Any
    ) -> Request:
        """A GraphQL page request; ``since`` in ``extra`` marks a re-crawl (newest first)."""
        method, url, body = build_request(self.options, imdb_id, after, sort)
        meta = {
            "imdb_id": imdb_id,
            "page": number,
            "kind": "graphql",
            "graphql": True,
            "sort": sort,
            "after": after,
            "handle_httpstatus_list": [400],  # PersistedQueryNotFound may come as a 400
            **extra,
        }
        if "since" in extra and after is None:
            meta["dont_cache"] = True  # a re-crawl's first page must show today's reviews
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        return Request(
            url,
            method=method,
            body=body,
            headers=headers,
            callback=self.parse_graphql,
            errback=self.failed,
            priority=priority,
            meta=meta,
        )

    def parse_page(self, response: Response) -> Iterator[Any]:
        imdb_id = response.meta["imdb_id"]
        page = parse_review_page(response.text, imdb_id)
        if page.source == UNKNOWN:
            self._inc("unparsed_pages")
            self.logger.warning("no reviews in a known form on %s: trying GraphQL", response.url)
            yield self._graphql(imdb_id, None, HELPFULNESS, 1, _priority(response))
            return
        yield from self._take(response, page)

    def parse_graphql(self, response: Response) -> Iterator[Any]:
        imdb_id = response.meta["imdb_id"]
        try:
            page = parse_answer(response.body, imdb_id)
            if response.status != 200:
                raise GraphQLError(f"HTTP {response.status} without errors")
        except GraphQLError as exc:
            self._inc("graphql_errors")
            self._inc("failures")
            self.crawler.stats.set_value(STAT + "graphql_error", exc.message)
            self.logger.warning(
                "IMDb's GraphQL API refused page %d of %s: %s",
                response.meta["page"],
                imdb_id,
                exc.message,
            )
            self._finish(imdb_id, complete=False)
            if exc.persisted_query_not_found:  # every further request would fail the same way
                self._stop(QUERY_NOT_FOUND)
            return
        yield from self._take(response, page)

    def _take(self, response: Response, page: ReviewPage) -> Iterator[Any]:
        """Yield the page's new ratings, update the show's state, then ask for the next page."""
        meta = response.meta
        imdb_id, number = meta["imdb_id"], meta["page"]
        if imdb_id not in self._states:
            self._states[imdb_id] = self.store.load(imdb_id)
        state = self._states[imdb_id]
        since = date.fromisoformat(meta["since"]) if meta.get("since") else None
        caught_up = False
        self._inc("pages")
        for review in page.reviews:
            if review.review_id is not None and review.review_id in state.seen:
                self._inc("duplicates")
                caught_up = True
                continue
            if since is not None and review.review_date is not None and review.review_date < since:
                caught_up = True  # newest first: everything after this is older still
            state.add(review.review_id, review.review_date)
            self._inc("reviews")
            if review.problem:
                self._inc(review.problem)
                continue
            self._inc("undated", review.review_date is None)
            self._inc("ratings")
            yield {
                "user_id": review.user_id,
                "imdb_id": imdb_id,
                "rating": review.rating,
                "timestamp": review.review_date.isoformat() if review.review_date else "",
            }
        self.store.save(state)
        more = page.has_next or page.source == CARDS  # cards give no cursor: GraphQL from start
        if ("since" in meta and caught_up) or not more:
            self._finish(imdb_id, complete=True)
        elif number >= self.config.max_pages:
            self._inc("page_cap_reached")
            self._finish(imdb_id, complete=True)
        else:
            extra = {"since": meta["since"]} if "since" in meta else {}
            sort = meta.get("sort", HELPFULNESS)
            yield self._graphql(
                imdb_id, page.end_cursor, sort, number + 1, _priority(response), **extra
            )
        self._progress()

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        imdb_id, kind = request.meta["imdb_id"], request.meta["kind"]
        if failure.check(Stopped):
            self._finish(imdb_id, complete=False)
            return
        if failure.check(BotWall):
            self._inc("challenged")
            self._inc("failures")
            self.logger.info("browser challenge for %s: %s", imdb_id, failure.value)
            self._finish(imdb_id, complete=False)
            if self.crawler.stats.get_value(IN_A_ROW, 0) >= self.config.challenge_limit:
                self._stop(BOT_WALL)
            return
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
        elif failure.check(IgnoreRequest):  # forbidden by robots.txt (counted by scrapy)
            self._finish(imdb_id, complete=False)
            return
        else:
            reason = repr(failure.value)
        self._inc("failures")
        if kind == "page":
            self._inc("pages_unavailable")
            self.logger.warning(
                "review page of %s unavailable (%s): trying GraphQL", imdb_id, reason
            )
            yield self._graphql(imdb_id, None, HELPFULNESS, 1, request.priority)
            return
        self.logger.warning(
            "GraphQL page %d of %s failed: %s", request.meta["page"], imdb_id, reason
        )
        self._finish(imdb_id, complete=False)

    def _finish(self, imdb_id: str, *, complete: bool) -> None:
        """A show is done (``complete``: its pagination ended, not a failure)."""
        state = self._states.pop(imdb_id, None)
        if state is not None and complete and not state.complete:
            state.complete = True
            self.store.save(state)
        self._inc("shows")
        self._bar.update(1)
        self._progress()

    def _stop(self, reason: str) -> None:
        """Stop the crawl: nothing more is sent (see BotWallMiddleware), then scrapy closes."""
        self.crawler.stats.set_value(STOPPING, reason)
        raise CloseSpider(reason)

    def _progress(self) -> None:
        self._bar.set_postfix(
            pages=self._count("pages"),
            ratings=self._count("ratings"),
            failures=self._count("failures"),
        )

    def closed(self, reason: str) -> None:
        self._bar.close()


def _priority(response: Response) -> int:
    return response.request.priority if response.request else 0


def run(config: CrawlConfig) -> dict[str, Any]:
    """Crawl in this process (once per process: the reactor cannot restart); returns the stats."""
    from scrapy.crawler import CrawlerProcess

    Path(config.job_dir).mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(settings=scrapy_settings(config))
    crawler = process.create_crawler(ReviewsSpider)
    process.crawl(crawler, config=config)
    process.start()
    raw = crawler.stats.get_stats() if crawler.stats else {}
    stats = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in raw.items()
        if isinstance(value, int | float | str | datetime)
    }
    if stats.get("finish_reason") in STOPPED:
        # Nothing to resume: the next run starts afresh from the per-show state (and the cache).
        shutil.rmtree(config.state_dir, ignore_errors=True)
    config.stats_path.write_text(json.dumps(stats, indent=2, sort_keys=True), encoding="utf-8")
    return stats


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m nextshow.collect.spider CONFIG.json", file=sys.stderr)
        return 2
    config = CrawlConfig.from_json(Path(args[0]).read_text(encoding="utf-8"))
    run(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
