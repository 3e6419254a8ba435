"""scrapy plumbing of the review crawl: retries with back-off, the bot wall, robots.txt, the cache.

- **Retries** (:class:`BackoffRetryMiddleware`): 429/5xx retried after ``Retry-After`` (capped) or
  a doubling back-off; with one request in flight the wait pauses the whole crawl.
- **The bot wall** (:class:`BotWallMiddleware`): since 2026 ``www.imdb.com`` answers plain clients
  with HTTP 202, an empty or challenge body and ``x-amzn-waf-action: challenge``. Such an answer
  (a 202, or any answer with that header) becomes a :class:`BotWall` failure: it is never cached,
  never retried and never parsed as "no reviews". nextshow does not solve the challenge.
- **robots.txt** (:class:`WalledRobotsTxtMiddleware`): scrapy's, except that a robots.txt answered
  with a challenge makes the host unavailable (every request to it a BotWall), not allow-all.
- **Cache** (:class:`JsonCacheStorage`, :class:`CachePolicy`): JSON metadata + raw body instead of
  scrapy's pickles; only 200 answers without a challenge and, for GraphQL, without ``errors``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.httpcache import DummyPolicy
from scrapy.http import Request, Response
from scrapy.http.headers import Headers
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message

from nextshow.collect.graphql import has_errors

log = logging.getLogger(__name__)

WAF_HEADER = b"x-amzn-waf-action"


IN_A_ROW = "nextshow/challenges_in_a_row"  # a stat: challenges since the last real answer
STOPPING = "nextshow/stopping"  # a stat the spider sets to the reason it is stopping for


class BotWall(IgnoreRequest):
    """IMDb answered with a browser challenge (its web application firewall)."""


class Stopped(IgnoreRequest):
    """Not sent: the crawl is stopping (the bot wall, or a GraphQL configuration error)."""


def is_challenge(response: Response) -> bool:
    """A 202, or any answer carrying ``x-amzn-waf-action``: the bot wall, not a page."""
    return response.status == 202 or WAF_HEADER in response.headers


class BotWallMiddleware:
    """Turns a challenge into a BotWall failure; sends nothing once the crawl is stopping.

    Challenges are counted here, next to the network, rather than in the spider, so that no
    request leaves after ``limit`` in a row, not even one the scheduler had already handed over.
    robots.txt answers are left to :class:`WalledRobotsTxtMiddleware`.
    """

    def __init__(self, stats: Any, limit: int) -> None:
        self.stats = stats
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Any) -> BotWallMiddleware:
        return cls(crawler.stats, crawler.settings.getint("NEXTSHOW_CHALLENGE_LIMIT", 3))

    def process_request(self, request: Request, spider: Any = None) -> None:
        reason = self.stats.get_value(STOPPING)
        if reason or self.stats.get_value(IN_A_ROW, 0) >= self.limit:
            reason = reason or "bot wall"
            raise Stopped(f"not sent, the crawl is stopping ({reason}): {request.url}")

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        if request.meta.get("dont_obey_robotstxt"):
            return response
        if is_challenge(response):
            self.stats.inc_value(IN_A_ROW)
            action = (response.headers.get(WAF_HEADER) or b"").decode("latin-1")
            raise BotWall(f"HTTP {response.status} {action} for {request.url}".replace("  ", " "))
        self.stats.set_value(IN_A_ROW, 0)
        return response


class _WalledRobots:
    """The robots.txt of a host behind the bot wall: nothing can be fetched there."""

    def allowed(self, url: str, user_agent: str | bytes) -> bool:
        return False


_WALLED = _WalledRobots()


class WalledRobotsTxtMiddleware(RobotsTxtMiddleware):
    """scrapy's robots.txt middleware, except that a challenge is no robots.txt (not allow-all)."""

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if not is_challenge(response):
            await super()._parse_robots(response, netloc, request)
            return
        log.info("robots.txt of %s answered with a browser challenge: host unavailable", netloc)
        self._stats.inc_value("robotstxt/challenged")
        waiting = self._parsers[netloc]
        self._parsers[netloc] = _WALLED  # type: ignore[assignment]
        waiting.callback(_WALLED)  # type: ignore[union-attr]

    def process_request_2(self, rp: Any, request: Request) -> None:
        if rp is _WALLED:
            netloc = urlparse_cached(request).netloc
            self._stats.inc_value(IN_A_ROW)
            raise BotWall(f"robots.txt of {netloc} answered with a browser challenge")
        super().process_request_2(rp, request)


class CachePolicy(DummyPolicy):
    """Caches only clean answers: 200, no challenge, and no GraphQL ``errors``."""

    def should_cache_response(self, response: Response, request: Request) -> bool:
        if response.status != 200 or is_challenge(response):
            return False
        return not (request.meta.get("graphql") and has_errors(response.body))


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
