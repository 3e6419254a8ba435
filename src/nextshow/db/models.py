"""SQLAlchemy tables. Schema changes go through Alembic migrations, never create_all."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nextshow.db import limits
from nextshow.db.types import UTCDateTime

# Named constraints keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# A show's review state: user-submitted titles start "pending" (recorded, their likes kept, but
# neither searchable nor recommended) until an import, a threshold or an operator confirms them.
SHOW_STATUSES = ("active", "pending", "rejected")


class Show(Base):
    """A title in the catalogue (mostly TV series; films from the demo data)."""

    __tablename__ = "shows"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{state}'" for state in SHOW_STATUSES) + ")",
            name="status_known",
        ),
        UniqueConstraint("source", "external_id", name="uq_shows_source_external_id"),
        Index("ix_shows_normalized_title", "normalized_title"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imdb_id: Mapped[str | None] = mapped_column(String(limits.IMDB_ID), unique=True)
    title: Mapped[str] = mapped_column(String(limits.TITLE))
    original_title: Mapped[str | None] = mapped_column(String(limits.TITLE))
    normalized_title: Mapped[str] = mapped_column(String(limits.TITLE))
    title_type: Mapped[str | None] = mapped_column(String(32))
    start_year: Mapped[int | None] = mapped_column(Integer)
    end_year: Mapped[int | None] = mapped_column(Integer)
    genres: Mapped[str | None] = mapped_column(String(limits.GENRES))  # comma-separated, IMDb style
    imdb_rating: Mapped[float | None] = mapped_column(Float)
    imdb_votes: Mapped[int | None] = mapped_column(Integer)
    # Series only, from title.episode (migration 0006): how many seasons and episodes it has.
    seasons: Mapped[int | None] = mapped_column(Integer)
    episodes: Mapped[int | None] = mapped_column(Integer)
    # Where the row came from ("imdb", "movietweetings", "movielens", "csv", "user") and that
    # source's own id, so re-importing a file without IMDb ids still finds its shows.
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(limits.EXTERNAL_ID))
    user_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Person(Base):
    """Someone credited on a show (IMDb ``nm`` id); the name comes from name.basics."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imdb_id: Mapped[str] = mapped_column(String(limits.IMDB_ID), unique=True)
    # NULL until name.basics is imported (credits are read before names: see catalog/imdb_tv.py).
    name: Mapped[str | None] = mapped_column(String(limits.PERSON_NAME))


class ShowCredit(Base):
    """One person's role on one show, with IMDb's billing order (1 = first billed)."""

    __tablename__ = "show_credits"
    __table_args__ = (
        CheckConstraint(
            "role IN ('creator', 'writer', 'director', 'actor', 'other')", name="role_known"
        ),
        Index("ix_show_credits_person_id", "person_id"),
    )

    show_id: Mapped[int] = mapped_column(
        ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    ordering: Mapped[int | None] = mapped_column(Integer)


class ShowTitle(Base):
    """An alternative title of a show (title.akas): what it is called in a region or language."""

    __tablename__ = "show_titles"
    __table_args__ = (Index("ix_show_titles_normalized_title", "normalized_title"),)

    show_id: Mapped[int] = mapped_column(
        ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True
    )
    ordering: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(limits.TITLE))
    normalized_title: Mapped[str] = mapped_column(String(limits.TITLE))
    region: Mapped[str | None] = mapped_column(String(limits.LANGUAGE_CODE))
    language: Mapped[str | None] = mapped_column(String(limits.LANGUAGE_CODE))
    is_original: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    """Someone who rated or liked shows: an imported reviewer or an anonymous web visitor."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_users_source_external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(limits.USER_EXTERNAL_ID))
    source: Mapped[str] = mapped_column(String(32))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Ratings.source of likes recorded from web requests (the feedback loop): anonymous, untrusted.
FEEDBACK_SOURCE = "web"


class Rating(Base):
    """One row per user and show; a later rating replaces an earlier one."""

    __tablename__ = "ratings"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating >= 0 AND rating <= 10)", name="rating_range"),
        Index("ix_ratings_show_id", "show_id"),
        Index("ix_ratings_updated_at", "updated_at"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    show_id: Mapped[int] = mapped_column(
        ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True
    )
    rating: Mapped[float | None] = mapped_column(Float)  # 0–10, NULL when only a like is known
    liked: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When this row was last written: lets the pipeline count likes that arrived since a snapshot.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DatasetSnapshot(Base):
    """An immutable, content-addressed export of shows and ratings (files in the artifact store)."""

    __tablename__ = "dataset_snapshots"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # content hash
    uri: Mapped[str] = mapped_column(String(1024))
    rows: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    shows: Mapped[int] = mapped_column(Integer)
    likes: Mapped[int] = mapped_column(Integer)
    like_threshold: Mapped[float] = mapped_column(Float)
    # Newest ratings.updated_at included: "likes since this snapshot" counts rows written after it.
    data_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
    manifest: Mapped[str] = mapped_column(Text)  # the manifest JSON, as written to the store
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModelVersion(Base):
    """A trained model: what data and code made it, how it scored, where its artifact is."""

    __tablename__ = "model_versions"
    __table_args__ = (
        CheckConstraint("stage IN ('candidate', 'production', 'archived')", name="stage_known"),
        # At most one production version, enforced by the database on SQLite and PostgreSQL.
        Index(
            "ux_model_versions_one_production",
            "stage",
            unique=True,
            sqlite_where=text("stage = 'production'"),
            postgresql_where=text("stage = 'production'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text)  # JSON
    snapshot_id: Mapped[str] = mapped_column(ForeignKey("dataset_snapshots.id"))
    code_version: Mapped[str] = mapped_column(String(64))
    git_commit: Mapped[str | None] = mapped_column(String(64))
    metrics: Mapped[str] = mapped_column(Text)  # JSON
    fit_seconds: Mapped[float] = mapped_column(Float)
    artifact_uri: Mapped[str] = mapped_column(String(1024))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    artifact_bytes: Mapped[int] = mapped_column(Integer)
    # Which training engine made it ("numpy" or "spark"); the artifact itself does not say.
    engine: Mapped[str] = mapped_column(String(16), default="numpy", server_default="numpy")
    stage: Mapped[str] = mapped_column(String(16), default="candidate")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModelEvent(Base):
    """The registry's history: every registration, promotion, refusal and rollback, with reason."""

    __tablename__ = "model_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    action: Mapped[str] = mapped_column(String(16))  # register | promote | refuse | rollback
    previous_production_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)  # JSON: the gate's comparison
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The states of a prediction request; the check constraint below spells out the same list.
PREDICTION_STATUSES = ("pending", "done", "failed")


class PredictionRequest(Base):
    """What a visitor asked for, what it matched, and (once the worker ran) the answer.

    ``inputs``, ``matches`` and ``results`` are JSON text: the shapes are the API's schemas, and
    keeping them as text keeps the table identical on SQLite and PostgreSQL.
    """

    __tablename__ = "prediction_requests"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_prediction_requests_idempotency_key"),
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="status_known"),
        Index("ix_prediction_requests_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4 text
    status: Mapped[str] = mapped_column(String(16), default="pending")
    inputs: Mapped[str] = mapped_column(Text)
    matches: Mapped[str] = mapped_column(Text)
    user_external_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    n: Mapped[int] = mapped_column(Integer)
    results: Mapped[str | None] = mapped_column(Text)
    model_version_id: Mapped[int | None] = mapped_column(Integer)
    fallback: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    # A hash of the client's address (never the address itself): distinct clients, not requests,
    # are what may confirm a title typed on the web (catalog.review.settle_pending).
    client_key: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
