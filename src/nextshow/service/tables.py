"""The service's own table: one row per prediction request (migration 0003).

Kept beside the service rather than in ``db/models.py`` because only the API and the worker use
it; it shares the project's ``Base`` (and so its naming convention and metadata).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from nextshow.db.models import Base, utcnow

STATUSES = ("pending", "done", "failed")


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
