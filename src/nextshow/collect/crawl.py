"""Review collection end to end: choose shows, crawl in a child process, import the ratings.

The crawl runs in its own process (``python -m nextshow.collect.spider``) because Twisted's
reactor starts once per process. Its ratings land in the job folder's CSV and go through the
ordinary rating importer (format ``csv``, source ``imdb-reviews``), so validation, the newest-wins
rule and the rejects report are the same as for any rating file.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from nextshow.collect.job import CrawlConfig
from nextshow.collect.spider import BOT_WALL, QUERY_NOT_FOUND, STAT, STOPPED
from nextshow.config import Settings
from nextshow.db.models import Show
from nextshow.ids import is_imdb_id
from nextshow.ratings.importer import import_ratings
from nextshow.rejects import ImportSummary

log = logging.getLogger(__name__)

SOURCE = "imdb-reviews"
BOT_WALL_MESSAGE = (
    "IMDb answered the review crawl with a browser challenge (its bot wall), which nextshow does"
    " not solve, so the crawl stopped; the IMDb datasets still work"
    " (`nextshow collect imdb-datasets`), and ratings already collected were kept."
)


class CrawlError(Exception):
    """The crawl process failed (not: some pages failed, which the stats count)."""


@dataclass(frozen=True)
class CrawlResult:
    """The crawl's counters (scrapy's stats plus ours) and the CSV it wrote."""

    stats: dict[str, Any]
    csv_path: Path

    def count(self, name: str) -> int:
        return int(self.stats.get(STAT + name, 0))

    @property
    def finished(self) -> bool:
        return self.stats.get("finish_reason") == "finished"

    @property
    def resumable(self) -> bool:
        """Interrupted (Ctrl-C): its queue is kept and the next run continues it."""
        return self.stats.get("finish_reason") not in STOPPED

    @property
    def walled(self) -> bool:
        """Stopped by the bot wall: challenges in a row, or nothing but challenges."""
        reason = self.stats.get("finish_reason")
        return reason == BOT_WALL or (self.count("challenged") > 0 and self.count("pages") == 0)

    @property
    def query_not_found(self) -> bool:
        """Stopped because IMDb did not know the persisted query's hash."""
        return self.stats.get("finish_reason") == QUERY_NOT_FOUND

    def summary(self) -> dict[str, Any]:
        """The counts the CLI prints."""
        elapsed = float(self.stats.get("elapsed_time_seconds", 0.0))
        return {
            "shows": self.count("shows"),
            "pages": self.count("pages"),
            "reviews": self.count("reviews"),
            "ratings": self.count("ratings"),
            "skipped_no_rating": self.count("no_rating"),
            "skipped_deleted_user": self.count("deleted_user"),
            "skipped_malformed": self.count("malformed"),
            "duplicates": self.count("duplicates"),
            "undated": self.count("undated"),
            "failures": self.count("failures"),
            "challenged": self.count("challenged"),
            "pages_unavailable": self.count("pages_unavailable"),
            "unparsed_pages": self.count("unparsed_pages"),
            "graphql_errors": self.count("graphql_errors"),
            "graphql_error": self.stats.get(STAT + "graphql_error"),
            "page_cap_reached": self.count("page_cap_reached"),
            "retries": int(self.stats.get("retry/count", 0)),
            "robots_forbidden": int(self.stats.get("robotstxt/forbidden", 0)),
            "cache_hits": int(self.stats.get("httpcache/hit", 0)),
            "finish_reason": self.stats.get("finish_reason"),
            "elapsed_seconds": round(elapsed, 3),
        }


