"""Settings from ``NEXTSHOW_*`` environment variables: the only place that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class Settings(BaseSettings):
    """Runtime settings; every field can be set as ``NEXTSHOW_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="NEXTSHOW_", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path(user_data_dir("nextshow", appauthor=False)),
        description="Folder for the database, artifacts, reports and logs.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file under home."
    )
    like_threshold: float = Field(
        default=8.0, ge=0.0, le=10.0, description="A rating >= this (0–10 scale) is a like."
    )
    progress: bool | None = Field(
        default=None, description="Show progress bars; default: only when stderr is a terminal."
    )
    import_batch_size: int = Field(default=5000, ge=1, description="Rows per import transaction.")
    artifact_url: str | None = Field(
        default=None, description="fsspec URL of the artifact store; default: home/artifacts."
    )
    artifact_options: dict[str, Any] = Field(
        default_factory=dict, description="fsspec storage options (JSON), e.g. an S3 endpoint."
    )

    default_model: str | None = Field(
        default=None,
        description="Optional override: train this model instead of letting the pipeline choose.",
    )
    candidate_models: str = Field(
        default="all",
        description="Models the pipeline chooses among: 'all', 'quick' (the fast ones) or 'a,b,c'.",
    )
    eval_split: Literal["auto", "global-time", "user-time", "random"] = Field(
        default="auto",
        description="Split of the evaluation protocol; auto: global-time with timestamps, "
        "else random.",
    )
    train_time_budget: float = Field(
        default=1800.0, gt=0.0, description="Seconds for tuning every candidate model."
    )
    eval_max_test_users: int = Field(
        default=5000,
        ge=0,
        description="Test users scored per split, a seeded sample (0: every test user).",
    )
    gate_metric: str = Field(default="ndcg@10", description="Metric the promotion gate compares.")
    gate_tolerance: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="How much worse (relative) a candidate may be."
    )
    min_support: int = Field(
        default=5,
        ge=1,
        description="Distinct likers a show without an IMDb id needs before it is recommended.",
    )
    auto_approve_clients: int = Field(
        default=20,
        ge=0,
        description="Distinct client addresses that confirm a title typed on the web (0: only "
        "an operator or an IMDb import does).",
    )
    retrain_min_new_likes: int = Field(
        default=1000, ge=0, description="Retrain when this many likes arrived; 0 turns it off."
    )
    retrain_interval_hours: float = Field(
        default=0.0, ge=0.0, description="Periodic retrain interval; 0 turns the schedule off."
    )

    # -- training on Apache Spark (`nextshow train --engine spark`) ---------------------------
    spark_master: str = Field(
        default="local[*]",
        description="Spark master URL (local[N], spark://host:7077, yarn, k8s://...).",
    )
    spark_driver_memory: str = Field(
        default="4g", description="spark.driver.memory when nextshow starts the driver itself."
    )
    spark_shuffle_partitions: int = Field(
        default=8, ge=1, description="spark.sql.shuffle.partitions (raise it on a cluster)."
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict, description='Extra Spark settings (JSON), e.g. {"spark.x": "y"}.'
    )
    spark_checkpoint_dir: str | None = Field(
        default=None,
        description="Where ALS checkpoints its lineage; default: home/spark-checkpoints "
        "(on a cluster: a path every executor reaches, e.g. hdfs:// or s3a://).",
    )

    # -- service (API, worker, model holder) ------------------------------------------------
    queue_url: str | None = Field(
        default=None,
        description="Huey queue: redis://host:port/db, or sqlite:///path; default: home/queue.db.",
    )
    queue_name: str = Field(default="nextshow", description="Huey queue name (key prefix).")
    worker_threads: int = Field(default=2, ge=1, le=64, description="Worker threads per process.")
    worker_poll_max_seconds: float = Field(
        default=0.05,
        gt=0,
        le=10,
        description="Longest sleep of an idle worker between polls of a SQLite queue.",
    )
    worker_stall_seconds: float = Field(
        default=30.0,
        gt=0.0,
        description="/readyz fails when tasks waited this long and no worker took one meanwhile.",
    )
    worker_max_backoff_seconds: float = Field(
        default=30.0, gt=0.0, description="Longest wait before `serve` restarts a dead worker."
    )
    model_poll_seconds: float = Field(
        default=5.0, gt=0, description="How often API and worker look for a newly promoted model."
    )
    require_model: bool = Field(
        default=False,
        description="/readyz fails while only the popularity fallback can answer.",
    )
    host: str = Field(default="127.0.0.1", description="Address `nextshow serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `nextshow serve` uses.")
    cors_origins: list[str] = Field(
        default_factory=list, description='Allowed CORS origins (JSON list), e.g. ["*"].'
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses whose X-Forwarded-For / -Proto are believed (default: none).",
    )
    header_timeout_seconds: float = Field(
        default=10.0, gt=0.0, description="A request's headers must arrive within this time."
    )
    max_connections: int = Field(
        default=1024, ge=1, description="Open connections per API process; beyond it: 503."
    )
    max_body_bytes: int = Field(default=16_384, ge=256, description="Largest request body.")
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per client IP and API process; 0 turns it off."
    )
    admin_token: str | None = Field(
        default=None, description="Bearer token for /api/admin; admin routes are off without it."
    )

    # -- data collection (IMDb datasets, user reviews) -------------------------------------
    imdb_datasets_url: str = Field(
        default="https://datasets.imdbws.com",
        description="Base URL of IMDb's non-commercial title datasets.",
    )
    imdb_reviews_url: str = Field(
        default="https://www.imdb.com", description="Base URL of the IMDb user-review pages."
    )
    imdb_graphql_url: str = Field(
        default="https://caching.graphql.imdb.com/",
        description="IMDb's GraphQL endpoint for further review pages (or api.graphql.imdb.com).",
    )
    imdb_reviews_operation: str = Field(
        default="TitleReviewsRefine", description="GraphQL operation name of the review pages."
    )
    imdb_graphql_persisted: bool = Field(
        default=False,
        description="Send IMDb's persisted query (by hash) instead of nextshow's query document.",
    )
    imdb_reviews_query_hash: str | None = Field(
        default=None,
        description="sha256Hash of IMDb's persisted reviews query (rotated by IMDb every few "
        "months); needed only with NEXTSHOW_IMDB_GRAPHQL_PERSISTED.",
    )
    imdb_reviews_page_size: int = Field(
        default=25, ge=1, le=50, description="Reviews per GraphQL page (IMDb allows 50 at most)."
    )
    collect_user_agent: str = Field(
        default="nextshow/0.1 (self-hosted TV-show recommender; polite review collector)",
        description="User-Agent of the downloader and the review spider; names the project.",
    )
    collect_download_delay: float = Field(
        default=2.0, ge=0.0, description="Seconds between two review-page requests to one host."
    )
    collect_max_pages: int = Field(
        default=20, ge=1, description="Review pages fetched per show at most."
    )
    collect_retry_times: int = Field(
        default=5, ge=0, description="Retries of a review page answered 429/5xx or cut off."
    )
    collect_retry_backoff: float = Field(
        default=2.0,
        ge=0.0,
        description="Back-off base in seconds (doubles per retry) when no Retry-After is sent.",
    )
    collect_max_retry_after: float = Field(
        default=120.0, ge=0.0, description="Longest Retry-After (seconds) that is honoured."
    )
    collect_cache_hours: float = Field(
        default=24.0, ge=0.0, description="Review pages are re-fetched after this; 0 = never."
    )
    collect_timeout: float = Field(
        default=60.0, gt=0, description="Seconds without data before a request is given up."
    )
    collect_challenge_limit: int = Field(
        default=3,
        ge=1,
        description="Browser challenges (IMDb's bot wall) in a row before the crawl stops.",
    )

    @field_validator("admin_token", mode="after")
    @classmethod
    def _refuse_placeholder_token(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if (
            value.lower() in {"changeme", "change-me", "secret", "admin", "token"}
            or len(value) < 12
        ):
            raise ValueError("admin_token is a placeholder or shorter than 12 characters")
        return value

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("database_url", mode="after")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        # "postgresql://" alone would pick psycopg2, which we do not install.
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def db_url(self) -> str:
        """The effective database URL (the SQLite default when none is configured)."""
        return self.database_url or f"sqlite:///{self.home / 'nextshow.db'}"

    @property
    def safe_db_url(self) -> str:
        """The database URL with any password masked, for printing."""
        return make_url(self.db_url).render_as_string(hide_password=True)

    @property
    def artifacts_url(self) -> str:
        """The effective artifact store URL (a local folder under home by default)."""
        return self.artifact_url or (self.home / "artifacts").as_uri()

    @property
    def model_cache_dir(self) -> Path:
        """Where served model artifacts are fetched to (verified on every load)."""
        return self.home / "model-cache"

    @property
    def effective_queue_url(self) -> str:
        """The queue URL (a SQLite file under home by default)."""
        return self.queue_url or f"sqlite:///{self.home / 'queue.db'}"

    @property
    def collect_dir(self) -> Path:
        """Downloads and review-crawl job folders."""
        return self.home / "collect"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def ensure_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
