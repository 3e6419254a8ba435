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

from nextshow.db.models import Rating
from nextshow.recommenders.similarity import cosine_similarity, top_k_per_row
from nextshow.recommenders.vocabulary import ShowVocabulary
from nextshow.schemas.shows import ShowPublic
from nextshow.service.holder import show_details

log = logging.getLogger(__name__)

NEIGHBOURS = 8
# Likes change slowly compared with page views: rebuild the table at most this often.
TTL_SECONDS = 300.0


@dataclass(frozen=True)
class NeighbourTable:
    """Top-``k`` cosine neighbours of every show with likes, most liked show first."""

    nodes: dict[int, ShowPublic]
    likes: dict[int, int]
    neighbours: dict[int, tuple[tuple[int, float], ...]]
    built_at: float

    @property
    def most_liked(self) -> int | None:
        return max(self.nodes, key=lambda s: (self.likes[s], -s)) if self.nodes else None


def build_table(session: Session, k: int = NEIGHBOURS) -> NeighbourTable:
    """Read every like and compute each liked show's ``k`` nearest neighbours by cosine."""
    pairs = session.execute(select(Rating.user_id, Rating.show_id).where(Rating.liked)).all()
    if not pairs:
        return NeighbourTable({}, {}, {}, time.monotonic())
    users = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    user_ids, rows = np.unique(users, return_inverse=True)
    # Columns are the liked shows, named by the same vocabulary type the models carry.
    vocabulary, cols = ShowVocabulary.from_unique(p[1] for p in pairs)
    X = sp.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(user_ids), len(vocabulary)))
    S = top_k_per_row(cosine_similarity(X), k)
    likes = np.bincount(cols, minlength=len(vocabulary))
    wanted = vocabulary.show_ids.tolist()
    nodes = show_details(session, wanted)
    liked = {show_id: int(likes[col]) for col, show_id in enumerate(wanted) if show_id in nodes}
    neighbours: dict[int, tuple[tuple[int, float], ...]] = {}
    for col, show_id in enumerate(wanted):
        lo, hi = S.indptr[col], S.indptr[col + 1]
        order = np.argsort(-S.data[lo:hi], kind="stable")
        neighbours[show_id] = tuple(
            zip(
                vocabulary.ids_of(S.indices[lo + order]),
                (round(float(v), 4) for v in S.data[lo + order]),
                strict=True,
            )
        )
    return NeighbourTable(nodes, liked, neighbours, time.monotonic())


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
