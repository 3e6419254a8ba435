"""The GraphQL request and answer, and the per-show state: pure functions and small files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from nextshow.collect.crawl import crawl_config
from nextshow.collect.graphql import (
    HELPFULNESS,
    NEWEST,
    GraphQLError,
    GraphQLOptions,
    build_request,
    has_errors,
    parse_answer,
)
from nextshow.collect.job import CrawlConfig
from nextshow.collect.state import ShowState, StateError, StateStore
from nextshow.config import Settings

URL = "https://caching.graphql.imdb.com/"


def test_own_query_document_is_posted():
    method, url, body = build_request(GraphQLOptions(URL, page_size=50), "tt1", "CUR", NEWEST)
    assert (method, url) == ("POST", URL) and body is not None
    sent = json.loads(body)
    assert sent["operationName"] == "TitleReviewsRefine"
    assert sent["query"].startswith("query TitleReviewsRefine(")
    assert "reviews(first: $first, after: $after, filter: $filter, sort: $sort)" in sent["query"]
    for name in ("id", "authorRating", "submissionDate", "userId", "endCursor", "hasNextPage"):
        assert name in sent["query"]
    assert sent["variables"] == {
        "const": "tt1",
        "first": 50,
        "after": "CUR",
        "filter": {},
        "sort": {"by": "SUBMISSION_DATE", "order": "DESC"},
    }  # no locale: the document does not declare it


def test_persisted_query_is_a_get_with_the_hash():
    options = GraphQLOptions(URL, persisted=True, query_hash="abc123")
    method, url, body = build_request(options, "tt1", None, HELPFULNESS)
    assert method == "GET" and body is None
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["operationName"] == "TitleReviewsRefine"
    assert json.loads(params["extensions"]) == {
        "persistedQuery": {"version": 1, "sha256Hash": "abc123"}
    }
    assert json.loads(params["variables"]) == {
        "const": "tt1",
        "first": 25,
        "after": None,
        "filter": {},
        "sort": {"by": "HELPFULNESS_SCORE", "order": "DESC"},
        "locale": "en-US",
    }


def test_options_are_checked():
    with pytest.raises(ValueError, match="1–50"):
        GraphQLOptions(URL, page_size=51)
    with pytest.raises(ValueError, match="QUERY_HASH"):
        GraphQLOptions(URL, persisted=True)


def test_answers_with_errors_are_failures_with_imdbs_message():
    with pytest.raises(GraphQLError) as caught:
        parse_answer(b'{"errors": [{"message": "PersistedQueryNotFound"}]}', "tt1")
    assert caught.value.persisted_query_not_found and "PersistedQueryNotFound" in str(caught.value)
    coded = b'{"errors": [{"message": "gone", "extensions": {"code": "PersistedQueryNotFound"}}]}'
    with pytest.raises(GraphQLError) as by_code:
        parse_answer(coded, "tt1")
    assert by_code.value.persisted_query_not_found
    # errors next to data: still a failure (IMDb answers such bodies with HTTP 200)
    partial = {"data": {"title": None}, "errors": [{"message": "Title not found"}]}
    with pytest.raises(GraphQLError, match="Title not found") as other:
        parse_answer(json.dumps(partial).encode(), "tt1")
    assert not other.value.persisted_query_not_found
    with pytest.raises(GraphQLError, match="not a GraphQL answer"):
        parse_answer(b"<html>challenge</html>", "tt1")
    with pytest.raises(GraphQLError, match=r"no data\.title\.reviews"):
        parse_answer(b'{"data": {"title": {}}}', "tt1")
    assert has_errors(json.dumps(partial).encode()) and has_errors(b"<html>")
    assert not has_errors(b'{"data": {}}')


def test_answer_is_read_like_the_page():
    answer = {
        "data": {
            "title": {
                "reviews": {
                    "total": 1,
                    "pageInfo": {"endCursor": None, "hasNextPage": False},
                    "edges": [
                        {
                            "node": {
                                "id": "rw9",
                                "author": {"userId": "ur9"},
                                "authorRating": 4,
                                "submissionDate": "2025-12-31",
                                "spoiler": True,
                            }
                        }
                    ],
                }
            }
        }
    }
    page = parse_answer(json.dumps(answer).encode(), "tt1")
    assert [(r.review_id, r.user_id, r.rating, r.review_date) for r in page.ratings] == [
        ("rw9", "ur9", 4, date(2025, 12, 31))
    ]
    assert page.source == "graphql" and not page.has_next and page.end_cursor is None


def test_state_round_trip_is_idempotent(tmp_path: Path):
    store = StateStore(tmp_path / "shows")
    assert store.load("tt1") == ShowState("tt1")  # never crawled
    state = ShowState("tt1")
    state.add("rw2", date(2024, 1, 2))
    state.add("rw1", date(2023, 5, 5))
    state.add(None, None)
    state.complete = True
    store.save(state)
    first = store.path("tt1").read_bytes()
    store.save(store.load("tt1"))
    assert store.path("tt1").read_bytes() == first
    assert store.load("tt1") == ShowState("tt1", date(2024, 1, 2), {"rw1", "rw2"}, True)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("{not json", "not a readable state file"),
        ('{"imdb_id": "tt2"}', "field imdb_id"),
        ('{"imdb_id": "tt1", "seen": [1]}', "field seen"),
        ('{"imdb_id": "tt1", "newest": "soon"}', "field newest"),
    ],
)
def test_bad_state_files_name_file_and_field(tmp_path: Path, text: str, field: str):
    store = StateStore(tmp_path)
    store.path("tt1").write_text(text)
    with pytest.raises(StateError, match=field) as caught:
        store.load("tt1")
    assert str(store.path("tt1")) in str(caught.value)


def test_crawl_config_takes_the_graphql_settings(tmp_path: Path):
    settings = Settings(
        home=tmp_path,
        imdb_graphql_url="http://127.0.0.1:9/graphql",
        imdb_reviews_page_size=50,
        imdb_graphql_persisted=True,
        imdb_reviews_query_hash="abc",
        collect_challenge_limit=2,
    )
    config = crawl_config(settings, ["tt0000001"], progress=True)
    options = config.graphql()
    assert (options.url, options.page_size, options.persisted, options.query_hash) == (
        "http://127.0.0.1:9/graphql",
        50,
        True,
        "abc",
    )
    assert config.challenge_limit == 2 and config.progress
    assert CrawlConfig.from_json(config.to_json()) == config  # what the crawl process reads
    with pytest.raises(ValueError, match="QUERY_HASH"):
        crawl_config(Settings(home=tmp_path, imdb_graphql_persisted=True), ["tt0000001"])
