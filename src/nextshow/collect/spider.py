"""The IMDb review spider (scrapy), its settings, and the process it runs in.

Run as ``python -m nextshow.collect.spider CONFIG.json`` (see :mod:`nextshow.collect.crawl`, which
does that): Twisted's reactor can start only once per process, so every crawl gets a fresh
process and the CLI, the tests and the benchmarks can run as many as they like.

Politeness by default (``polite=True``): robots.txt obeyed, a download delay with AutoThrottle,
one request at a time, retries of 429/5xx with back-off (``Retry-After`` honoured up to a cap),
an HTTP cache and a resumable job folder. Nothing here pickles: the scheduler's disk queues use
marshal, the spider-state extension (pickle) is off, and the HTTP cache stores JSON + raw bodies.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import shutil
import sys
import time
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.http.headers import Headers
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message

from nextshow.collect.reviews import UNKNOWN, parse_review_page, reviews_url

log = logging.getLogger(__name__)

CSV_FIELDS = ("user_id", "imdb_id", "rating", "timestamp")
RETRY_HTTP_CODES = (429, 500, 502, 503, 504, 522, 524, 408)
STAT = "nextshow/"  # prefix of the spider's own counters in scrapy's stats


@dataclass
class CrawlConfig:
    """Everything one crawl needs; written as JSON for the crawl process."""

    imdb_ids: list[str]
    base_url: str
    job_dir: str
    user_agent: str
    max_pages: int = 20
    polite: bool = True
    download_delay: float = 2.0
    retry_times: int = 5
    retry_backoff: float = 2.0
    max_retry_after: float = 120.0
    cache_hours: float = 24.0
    timeout: float = 60.0
    log_level: str = "WARNING"

    @property
    def output(self) -> Path:
        """The CSV the spider appends ratings to (kept across a resumed crawl)."""
        return Path(self.job_dir) / "reviews.csv"

    @property
    def stats_path(self) -> Path:
        return Path(self.job_dir) / "stats.json"

    @property
    def state_dir(self) -> Path:
        """scrapy's JOBDIR: pending requests and seen fingerprints of an unfinished crawl."""
        return Path(self.job_dir) / "state"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> CrawlConfig:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown crawl settings: {', '.join(sorted(unknown))}")
        return cls(**data)


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
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "nextshow.collect.spider.BackoffRetryMiddleware": 550,
        },
        "ITEM_PIPELINES": {"nextshow.collect.spider.CsvRatingsPipeline": 300},
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
                "HTTPCACHE_STORAGE": "nextshow.collect.spider.JsonCacheStorage",
                "HTTPCACHE_EXPIRATION_SECS": int(config.cache_hours * 3600),
                "HTTPCACHE_IGNORE_HTTP_CODES": list(RETRY_HTTP_CODES),
            }
        )
    return settings


def retry_wait(retry_after: str | None, retries: int, backoff: float, cap: float) -> float:
    """Seconds to wait before retry number ``retries + 1``.

    ``Retry-After`` (seconds or an HTTP date) when the server sent one, capped at ``cap``;
    otherwise ``backoff * 2**retries``, capped the same way.
    """
    if retry_after:
        text = retry_after.strip()
        if text.isdigit():
            return min(float(text), cap)
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, min(when.timestamp() - time.time(), cap))
    return min(backoff * 2**retries, cap)


