"""Settings from ``NEXTSHOW_*`` environment variables: the only place that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def ensure_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
