"""One review-crawl job: its configuration (JSON, handed to the crawl process) and its folder.

The job folder (``--job-dir``, default ``<home>/collect/reviews``) holds ``crawl.json`` (this
configuration), ``state/`` (scrapy's JOBDIR of an unfinished crawl), ``httpcache/``, ``shows/``
(per-show state, see :mod:`.state`), ``reviews.csv`` (ratings of the running crawl, written by
:class:`CsvRatingsPipeline`) and ``stats.json`` (the crawl's counters).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from nextshow.collect.graphql import GraphQLOptions

CSV_FIELDS = ("user_id", "imdb_id", "rating", "timestamp")


@dataclass
class CrawlConfig:
    """Everything one crawl needs; written as JSON for the crawl process."""

    imdb_ids: list[str]
    base_url: str
    job_dir: str
    user_agent: str
    graphql_url: str = "https://caching.graphql.imdb.com/"
    graphql_operation: str = "TitleReviewsRefine"
    graphql_persisted: bool = False
    reviews_query_hash: str | None = None
    page_size: int = 25
    max_pages: int = 20
    polite: bool = True
    download_delay: float = 2.0
    retry_times: int = 5
    retry_backoff: float = 2.0
    max_retry_after: float = 120.0
    cache_hours: float = 24.0
    timeout: float = 60.0
    challenge_limit: int = 3
    progress: bool = False
    log_level: str = "WARNING"

    def __post_init__(self) -> None:
        self.graphql()  # refuse a bad page size or a persisted query without a hash early
        if self.challenge_limit < 1:
            raise ValueError("challenge_limit must be at least 1")

    def graphql(self) -> GraphQLOptions:
        return GraphQLOptions(
            url=self.graphql_url,
            operation=self.graphql_operation,
            page_size=self.page_size,
            persisted=self.graphql_persisted,
            query_hash=self.reviews_query_hash,
        )

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

    @property
    def shows_dir(self) -> Path:
        """Per-show state: review ids seen, newest review date (kept across crawls)."""
        return Path(self.job_dir) / "shows"

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
