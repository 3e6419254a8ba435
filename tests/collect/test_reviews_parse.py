"""The review parsers: pure functions of a page's HTML or a GraphQL answer, on fixture pages."""

from __future__ import annotations

import re
from datetime import date

import pytest

from nextshow.collect.job import CrawlConfig
from nextshow.collect.middlewares import retry_wait
from nextshow.collect.reviews import (
    CARDS,
    DELETED_USER,
    JSON,
    MALFORMED,
    NO_RATING,
    UNKNOWN,
    Review,
    parse_connection,
    parse_review_date,
    parse_review_page,
)
from nextshow.collect.spider import scrapy_settings

from .conftest import FIXTURES, HELPFULNESS, cursor

ONE = (FIXTURES / "reviews_tt0000001.html").read_text()
NEXT_DATA = re.compile(r'<script id="__NEXT_DATA__".*?</script>', re.S)

# What tt0000001's page holds: a rating, a null rating, a null author, a spoiler (rated).
PAGE_ONE = [
    Review("rw0000011", "tt0000001", "ur0000001", 9, date(2020, 3, 12), None),
    Review("rw0000012", "tt0000001", "ur0000002", None, date(2019, 1, 1), NO_RATING),
    Review("rw0000013", "tt0000001", None, None, date(2022, 2, 3), DELETED_USER),
    Review("rw0000014", "tt0000001", "ur0000004", 10, date(2022, 2, 4), None),
]


def test_page_json_comes_first():
    page = parse_review_page(ONE, "tt0000001")
    assert page.source == JSON
    assert page.reviews == PAGE_ONE
    assert [r.review_id for r in page.ratings] == ["rw0000011", "rw0000014"]
    assert page.total == 10 and page.has_next
    assert page.end_cursor == cursor("tt0000001", HELPFULNESS, 4)


def test_cards_are_the_fallback_and_their_dates_are_one_day_early():
    """Without the JSON the cards give the same reviews; their printed dates are a day early."""
    assert "Mar 11, 2020" in ONE  # the card of the review submitted 2020-03-12
    page = parse_review_page(NEXT_DATA.sub("", ONE), "tt0000001")
    assert page.source == CARDS
    assert page.reviews == PAGE_ONE
    assert page.end_cursor is None and not page.has_next  # cards carry no cursor
    broken = parse_review_page(NEXT_DATA.sub('<script id="__NEXT_DATA__">{"props": [', ONE), "x")
    assert broken.source == CARDS and len(broken.reviews) == 4


def test_cards_only_page():
    page = parse_review_page((FIXTURES / "cards_tt0000002.html").read_text(), "tt0000002")
    assert page.source == CARDS
    assert [(r.review_id, r.user_id, r.rating, r.review_date) for r in page.ratings] == [
        ("rw0000101", "ur0000001", 7, date(2024, 1, 6)),
        ("rw0000102", "ur0000007", 2, date(2024, 3, 1)),
    ]
    assert [r.problem for r in page.reviews] == [None, None, NO_RATING]  # article+testid once


def test_connection_values_are_counted_not_guessed():
    def edge(**node: object) -> dict:
        base = {"id": "rw1", "author": {"userId": "ur1"}, "authorRating": 7}
        return {"node": {**base, "submissionDate": "2024-01-01", **node}}

    page = parse_connection(
        {
            "total": 7,
            "pageInfo": {"endCursor": None, "hasNextPage": True},
            "edges": [
                edge(authorRating=11),
                edge(authorRating=True),
                edge(authorRating="7"),
                edge(author={"userId": "nm0000001"}),
                edge(submissionDate="sometime"),
                edge(id="not-an-id"),
                {"node": None},
            ],
        },
        "tt1",
    )
    assert page is not None
    assert [r.problem for r in page.reviews] == [MALFORMED] * 3 + [DELETED_USER, None, None] + [
        MALFORMED
    ]
    assert page.reviews[4].review_date is None and page.reviews[5].review_id is None
    assert not page.has_next  # hasNextPage without a cursor: nothing to ask for
    assert parse_connection({"edges": "none"}, "tt1") is None
    assert parse_connection(None, "tt1") is None


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body>No reviews yet</body></html>",
        "<<<>>>",
        '<script id="__NEXT_DATA__">{"props": {"pageProps": {}}}</script>',
    ],
)
def test_pages_in_no_known_form(html: str):
    page = parse_review_page(html, "tt0000009")
    assert page.source == UNKNOWN and page.reviews == [] and not page.has_next


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", date(2024, 2, 29)),
        ("Jan 5, 2024", date(2024, 1, 5)),
        ("  September 30,  2021 ", date(2021, 9, 30)),
        ("12 March 2020", date(2020, 3, 12)),
        ("yesterday", None),
    ],
)
def test_parse_review_date(text: str, expected: date | None):
    assert parse_review_date(text) == expected


def test_retry_wait_prefers_retry_after_and_caps_it():
    assert retry_wait("3", 0, 2.0, 60.0) == 3.0
    assert retry_wait("3600", 0, 2.0, 60.0) == 60.0
    assert retry_wait(None, 2, 2.0, 60.0) == 8.0  # 2 * 2**2
    assert retry_wait("Wed, 21 Oct 2015 07:28:00 GMT", 0, 2.0, 60.0) == 0.0  # in the past
    assert retry_wait("soon", 1, 1.0, 60.0) == 2.0


def test_polite_settings_are_the_defaults():
    config = CrawlConfig(["tt0000001"], "https://www.imdb.com", "/tmp/job", "nextshow-test")
    settings = scrapy_settings(config)
    assert settings["ROBOTSTXT_OBEY"] is True
    assert settings["DOWNLOAD_DELAY"] == 2.0 and settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1
    assert settings["HTTPCACHE_ENABLED"] is True and "pickle" not in str(settings).lower()
    retried = set(settings["RETRY_HTTP_CODES"])
    assert {429, 503} <= retried and 202 not in retried
    assert settings["JOBDIR"] == "/tmp/job/state"
    middlewares = settings["DOWNLOADER_MIDDLEWARES"]
    assert middlewares["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None
    # The bot wall sees answers after the cache (900) and before the retries (550).
    assert 550 < middlewares["nextshow.collect.middlewares.BotWallMiddleware"] < 900
    assert config.graphql().page_size == 25 and not config.graphql().persisted
