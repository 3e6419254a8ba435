"""`nextshow collect` end to end against the local fixture server, into a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from nextshow.catalog.store import ShowSpec, get_or_create_shows
from nextshow.cli import cli
from nextshow.collect.crawl import BOT_WALL_MESSAGE
from nextshow.db.models import Rating, Show, User
from nextshow.db.session import transaction

from ..conftest import Store, run_cli
from .conftest import (
    EXPECTED,
    GRAPHQL,
    HELPFULNESS,
    NEWEST,
    QUERY_HASH,
    FixtureServer,
    cursor,
    node,
)

ONE = "/title/tt0000001/reviews/"
TWO = "/title/tt0000002/reviews/"
EXIT_BOT_WALL = 5


def _env(store: Store, server: FixtureServer, **extra: str) -> dict[str, str]:
    # Tiny delays and back-off keep the tests fast; the politeness machinery stays the same.
    return {
        **store.env(),
        "NEXTSHOW_IMDB_GRAPHQL_URL": server.graphql_url,
        "NEXTSHOW_IMDB_REVIEWS_PAGE_SIZE": "3",
        "NEXTSHOW_COLLECT_DOWNLOAD_DELAY": "0.05",
        "NEXTSHOW_COLLECT_RETRY_BACKOFF": "0.1",
        "NEXTSHOW_COLLECT_MAX_RETRY_AFTER": "5",
        "NEXTSHOW_COLLECT_TIMEOUT": "10",
        **extra,
    }


def _reviews(server: FixtureServer, job: Path, *args: str) -> list[str]:
    return ["collect", "reviews", *args, "--base-url", server.base_url, "--job-dir", str(job)]


def _stored(store: Store) -> set[tuple[str, str, float, str | None]]:
    with store.sessions() as session:
        rows = session.execute(
            select(User.external_id, Show.imdb_id, Rating.rating, Rating.rated_at, User.source)
            .join(User, User.id == Rating.user_id)
            .join(Show, Show.id == Rating.show_id)
        ).all()
    assert {row.source for row in rows} <= {"imdb-reviews"}
    return {
        (user, imdb_id, rating, rated_at.date().isoformat() if rated_at else None)
        for user, imdb_id, rating, rated_at, _ in rows
    }


def _asked(server: FixtureServer) -> list[tuple[str, str | None, str]]:
    """(const, after, sort) of every GraphQL request answered, in order; first is always 3."""
    sent = server.variables()
    assert {v["first"] for v in sent} <= {3}
    return [(v["const"], v["after"], v["sort"]["by"]) for v in sent]


def _cached(job: Path) -> list[str]:
    return [
        json.loads(meta.read_text())["request_url"] for meta in job.glob("httpcache/**/meta.json")
    ]


def test_reviews_into_the_store(store: Store, fixture_server: FixtureServer, tmp_path: Path):
    """Page JSON, cards, GraphQL pages, a 404 page, skips, 429 (Retry-After) and 503 retried."""
    fixture_server.fail_first[GRAPHQL] = (429, {"Retry-After": "1"})
    fixture_server.fail_first[TWO] = (503, {})
    args = _reviews(fixture_server, tmp_path / "job", "--ids", "tt0000001,tt0000002,tt0000004")
    result = run_cli(*args, "--no-politeness", "--json", env=_env(store, fixture_server))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    crawl = report["crawl"]
    # tt0000001: page + 2 GraphQL pages; tt0000002: cards + 2; tt0000004: no page (404) + 1.
    assert crawl["pages"] == 7 and crawl["ratings"] == len(EXPECTED) == 11
    assert crawl["skipped_no_rating"] == 2 and crawl["skipped_deleted_user"] == 2
    assert crawl["skipped_malformed"] == 1 and crawl["undated"] == 1
    assert crawl["duplicates"] == 4  # rw0000014 twice, and the cards' three again via GraphQL
    assert crawl["pages_unavailable"] == 1 and crawl["failures"] == 1
    # The 429 and the 503 are retried; on a loaded machine a slow answer can add a retry.
    assert crawl["retries"] >= 2
    assert crawl["finish_reason"] == "finished" and crawl["shows"] == 3
    assert report["import"]["inserted"] == 11 and report["import"]["rejected"] == 0
    assert _stored(store) == EXPECTED  # every review once, dates from the JSON

    assert fixture_server.graphql_violations == []
    asked = _asked(fixture_server)
    assert [a for a in asked if a[0] == "tt0000001"] == [
        ("tt0000001", cursor("tt0000001", HELPFULNESS, 4), HELPFULNESS),  # the page's endCursor
        ("tt0000001", cursor("tt0000001", HELPFULNESS, 7), HELPFULNESS),  # the previous one's
    ]
    assert [a for a in asked if a[0] == "tt0000002"] == [
        ("tt0000002", None, HELPFULNESS),  # cards carry no cursor: from the first page
        ("tt0000002", cursor("tt0000002", HELPFULNESS, 3), HELPFULNESS),
    ]
    assert [a for a in asked if a[0] == "tt0000004"] == [("tt0000004", None, HELPFULNESS)]
    graphql = fixture_server.requests_to(GRAPHQL)
    assert graphql[0].status == 429 and len(graphql) == 6
    retried = [r for r in graphql[1:] if r.graphql == graphql[0].graphql]
    assert [r.status for r in retried] == [200]
    assert retried[0].at - graphql[0].at >= 0.9  # Retry-After: 1 was honoured
    assert {r.method for r in graphql} == {"POST"}  # nextshow's own query document
    assert [r.status for r in fixture_server.requests_to(TWO)] == [503, 200]
    assert "/robots.txt" not in fixture_server.paths()  # politeness off
    assert list((tmp_path / "job").glob("reviews-*.csv"))  # the finished crawl's record


def test_polite_crawl_obeys_robots_and_goes_most_voted_first(
    store: Store, fixture_server: FixtureServer, tmp_path: Path
):
    """Real defaults but tiny delays: robots.txt, one request at a time, page cap."""
    with transaction(store.sessions) as session:
        get_or_create_shows(
            session,
            [
                ShowSpec("Two", "imdb", "tt0000002", "tt0000002", imdb_votes=100),
                ShowSpec("One", "imdb", "tt0000001", "tt0000001", imdb_votes=300),
                ShowSpec("Three", "imdb", "tt0000003", "tt0000003", imdb_votes=200),
                ShowSpec("Four", "imdb", "tt0000004", "tt0000004", imdb_votes=10),
            ],
        )
    job = tmp_path / "job"
    args = _reviews(fixture_server, job, "--top", "3", "--max-pages", "2")
    result = run_cli(*args, env=_env(store, fixture_server))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 forbidden by robots.txt" in result.stdout

    paths = fixture_server.paths()
    assert paths[0] == "/robots.txt"
    assert not any(p.startswith("/title/tt0000003/") for p in paths)  # disallowed: never fetched
    assert not any(p.startswith("/title/tt0000004/") for p in paths)  # not in the top 3
    # Most votes first, each show's pages before the next show's; the page cap stops at 2.
    assert [p for p in paths if p != "/robots.txt"] == [ONE, GRAPHQL, TWO, GRAPHQL]
    assert [a[0] for a in _asked(fixture_server)] == ["tt0000001", "tt0000002"]  # not tt0000003
    assert fixture_server.requests_to(ONE)[0].headers["User-Agent"].startswith("nextshow")
    assert _stored(store) == {
        ("ur0000001", "tt0000001", 9.0, "2020-03-12"),
        ("ur0000004", "tt0000001", 10.0, "2022-02-04"),
        ("ur0000005", "tt0000001", 6.0, "2018-06-30"),
        ("ur0000006", "tt0000001", 8.0, "2017-07-07"),
        ("ur0000001", "tt0000002", 7.0, "2024-01-06"),
        ("ur0000007", "tt0000002", 2.0, "2024-03-01"),
    }
    assert not (job / "state").exists()  # finished: nothing to resume


def test_second_run_fetches_only_new_reviews(
    store: Store, fixture_server: FixtureServer, tmp_path: Path
):
    """A re-crawl asks for the newest first and stops at reviews already seen."""
    job = tmp_path / "job"
    args = _reviews(fixture_server, job, "--ids", "tt0000001", "--json")
    first = run_cli(*args, env=_env(store, fixture_server, NEXTSHOW_PROGRESS="true"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout)["crawl"]["pages"] == 3
    assert "reviews:" in first.stderr and "ratings=7" in first.stderr  # the progress bar
    state = json.loads((job / "shows" / "tt0000001.json").read_text())
    assert state["complete"] and state["newest"] == "2024-02-29" and len(state["seen"]) == 9

    fixture_server.reviews["tt0000001"][3:3] = [
        node("rw0000020", "ur0000020", 7, "2026-01-10"),
        node("rw0000021", "ur0000021", 4, "2026-01-11", spoiler=True),
    ]
    fixture_server.log.clear()
    second = run_cli(*args, env=_env(store, fixture_server))
    assert second.returncode == 0, second.stdout + second.stderr
    report = json.loads(second.stdout)
    assert report["crawl"]["ratings"] == 2 and report["crawl"]["duplicates"] == 1
    assert report["import"]["inserted"] == 2
    # One GraphQL page, newest first, nothing else: the page and older pages are not fetched.
    assert _asked(fixture_server) == [("tt0000001", None, NEWEST)]
    assert not any(p.startswith("/title/") for p in fixture_server.paths())
    tt1 = {r for r in EXPECTED if r[1] == "tt0000001"}
    new = {("ur0000020", "tt0000001", 7.0, "2026-01-10")}
    new.add(("ur0000021", "tt0000001", 4.0, "2026-01-11"))
    assert _stored(store) == tt1 | new

    fixture_server.log.clear()
    third = run_cli(*args, env=_env(store, fixture_server))  # nothing new: one request, no rating
    assert third.returncode == 0, third.stdout + third.stderr
    assert json.loads(third.stdout)["crawl"]["ratings"] == 0
    assert _asked(fixture_server) == [("tt0000001", None, NEWEST)]  # never from the cache


def test_bot_wall_stops_the_crawl_with_one_sentence(
    store: Store, fixture_server: FixtureServer, tmp_path: Path
):
    fixture_server.challenge = ("/title/",)
    job = tmp_path / "job"
    ids = "tt0000001,tt0000002,tt0000004,tt0000005"
    result = run_cli(*_reviews(fixture_server, job, "--ids", ids), env=_env(store, fixture_server))
    assert result.returncode == EXIT_BOT_WALL, result.stdout + result.stderr
    assert BOT_WALL_MESSAGE in result.stderr
    pages = [p for p in fixture_server.paths() if p != "/robots.txt"]
    # Three challenges in a row stop it: the fourth show is not asked for, and a challenged show
    # is not tried another way (no GraphQL).
    assert pages == [ONE, TWO, "/title/tt0000004/reviews/"]
    assert not any("/title/" in url for url in _cached(job))  # challenges are never cached
    assert _stored(store) == set()
    assert not list((job / "shows").glob("*.json"))  # not parsed as "no reviews"
    assert not (job / "state").exists()


def test_robots_txt_behind_the_bot_wall_is_unavailable(
    store: Store, fixture_server: FixtureServer, tmp_path: Path
):
    """A challenge instead of robots.txt is not allow-all: the host is not crawled."""
    fixture_server.challenge = ("/robots.txt",)
    job = tmp_path / "job"
    args = _reviews(fixture_server, job, "--ids", "tt0000001,tt0000002")
    result = run_cli(*args, env=_env(store, fixture_server))
    assert result.returncode == EXIT_BOT_WALL, result.stdout + result.stderr
    assert BOT_WALL_MESSAGE in result.stderr
    assert set(fixture_server.paths()) == {"/robots.txt"}
    assert _cached(job) == []


@pytest.mark.parametrize("status", [200, 400])
def test_persisted_query_not_found_is_a_clear_failure(
    store: Store, fixture_server: FixtureServer, tmp_path: Path, status: int
):
    fixture_server.pqnf_status = status
    job = tmp_path / "job"
    args = _reviews(fixture_server, job, "--ids", "tt0000001")
    persisted = {"NEXTSHOW_IMDB_GRAPHQL_PERSISTED": "true"}
    stale = _env(store, fixture_server, NEXTSHOW_IMDB_REVIEWS_QUERY_HASH="stale", **persisted)
    result = run_cli(*args, env=stale)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PersistedQueryNotFound" in result.stderr
    assert "NEXTSHOW_IMDB_REVIEWS_QUERY_HASH" in result.stderr
    graphql = fixture_server.requests_to(GRAPHQL)
    assert [(r.method, r.status) for r in graphql] == [("GET", status)]  # then it stopped
    assert _cached(job) and not any("graphql" in url for url in _cached(job))
    page_one = {("ur0000001", "tt0000001", 9.0, "2020-03-12")}
    page_one.add(("ur0000004", "tt0000001", 10.0, "2022-02-04"))
    assert _stored(store) == page_one  # what the page gave is kept

    # A rotated hash is a configuration change: the right one and the crawl goes on.
    current = _env(store, fixture_server, NEXTSHOW_IMDB_REVIEWS_QUERY_HASH=QUERY_HASH, **persisted)
    again = run_cli(*args, "--json", env=current)
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads(again.stdout)["crawl"]
    assert report["cache_hits"] >= 1 and report["duplicates"] == 5  # the page, from the cache
    assert report["ratings"] == 5 and fixture_server.graphql_violations == []
    assert _stored(store) == {r for r in EXPECTED if r[1] == "tt0000001"}


def test_imdb_datasets_download_import_then_skip(
    store: Store, fixture_server: FixtureServer, tmp_path: Path
):
    args = ["collect", "imdb-datasets", "--base-url", fixture_server.base_url + "/datasets"]
    args += ["--dest", str(tmp_path / "imdb"), "--min-votes", "0", "--json"]
    first = run_cli(*args, env=_env(store, fixture_server), timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    report = json.loads(first.stdout)
    assert [d["status"] for d in report["downloads"]] == ["downloaded", "downloaded"]
    assert report["import"]["inserted"] == 200  # the odd-numbered tvSeries lines
    with store.sessions() as session:
        assert session.query(Show).filter(Show.title_type == "tvSeries").count() == 200

    second = run_cli(*args, env=_env(store, fixture_server), timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    again = json.loads(second.stdout)
    assert [d["status"] for d in again["downloads"]] == ["unchanged", "unchanged"]
    assert again["import"]["unchanged"] == 200
    last = fixture_server.requests_to("/datasets/title.ratings.tsv.gz")[-1]
    assert last.status == 304 and last.headers["If-None-Match"] == '"v1"'


def test_reviews_refuses_bad_selections():
    """Usage errors come before any database or network work (in-process: nothing to start)."""
    runner = CliRunner()
    result = runner.invoke(cli, ["collect", "reviews"])
    assert result.exit_code == 2 and "exactly one of --top" in result.output
    bad = runner.invoke(cli, ["collect", "reviews", "--ids", "tt0000001,nm0000001"])
    assert bad.exit_code == 2 and "not IMDb ids: nm0000001" in bad.output
    remote = ["collect", "reviews", "--ids", "tt0000001", "--no-politeness"]
    refused = runner.invoke(cli, [*remote, "--base-url", "https://www.imdb.com"])
    assert refused.exit_code == 2 and "local server only" in refused.output
