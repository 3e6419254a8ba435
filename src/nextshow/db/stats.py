"""Counts of what the store holds (for `nextshow status` and, later, /readyz)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nextshow.db.models import Rating, Show, User


def store_counts(session: Session) -> dict[str, int]:
    """Numbers of shows, users, ratings and likes."""
    return {
        "shows": session.scalar(select(func.count()).select_from(Show)) or 0,
        "users": session.scalar(select(func.count()).select_from(User)) or 0,
        "ratings": session.scalar(select(func.count()).select_from(Rating)) or 0,
        "likes": session.scalar(select(func.count()).select_from(Rating).where(Rating.liked)) or 0,
    }
