"""Review of user-submitted shows, and which shows may be recommended at all.

A title typed on the web is data to weigh, not a catalogue entry: it stays ``pending`` (its likes
are kept) until an operator approves it, merges it into the show it really is, or rejects it, or
until :func:`settle_pending` finds it confirmed: an IMDb import brought the same title (its likes
move there), or enough distinct client addresses asked for it (one client cannot approve a show,
however many requests it sends). Shared by the ``nextshow shows`` commands, the admin API routes,
the IMDb title import and every snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import delete, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from nextshow.db.models import PredictionRequest, Rating, Show
from nextshow.db.upsert import insert_ignoring_conflicts

log = logging.getLogger(__name__)


class ReviewError(LookupError):
    """The show to review does not exist or is in the wrong state."""


def _likers() -> Subquery:
    """show_id -> number of distinct users who liked it (shows without likes are absent)."""
    return (
        select(Rating.show_id, func.count(func.distinct(Rating.user_id)).label("likers"))
        .where(Rating.liked)
        .group_by(Rating.show_id)
        .subquery()
    )


def pending_shows(session: Session, *, limit: int = 100) -> list[tuple[Show, int]]:
    """Pending shows, oldest first, each with its number of distinct likers."""
    likers = _likers()
    rows = session.execute(
        select(Show, func.coalesce(likers.c.likers, 0))
        .outerjoin(likers, likers.c.show_id == Show.id)
        .where(Show.status == "pending")
        .order_by(Show.created_at, Show.id)
        .limit(limit)
    ).all()
    return [(show, int(count)) for show, count in rows]


def _get(session: Session, show_id: int, *, pending: bool = True) -> Show:
    show = session.get(Show, show_id)
    if show is None:
        raise ReviewError(f"show {show_id} does not exist")
    if pending and show.status != "pending":
        raise ReviewError(f"show {show_id} is {show.status}, not pending")
    return show


def approve(session: Session, show_id: int) -> Show:
    """Make a pending show active: searchable and recommendable. The caller commits."""
    show = _get(session, show_id)
    show.status = "active"
    log.info("approved show %s %r", show.id, show.title)
    return show


def reject(session: Session, show_id: int) -> Show:
    """Keep a pending show (and its likes) out of search and recommendations for good."""
    show = _get(session, show_id)
    show.status = "rejected"
    log.info("rejected show %s %r", show.id, show.title)
    return show


def merge(session: Session, show_id: int, *, into: int) -> Show:
    """Move a pending show's ratings to the show it really is, then delete it.

    A user who rated both keeps the rating of ``into``. The caller commits. Returns ``into``.
    """
    show = _get(session, show_id)
    target = _get(session, into, pending=False)
    if target.id == show.id:
        raise ReviewError(f"cannot merge show {show_id} into itself")
    moved = select(
        Rating.user_id,
        literal(target.id).label("show_id"),
        Rating.rating,
        Rating.liked,
        Rating.source,
        Rating.rated_at,
        Rating.updated_at,
    ).where(Rating.show_id == show.id)
    rows = [dict(row._mapping) for row in session.execute(moved)]
    if rows:
        insert_ignoring_conflicts(session, Rating.__table__, rows)
    session.execute(delete(Rating).where(Rating.show_id == show.id))
    session.delete(show)
    log.info("merged show %s into %s (%d ratings)", show_id, target.id, len(rows))
    return target


def unrecommendable_show_ids(session: Session, *, min_support: int) -> set[int]:
    """Shows no one may be offered: not active, or without an IMDb id and with fewer than
    ``min_support`` distinct likers (a handful of anonymous requests cannot lift a show)."""
    likers = _likers()
    rows = session.scalars(
        select(Show.id)
        .outerjoin(likers, likers.c.show_id == Show.id)
        .where(
            or_(
                Show.status != "active",
                Show.imdb_id.is_(None) & (func.coalesce(likers.c.likers, 0) < min_support),
            )
        )
    )
    return {int(i) for i in rows}


@dataclass
class Settled:
    """What :func:`settle_pending` did: (pending id, IMDb show id) pairs merged, ids approved."""

    merged: list[tuple[int, int]] = field(default_factory=list)
    approved: list[int] = field(default_factory=list)


def adopt_imdb_twins(session: Session) -> list[tuple[int, int]]:
    """Merge each pending show into the one IMDb show with its normalised title and year.

    A pending show typed without a year matches an IMDb show of any year, but only when exactly
    one such show exists: "Lost" with two IMDb series of that name stays for an operator.
    Returns (pending id, IMDb show id) pairs. The caller commits.
    """
    twin = Show.__table__.alias("twin")
    rows = session.execute(
        select(Show.id, twin.c.id)
        .join(
            twin,
            (twin.c.normalized_title == Show.normalized_title)
            & twin.c.imdb_id.is_not(None)
            & (twin.c.status == "active")
            & (Show.start_year.is_(None) | (twin.c.start_year == Show.start_year)),
        )
        .where(Show.status == "pending")
    ).all()
    targets: dict[int, list[int]] = {}
    for pending_id, target_id in rows:
        targets.setdefault(int(pending_id), []).append(int(target_id))
    merged = []
    for pending_id, candidates in sorted(targets.items()):
        if len(candidates) == 1:
            merge(session, pending_id, into=candidates[0])
            merged.append((pending_id, candidates[0]))
    return merged


def clients_per_pending_show(session: Session) -> dict[int, int]:
    """Pending show id -> distinct client addresses whose answered requests liked it."""
    # The pending ids first: the ratings are then reached through their show index. Joined in
    # one query, SQLite walked every like (1.6 s at 500,000 ratings) to find usually none.
    pending = session.scalars(select(Show.id).where(Show.status == "pending")).all()
    if not pending:
        return {}
    rows = session.execute(
        select(Rating.show_id, func.count(func.distinct(PredictionRequest.client_key)))
        .join(PredictionRequest, PredictionRequest.user_id == Rating.user_id)
        .where(
            Rating.liked,
            Rating.show_id.in_(pending),
            PredictionRequest.client_key.is_not(None),
        )
        .group_by(Rating.show_id)
    ).all()
    return {int(show_id): int(n) for show_id, n in rows}


def settle_pending(session: Session, *, min_clients: int) -> Settled:
    """Confirm what the data confirms: IMDb twins merged, then shows that ``min_clients``
    distinct client addresses asked for approved (``min_clients`` 0: never). The caller commits."""
    settled = Settled(merged=adopt_imdb_twins(session))
    if min_clients > 0:
        for show_id, clients in sorted(clients_per_pending_show(session).items()):
            if clients >= min_clients:
                approve(session, show_id)
                settled.approved.append(show_id)
    if settled.merged or settled.approved:
        log.info(
            "pending shows settled: %d merged into IMDb shows, %d approved by %d+ clients",
            len(settled.merged),
            len(settled.approved),
            min_clients,
        )
    return settled
