"""Hostile input at the edges: timestamps, digits, ids, titles; review of user-submitted shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from nextshow.catalog.normalize import normalize_title
from nextshow.catalog.review import (
    ReviewError,
    approve,
    merge,
    pending_shows,
    reject,
    settle_pending,
    unrecommendable_show_ids,
)
from nextshow.db.models import PredictionRequest, Rating, Show, User
from nextshow.ids import is_imdb_id, parse_imdb_id
from nextshow.ratings.records import DIGITS, parse_rating, parse_timestamp


@pytest.mark.parametrize(
    "text",
    ["9999-12-31", "0001-01-01T00:00:00", "5138-11-16T09:46:40Z", "99999999999", "1989-12-31"],
)
def test_timestamps_outside_the_window_are_refused(text):
    """Attack: one CSV row dated 9999-12-31 became every time-decayed model's "now"."""
    with pytest.raises(ValueError, match=r"outside|out of range"):
        parse_timestamp(text)


def test_timestamps_inside_the_window_are_kept():
    assert parse_timestamp("1365029107") == datetime(2013, 4, 3, 22, 45, 7, tzinfo=UTC)
    assert parse_timestamp("1990-01-01").year == 1990
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_timestamp("2026-01-01T23:00:00Z", now=now).day == 1
    with pytest.raises(ValueError, match="outside"):
        parse_timestamp("2026-01-03", now=now)


@pytest.mark.parametrize("text", ["\u0663", "\u0968\u0966", "8\u0665", "1" * 35, "0" * 34 + "7"])
def test_ids_accept_ascii_digits_of_imdb_length_only(text):
    """Attack: Unicode digits and 35-digit zero-padded ids were accepted as ids."""
    assert DIGITS.match(text) is None
    assert not is_imdb_id("tt" + text.rjust(7, "0"))
    assert parse_imdb_id("tt" + text.rjust(7, "0")) is None


@pytest.mark.parametrize("text", ["\u0668", "\u0664.\u0665", "7\n", "nan", "1e1", "-1"])
def test_ratings_accept_ascii_digits_only(text):
    with pytest.raises(ValueError):
        parse_rating(text)


def test_ratings_in_ascii_are_read():
    assert parse_rating("8") == 8.0
    assert parse_rating("4.5") == 4.5


def _show(s, title: str, *, status: str = "active", imdb_id: str | None = None) -> int:
    show = Show(
        title=title,
        normalized_title=normalize_title(title),
        source="user" if status != "active" else "imdb",
        external_id=title,
        user_submitted=status != "active",
        status=status,
        imdb_id=imdb_id,
    )
    s.add(show)
    s.flush()
    return show.id


def _likes(s, show_id: int, users: list[int]) -> None:
    for user in users:
        s.merge(Rating(user_id=user, show_id=show_id, liked=True, rating=None, source="web"))


def test_review_of_pending_shows_and_min_support(store):
    """Pending shows are never recommendable; without an IMDb id a show needs enough likers."""
    with store.sessions() as s, s.begin():
        users = []
        for i in range(6):
            user = User(external_id=f"u{i}", source="web", anonymous=True)
            s.add(user)
            s.flush()
            users.append(user.id)
        imdb = _show(s, "Known Show", imdb_id="tt0903747")
        thin = _show(s, "Thin Show")
        broad = _show(s, "Broad Show")
        fake = _show(s, "Zqxv Blorp Nine", status="pending")
        junk = _show(s, "Junk Title", status="pending")
        twin = _show(s, "Known Show Typo", status="pending")
        _likes(s, imdb, users[:1])
        _likes(s, thin, users[:4])
        _likes(s, broad, users[:5])
        _likes(s, fake, users)
        _likes(s, twin, users[:2])
    with store.sessions() as s:
        assert unrecommendable_show_ids(s, min_support=5) == {thin, fake, junk, twin}
        assert [(show.id, n) for show, n in pending_shows(s)] == [(fake, 6), (junk, 0), (twin, 2)]
    with store.sessions() as s, s.begin():
        approve(s, fake)
        reject(s, junk)
        merge(s, twin, into=imdb)
        with pytest.raises(ReviewError, match="not pending"):
            approve(s, imdb)
    with store.sessions() as s:
        assert unrecommendable_show_ids(s, min_support=5) == {thin, junk}
        assert s.get(Show, twin) is None
        likers = s.scalars(select(Rating.user_id).where(Rating.show_id == imdb)).all()
        assert sorted(likers) == sorted(users[:2])
        assert pending_shows(s) == []


