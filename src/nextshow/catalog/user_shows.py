"""Shows users type that the catalogue lacks: created once, pending until confirmed."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from nextshow.catalog.normalize import normalize_title
from nextshow.catalog.title_index import TitleIndex
from nextshow.catalog.titles import (
    USER_SOURCE,
    Hit,
    MatchResult,
    MatchStatus,
    ShowRow,
    clean_title_text,
    user_external_id,
)
from nextshow.db import limits
from nextshow.db.models import Show, utcnow
from nextshow.db.upsert import conflict_insert
from nextshow.ids import parse_imdb_id

log = logging.getLogger(__name__)


def _user_show(session: Session, external_id: str) -> Show | None:
    return session.scalars(
        select(Show).where(Show.source == USER_SOURCE, Show.external_id == external_id)
    ).one_or_none()


def catalogue_twin(session: Session, normalized: str, year: int | None) -> Show | None:
    """A show already in the catalogue under the same normalised title (and year, when given).

    "Breaking Bad (?)" typed on the web and "Breaking Bad (2008)" from an import are one show.
    Active shows win over pending ones, and the lowest id over later ones, so the answer is stable.
    """
    query = select(Show).where(Show.normalized_title == normalized, Show.status != "rejected")
    if year is not None:
        query = query.where((Show.start_year == year) | Show.start_year.is_(None))
    query = query.order_by((Show.status != "active"), Show.id).limit(1)
    return session.scalars(query).first()


def get_or_create_user_show(
    session: Session, *, title: str, year: int | None = None
) -> tuple[Show, bool]:
    """The user-submitted show for ``title`` (and ``year``), created if missing: (show, created).

    Safe against concurrent callers: the row is written with ``INSERT ... ON CONFLICT (source,
    external_id) DO NOTHING`` and then read back, so whichever transaction inserts first wins
    and the others get its row. (A savepoint would also do on PostgreSQL, but pysqlite's
    transaction handling lets ``RELEASE SAVEPOINT`` commit the outer transaction on SQLite.)
    Writes but does not commit: the caller owns the transaction.
    """
    title = clean_title_text(title)
    normalized = normalize_title(title)
    if not normalized:
        raise ValueError(f"title {title!r} has no letters or digits")
    if len(normalized) > limits.TITLE:  # shows.normalized_title is VARCHAR(512)
        raise ValueError("title is too long once '&' is spelled out; shorten it")
    external_id = user_external_id(normalized, year)
    show = _user_show(session, external_id) or catalogue_twin(session, normalized, year)
    if show is not None:
        return show, False

    now = utcnow()
    statement = (
        conflict_insert(session, Show.__table__)
        .values(
            title=title,
            normalized_title=normalized,
            start_year=year,
            source=USER_SOURCE,
            external_id=external_id,
            user_submitted=True,
            status="pending",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(Show.id)
    )
    new_id = session.execute(statement).scalar_one_or_none()
    show = _user_show(session, external_id)
    if show is None:  # cannot happen unless the row was deleted in between
        raise LookupError(f"user show {external_id!r} vanished right after its insert")
    if new_id is None:
        log.info("user show %r was created concurrently; reusing id %s", external_id, show.id)
        return show, False
    log.info("created user-submitted show %s %r", show.id, external_id)
    return show, True


def would_create(result: MatchResult, *, create_when_fuzzy: bool = False) -> bool:
    """Whether :func:`resolve_or_create` makes a user-submitted show for this match: unknown
    titles (and, on the second round, fuzzy ones); never for an IMDb id or a known title."""
    creatable = {"not_found", "fuzzy"} if create_when_fuzzy else {"not_found"}
    return result.status in creatable and parse_imdb_id(result.query) is None


def resolve_or_create(
    session: Session, index: TitleIndex, text: str, *, create_when_fuzzy: bool = False
) -> MatchResult:
    """Match ``text``; when nothing matches, create a user-submitted show for it.

    The new show has ``source="user"``, ``user_submitted=True``, ``status="pending"`` and
    ``external_id`` = normalised title (plus ``" (year)"`` when given), so the same unknown title
    typed twice, by two requests at once or by two processes, ends as one row (see
    :func:`get_or_create_user_show`); a title the catalogue already holds under the same
    normalised title and year is that show.

    A pending show never joins the shared ``index``: one visitor's typing must not reach anyone
    else's autocomplete. Typing it again finds the row by its external id, so its likes are kept;
    it joins the index when approved (see :mod:`nextshow.catalog.review`). The caller owns the
    transaction and must commit it. Returns ``created`` with ``show_id``
    for a new show, ``matched`` for one that existed; other statuses as
    :meth:`TitleIndex.match`. An IMDb id that is not in the catalogue stays ``not_found``: no
    show can be made from an id alone.

    ``create_when_fuzzy=True`` is for the second round, after the user was shown the fuzzy
    candidates and said none of them is the show: then a ``fuzzy`` result creates too. Exact
    titles (``matched`` / ``ambiguous``) never create: the show exists.
    """
    result = index.match(text)
    if not would_create(result, create_when_fuzzy=create_when_fuzzy):
        return result
    show, created = get_or_create_user_show(session, title=result.title, year=result.year)
    row = ShowRow.from_show(show)
    hit = Hit.of(row, 100.0, "created" if created else "exact")
    status: MatchStatus = "created" if created else "matched"
    return MatchResult(
        status, result.query, result.title, result.year, result.normalized, [hit], row.id
    )