class BackoffRetryMiddleware(RetryMiddleware):
    """scrapy's retry middleware plus a wait before each retry of a 429/5xx answer.

    The wait happens inside the download (the reactor keeps running), and with one request at a
    time it pauses the whole crawl, which is what a 429 asks for.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("NEXTSHOW_RETRY_BACKOFF", 2.0)
        self.max_retry_after = settings.getfloat("NEXTSHOW_MAX_RETRY_AFTER", 120.0)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retries = request.meta.get("retry_times", 0)
        if retries < request.meta.get("max_retry_times", self.max_retry_times):
            header = response.headers.get(b"Retry-After")
            wait = retry_wait(
                header.decode("latin-1") if header else None,
                retries,
                self.backoff,
                self.max_retry_after,
            )
            if wait > 0:
                from twisted.internet import reactor
                from twisted.internet.task import deferLater

                log.info("HTTP %d for %s: waiting %.1f s", response.status, request.url, wait)
                await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return self._retry(request, response_status_message(response.status)) or response


class JsonCacheStorage:
    """scrapy HTTP cache storage on the file system without pickle: JSON metadata + raw body."""

    def __init__(self, settings: Any) -> None:
        self.cachedir = Path(settings["HTTPCACHE_DIR"])
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")

    def open_spider(self, spider: scrapy.Spider) -> None:
        self._fingerprinter = spider.crawler.request_fingerprinter

    def close_spider(self, spider: scrapy.Spider) -> None:
        pass

    def _folder(self, spider: scrapy.Spider, request: Request) -> Path:
        key = self._fingerprinter.fingerprint(request).hex()
        return self.cachedir / spider.name / key[:2] / key

    def retrieve_response(self, spider: scrapy.Spider, request: Request) -> Response | None:
        folder = self._folder(spider, request)
        meta_path = folder / "meta.json"
        if not meta_path.exists():
            return None
        if 0 < self.expiration_secs < time.time() - meta_path.stat().st_mtime:
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        body = (folder / "body").read_bytes()
        headers = Headers({name: values for name, values in meta["headers"]})
        cls = responsetypes.from_args(headers=headers, url=meta["url"], body=body)
        request.meta["cache_timestamp"] = meta["timestamp"]
        return cls(url=meta["url"], status=meta["status"], headers=headers, body=body)

    def store_response(self, spider: scrapy.Spider, request: Request, response: Response) -> None:
        folder = self._folder(spider, request)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "body").write_bytes(response.body)
        headers = [
            [name.decode("latin-1"), [v.decode("latin-1") for v in values]]
            for name, values in response.headers.items()
        ]
        meta = {
            "url": response.url,
            "request_url": request.url,
            "status": response.status,
            "headers": headers,
            "timestamp": time.time(),
            "body_sha256": hashlib.sha256(response.body).hexdigest(),
        }
        # Written last: a cache entry without meta.json does not exist.
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


class CsvRatingsPipeline:
    """Appends each rating to the job's CSV (user_id, imdb_id, rating, timestamp), flushed.

    Appending (header only when the file is new) keeps the ratings of an interrupted crawl, so
    a resumed one adds to them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Any) -> CsvRatingsPipeline:
        return cls(Path(crawler.settings["NEXTSHOW_OUTPUT"]))

    def open_spider(self) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._file = self.path.open("a", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        if new:
            self._writer.writerow(CSV_FIELDS)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        self._writer.writerow([item[name] for name in CSV_FIELDS])
        self._file.flush()
        return item

    def close_spider(self) -> None:
        self._file.close()


class ReviewsSpider(scrapy.Spider):
    """User-review pages of each show, in the given order (priority), following pagination."""

    name = "imdb-reviews"

    def __init__(self, imdb_ids: list[str], base_url: str, max_pages: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.imdb_ids = list(imdb_ids)
        self.base_url = base_url
        self.max_pages = max_pages

    async def start(self):  # type: ignore[override]
        count = len(self.imdb_ids)
        for rank, imdb_id in enumerate(self.imdb_ids):
            # Higher priority first: the most-reviewed show is crawled (all its pages) first.
            yield Request(
                reviews_url(self.base_url, imdb_id),
                callback=self.parse_page,
                priority=count - rank,
                meta={"imdb_id": imdb_id, "page": 1},
            )

    def parse_page(self, response: Response):
        stats = self.crawler.stats
        imdb_id = response.meta["imdb_id"]
        number = response.meta["page"]
        page = parse_review_page(response.text, imdb_id, response.url)
        stats.inc_value(STAT + "pages")
        if page.markup == UNKNOWN:
            stats.inc_value(STAT + "unparsed_pages")
            self.logger.warning("no reviews in a known markup on %s", response.url)
        if number == 1:
            stats.inc_value(STAT + "shows")
        for key in ("reviews", "no_rating", "deleted_user", "malformed", "undated"):
            stats.inc_value(STAT + key, getattr(page, key))
        stats.inc_value(STAT + "ratings", len(page.ratings))
        for rating in page.ratings:
            yield {
                "user_id": rating.user_id,
                "imdb_id": rating.imdb_id,
                "rating": rating.rating,
                "timestamp": rating.review_date.isoformat() if rating.review_date else "",
            }
        if page.next_url:
            if number >= self.max_pages:
                stats.inc_value(STAT + "page_cap_reached")
                return
            yield Request(
                page.next_url,
                callback=self.parse_page,
                priority=response.request.priority if response.request else 0,
                meta={"imdb_id": imdb_id, "page": number + 1},
            )


def run(config: CrawlConfig) -> dict[str, Any]:
    """Crawl in this process (once per process: the reactor cannot restart); returns the stats."""
    from scrapy.crawler import CrawlerProcess

    Path(config.job_dir).mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(settings=scrapy_settings(config))
    crawler = process.create_crawler(ReviewsSpider)
    process.crawl(
        crawler,
        imdb_ids=config.imdb_ids,
        base_url=config.base_url,
        max_pages=config.max_pages,
    )
    process.start()
    raw = crawler.stats.get_stats() if crawler.stats else {}
    stats = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in raw.items()
        if isinstance(value, int | float | str | datetime)
    }
    if stats.get("finish_reason") == "finished":
        # A finished crawl leaves nothing to resume; the next run starts afresh (from the cache).
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