def is_local_url(url: str) -> bool:
    """Whether ``url`` points at this machine (where turning politeness off is allowed)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def top_shows(session: Session, count: int) -> list[str]:
    """IMDb ids of the ``count`` catalogue shows with the most IMDb votes, most first.

    Votes stand in for the number of reviews (which the datasets do not give).
    """
    rows = session.execute(
        select(Show.imdb_id)
        .where(Show.imdb_id.is_not(None), Show.imdb_votes.is_not(None))
        .order_by(Show.imdb_votes.desc(), Show.id)
        .limit(count)
    )
    return [imdb_id for (imdb_id,) in rows]


_CRAWL_SETTINGS = (
    "user_agent",
    "max_pages",
    "download_delay",
    "retry_times",
    "retry_backoff",
    "max_retry_after",
    "cache_hours",
    "timeout",
    "challenge_limit",
)


def parse_imdb_ids(text: str) -> list[str]:
    """A comma-separated list of IMDb ids, duplicates dropped, in the order given."""
    imdb_ids = list(dict.fromkeys(i.strip() for i in text.split(",") if i.strip()))
    bad = [i for i in imdb_ids if not is_imdb_id(i)]
    if bad or not imdb_ids:
        raise ValueError(f"not IMDb ids: {', '.join(bad) or repr(text)}")
    return imdb_ids


def crawl_config(
    settings: Settings,
    imdb_ids: list[str],
    *,
    base_url: str | None = None,
    job_dir: Path | None = None,
    max_pages: int | None = None,
    polite: bool = True,
    verbose: bool = False,
    progress: bool = False,
) -> CrawlConfig:
    """The crawl of ``imdb_ids`` as configured; the arguments given override the settings.

    Every crawl setting is the ``collect_<field>`` setting of the same name; the GraphQL ones are
    the ``imdb_…`` settings. Raises ValueError for a persisted query without a hash.
    """
    configured = {name: getattr(settings, f"collect_{name}") for name in _CRAWL_SETTINGS}
    if max_pages:
        configured["max_pages"] = max_pages
    return CrawlConfig(
        imdb_ids=imdb_ids,
        base_url=base_url or settings.imdb_reviews_url,
        job_dir=str(job_dir or settings.collect_dir / "reviews"),
        graphql_url=settings.imdb_graphql_url,
        graphql_operation=settings.imdb_reviews_operation,
        graphql_persisted=settings.imdb_graphql_persisted,
        reviews_query_hash=settings.imdb_reviews_query_hash,
        page_size=settings.imdb_reviews_page_size,
        polite=polite,
        progress=progress,
        log_level="INFO" if verbose else "WARNING",
        **configured,
    )


def run_review_crawl(config: CrawlConfig) -> CrawlResult:
    """Run the spider in a child process; returns its stats. Raises CrawlError when it fails.

    Ctrl-C stops the crawl gracefully: scrapy finishes the requests in flight and keeps the
    pending ones in the job folder, and the next run with the same folder resumes.
    """
    if not config.polite and not (
        is_local_url(config.base_url) and is_local_url(config.graphql_url)
    ):
        raise ValueError("politeness can only be turned off against a local server (benchmarks)")
    job = Path(config.job_dir)
    job.mkdir(parents=True, exist_ok=True)
    config_path = job / "crawl.json"
    config_path.write_text(config.to_json(), encoding="utf-8")
    config.stats_path.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "nextshow.collect.spider", str(config_path)])
    try:
        code = process.wait()
    except KeyboardInterrupt:
        log.warning("interrupted: letting the crawl stop cleanly (its queue stays in %s)", job)
        code = process.wait()
    if code != 0 or not config.stats_path.exists():
        raise CrawlError(f"the review crawl exited with status {code}")
    stats = json.loads(config.stats_path.read_text(encoding="utf-8"))
    return CrawlResult(stats, config.output)


def collect_reviews(
    sessions: sessionmaker[Session],
    config: CrawlConfig,
    *,
    like_threshold: float,
    batch_size: int,
    progress: bool,
    reports_dir: Path,
) -> tuple[CrawlResult, ImportSummary]:
    """Crawl, then import the collected ratings (source ``imdb-reviews``).

    After a crawl that ended (finished, or stopped by the bot wall or a GraphQL configuration
    error) the CSV is renamed ``reviews-<time>.csv`` (kept as a record) before it is imported:
    ratings collected before a stop are kept. After an interrupted one (Ctrl-C) it stays
    ``reviews.csv`` so the resumed crawl appends to it, and importing it again then is harmless
    (stored ratings come back unchanged).
    """
    result = run_review_crawl(config)
    path = result.csv_path
    if not path.exists():  # no page gave a rating
        return result, ImportSummary()
    if not result.resumable:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = path.rename(path.with_name(f"reviews-{stamp}.csv"))
        result = CrawlResult(result.stats, path)
    summary = import_ratings(
        sessions,
        path,
        fmt="csv",
        items_path=None,
        like_threshold=like_threshold,
        batch_size=batch_size,
        progress=progress,
        reports_dir=reports_dir,
        source=SOURCE,
    )
    return result, summary
