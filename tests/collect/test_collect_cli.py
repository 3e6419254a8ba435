"""`nextshow collect` end to end against the local fixture server, into a real store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from nextshow.catalog.store import ShowSpec, get_or_create_shows
from nextshow.cli import cli
from nextshow.db.models import Rating, Show, User
from nextshow.db.session import transaction

from ..conftest import Store, run_cli
from .conftest import EXPECTED, FixtureServer

FIRST_PAGE = "/title/tt0000001/reviews/"
C2 = "/title/tt0000002/reviews/?paginationKey=C2"


def _env(store: Store) -> dict[str, str]:
    # Tiny delays and back-off keep the tests fast; the politeness machinery stays the same.
    return {
        **store.env(),
        "NEXTSHOW_COLLECT_DOWNLOAD_DELAY": "0.05",
        "NEXTSHOW_COLLECT_RETRY_BACKOFF": "0.1",
        "NEXTSHOW_COLLECT_MAX_RETRY_AFTER": "5",
        "NEXTSHOW_COLLECT_TIMEOUT": "10",
    }


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


def test_reviews_into_the_store(store: Store, fixture_server: FixtureServer, tmp_path: Path):
    """Both markups, pagination, skips, 429 (Retry-After) and 503 retried; politeness off."""
    fixture_server.fail_first[FIRST_PAGE] = (429, {"Retry-After": "1"})
    fixture_server.fail_first[C2] = (503, {})
    result = run_cli(
        "collect",
        "reviews",
        "--ids",
        "tt0000001,tt0000002,tt0000004",
        "--base-url",
        fixture_server.base_url,
        "--job-dir",
        str(tmp_path / "job"),
        "--no-politeness",
        "--json",
        env=_env(store),
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    crawl = report["crawl"]
    assert crawl["pages"] == 6 and crawl["ratings"] == 9
    assert crawl["skipped_no_rating"] == 2 and crawl["skipped_deleted_user"] == 3
    assert crawl["skipped_malformed"] == 1 and crawl["retries"] == 2
    assert crawl["finish_reason"] == "finished"
    assert report["import"]["inserted"] == 9 and report["import"]["rejected"] == 0
    assert _stored(store) == EXPECTED

    first = fixture_server.requests_to(FIRST_PAGE)
    assert [r.status for r in first] == [429, 200]
    assert first[1].at - first[0].at >= 0.9  # Retry-After: 1 was honoured
    assert [r.status for r in fixture_server.requests_to(C2)] == [503, 200]
    assert "/robots.txt" not in fixture_server.paths()  # politeness off
    assert list((tmp_path / "job").glob("reviews-*.csv"))  # the finished crawl's record


def test_polite_crawl_obeys_robots_and_goes_most_voted_first(
    store: Store, fixture_server: FixtureServer, tmp_path: Path
):
    """Real defaults but tiny delays: robots.txt, one request at a time, cache, page cap."""
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
    args = ["collect", "reviews", "--top", "3", "--max-pages", "2"]
    args += ["--base-url", fixture_server.base_url, "--job-dir", str(job)]
    result = run_cli(*args, env=_env(store), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 forbidden by robots.txt" in result.stdout

    paths = fixture_server.paths()
    assert paths[0] == "/robots.txt"
    assert not any(p.startswith("/title/tt0000003/") for p in paths)  # disallowed: never fetched
    assert not any(p.startswith("/title/tt0000004/") for p in paths)  # not in the top 3
    reviews = [p for p in paths if p.startswith("/title/")]
    # Most votes first, each show's pages before the next show; the page cap stops at KEY2.
    assert reviews == [
        FIRST_PAGE,
        "/title/tt0000001/reviews/_ajax?paginationKey=KEY2",
        "/title/tt0000002/reviews/",
        C2,
    ]
    assert fixture_server.requests_to(FIRST_PAGE)[0].headers["User-Agent"].startswith("nextshow")
    expected = {r for r in EXPECTED if r[1] in {"tt0000001", "tt0000002"}}
    expected -= {("ur0000006", "tt0000001", 8.0, "2017-07-07")}  # on page 3, past the cap
    assert _stored(store) == expected
    assert not (job / "state").exists()  # finished: nothing to resume

    # Run again: robots.txt and every page come from the HTTP cache, nothing new is stored.
    again = run_cli(*args, "--json", env=_env(store), timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads(again.stdout)
    assert report["crawl"]["cache_hits"] == 5 and report["crawl"]["ratings"] == len(expected)
    assert report["import"]["inserted"] == 0 and report["import"]["unchanged"] == len(expected)
    assert len([p for p in fixture_server.paths() if p.startswith("/title/")]) == 4


def test_imdb_datasets_download_import_then_skip(
    store: Store, fixture_server: FixtureServer, tmp_path: Path
):
    args = ["collect", "imdb-datasets", "--base-url", fixture_server.base_url + "/datasets"]
    args += ["--dest", str(tmp_path / "imdb"), "--min-votes", "0", "--json"]
    first = run_cli(*args, env=_env(store), timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    report = json.loads(first.stdout)
    assert [d["status"] for d in report["downloads"]] == ["downloaded", "downloaded"]
    assert report["import"]["inserted"] == 200  # the odd-numbered tvSeries lines
    with store.sessions() as session:
        assert session.query(Show).filter(Show.title_type == "tvSeries").count() == 200

    second = run_cli(*args, env=_env(store), timeout=120)
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
    remote = runner.invoke(
        cli,
        [
            "collect",
            "reviews",
            "--ids",
            "tt0000001",
            "--no-politeness",
            "--base-url",
            "https://www.imdb.com",
        ],
    )
    assert remote.exit_code == 2 and "local server only" in remote.output
