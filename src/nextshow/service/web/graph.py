"""Nearest neighbours of shows for the explore page: item-kNN cosine over the store's likes.

The likes form a users x shows CSR matrix (1.0 per like, only shows with at least one like);
the neighbours of a show are the ``k`` shows with the highest cosine between their columns.
Cost: one sparse product X.T @ X (~ sum over users of likes²), done at most once per
``ttl_seconds`` per process and kept as a small table (``k`` neighbours per liked show).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from nextshow.db.models import Rating, Show
from nextshow.recommenders.similarity import cosine_similarity, top_k_per_row

log = logging.getLogger(__name__)

NEIGHBOURS = 8
# Likes change slowly compared with page views: rebuild the table at most this often.
TTL_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Node:
    """A show as the graph draws it."""

    id: int
    title: str
    start_year: int | None
    end_year: int | None
    genres: tuple[str, ...]
    imdb_id: str | None
    likes: int


@dataclass(frozen=True)
class NeighbourTable:
    """Top-``k`` cosine neighbours of every show with likes, most liked show first."""

    nodes: dict[int, Node]
    neighbours: dict[int, tuple[tuple[int, float], ...]]
    built_at: float

    @property
    def most_liked(self) -> int | None:
        return max(self.nodes.values(), key=lambda n: (n.likes, -n.id)).id if self.nodes else None


def build_table(session: Session, k: int = NEIGHBOURS) -> NeighbourTable:
    """Read every like and compute each liked show's ``k`` nearest neighbours by cosine."""
    pairs = session.execute(select(Rating.user_id, Rating.show_id).where(Rating.liked)).all()
    if not pairs:
        return NeighbourTable({}, {}, time.monotonic())
    users = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    shows = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
    user_ids, rows = np.unique(users, return_inverse=True)
    show_ids, cols = np.unique(shows, return_inverse=True)
    X = sp.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(user_ids), len(show_ids)))
    S = top_k_per_row(cosine_similarity(X), k)
    likes = np.bincount(cols, minlength=len(show_ids))
    nodes: dict[int, Node] = {}
    wanted = show_ids.tolist()
    for start in range(0, len(wanted), 5000):  # bound-parameter limits of SQLite/PostgreSQL
        chunk = wanted[start : start + 5000]
        for show in session.scalars(select(Show).where(Show.id.in_(chunk))):
            col = int(np.searchsorted(show_ids, show.id))
            nodes[show.id] = Node(
                id=show.id,
                title=show.title,
                start_year=show.start_year,
                end_year=show.end_year,
                genres=tuple(g for g in (show.genres or "").split(",") if g),
                imdb_id=show.imdb_id,
                likes=int(likes[col]),
            )
    neighbours: dict[int, tuple[tuple[int, float], ...]] = {}
    for col, show_id in enumerate(wanted):
        lo, hi = S.indptr[col], S.indptr[col + 1]
        order = np.argsort(-S.data[lo:hi], kind="stable")
        neighbours[show_id] = tuple(
            (int(show_ids[S.indices[lo + i]]), round(float(S.data[lo + i]), 4))
            for i in order.tolist()
        )
    return NeighbourTable(nodes, neighbours, time.monotonic())


class NeighbourCache:
    """Builds the table on first use and again when it is older than ``ttl_seconds``."""

    def __init__(self, ttl_seconds: float = TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._table: NeighbourTable | None = None
        self._lock = threading.Lock()

    def get(self, sessions: sessionmaker[Session]) -> NeighbourTable:
        table = self._table
        if table is not None and time.monotonic() - table.built_at < self._ttl:
            return table
        with self._lock:  # one rebuild at a time; the others wait and reuse it
            table = self._table
            if table is None or time.monotonic() - table.built_at >= self._ttl:
                started = time.perf_counter()
                with sessions() as session:
                    table = build_table(session)
                log.info(
                    "explore: neighbours of %d shows in %.2fs",
                    len(table.nodes),
                    time.perf_counter() - started,
                )
                self._table = table
            return table
