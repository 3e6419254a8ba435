"""Which catalogue the pages say they serve: the demo films, or an IMDb TV catalogue of N series.

Counted from the store (two COUNT queries), at most once per ``ttl`` seconds per process, so a
page view costs nothing and a catalogue import shows up within a minute.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nextshow.db.models import Show

TV_TYPES = ("tvSeries", "tvMiniSeries")


def catalogue_text(session: Session) -> str:
    """``"IMDb TV catalogue: 12,345 series"``, or the demo films' line when there are no series."""
    # Active shows only: pending and rejected titles typed on the web are not the catalogue.
    active = select(func.count()).select_from(Show).where(Show.status == "active")
    series = session.scalar(active.where(Show.title_type.in_(TV_TYPES)))
    if series:
        return f"IMDb TV catalogue: {series:,} series"
    shows = session.scalar(active) or 0
    return f"demo films (MovieTweetings): {shows:,} titles"


class CatalogueLabel:
    """The text of :func:`catalogue_text`, recounted at most once per ``ttl`` seconds."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._text = ""
        self._at = float("-inf")

    def text(self, sessions: sessionmaker[Session]) -> str:
        with self._lock:
            if time.monotonic() - self._at > self.ttl:
                with sessions() as session:
                    self._text = catalogue_text(session)
                self._at = time.monotonic()
            return self._text