def _asked(s, show_id: int, client: str, n: int = 1) -> None:
    """``n`` answered anonymous requests from ``client`` that liked ``show_id``."""
    for i in range(n):
        user = User(external_id=f"anon:{client}:{show_id}:{i}", source="web", anonymous=True)
        s.add(user)
        s.flush()
        _likes(s, show_id, [user.id])
        s.add(
            PredictionRequest(
                id=f"{user.id:036d}",
                status="done",
                inputs="{}",
                matches="[]",
                n=10,
                user_id=user.id,
                client_key=client,
            )
        )
    s.flush()


def _with_year(s, show_id: int, year: int | None) -> int:
    s.get(Show, show_id).start_year = year
    return show_id


def test_data_settles_pending_shows(store):
    """An IMDb twin adopts a pending show's likes; distinct clients, not requests, approve one."""
    with store.sessions() as s, s.begin():
        imdb = _with_year(s, _show(s, "Breaking Bad", imdb_id="tt0903747"), 2008)
        typed = _with_year(s, _show(s, "Breaking Bad", status="pending"), None)
        lost_a = _with_year(s, _show(s, "Lost", imdb_id="tt0411008"), 2004)
        _with_year(s, _show(s, "Lost ", imdb_id="tt9999991"), 2006)
        lost = _show(s, "Lost", status="pending")  # two IMDb "Lost": left for an operator
        wrong_year = _with_year(s, _show(s, "Breaking  Bad", status="pending"), 1999)
        spammed = _show(s, "Zqxv Blorp Nine", status="pending")
        popular = _show(s, "Local Cult Show", status="pending")
        _asked(s, typed, "a", 2)
        _asked(s, spammed, "attacker", 100)
        for client in ("a", "b", "c"):
            _asked(s, popular, client)
    with store.sessions() as s, s.begin():
        settled = settle_pending(s, min_clients=3)
    assert settled.merged == [(typed, imdb)] and settled.approved == [popular]
    with store.sessions() as s:
        assert s.get(Show, typed) is None
        assert len(s.scalars(select(Rating).where(Rating.show_id == imdb)).all()) == 2
        statuses = {i: s.get(Show, i).status for i in (lost, wrong_year, spammed, popular, lost_a)}
        assert statuses == {
            lost: "pending",
            wrong_year: "pending",
            spammed: "pending",
            popular: "active",
            lost_a: "active",
        }
    with store.sessions() as s, s.begin():
        assert settle_pending(s, min_clients=0).approved == []


def test_serving_never_offers_blocked_shows():
    """The made-up title the attack liked most is neither recommended nor a fallback answer."""
    import numpy as np
    import scipy.sparse as sp

    from nextshow.recommenders.kinds import create
    from nextshow.recommenders.vocabulary import ShowVocabulary
    from nextshow.service.holder import Scored, ServingModel

    likes = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 0, 1], [1, 0, 1, 1], [1, 1, 1, 1]], float))
    vocabulary = ShowVocabulary.from_unique([10, 11, 12, 13])[0]
    model = create("itemknn", k=10).fit(likes, vocabulary=vocabulary)
    popular = tuple(Scored(i, 1.0) for i in (11, 12, 13))

    def serving(blocked: frozenset[int], recommender=model) -> ServingModel:
        return ServingModel(1, "itemknn", recommender, vocabulary, popular, {}, blocked=blocked)

    assert 11 in [r.show_id for r in serving(frozenset()).recommend([10], 3)[0]]
    recs, fallback = serving(frozenset({11})).recommend([10], 3)
    assert not fallback and 11 not in [r.show_id for r in recs]
    recs, fallback = serving(frozenset({11})).recommend([99], 3)  # unknown like: popularity
    assert fallback and [r.show_id for r in recs] == [12, 13]
