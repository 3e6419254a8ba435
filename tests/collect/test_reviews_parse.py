"""The review-page parsers: pure functions of HTML text, on fixture pages of both markups."""

from __future__ import annotations

from datetime import date

import pytest

from nextshow.collect.reviews import (
    CURRENT,
    LEGACY,
    UNKNOWN,
    ReviewRating,
    parse_review_date,
    parse_review_page,
)
from nextshow.collect.spider import CrawlConfig, retry_wait, scrapy_settings

from .conftest import FIXTURES

BASE = "http://127.0.0.1:8/title/{}/reviews/"


def _page(name: str, imdb_id: str):
    return parse_review_page((FIXTURES / name).read_text(), imdb_id, BASE.format(imdb_id))


def test_legacy_first_page():
    page = _page("legacy_tt0000001_p1.html", "tt0000001")
    assert page.markup == LEGACY
    assert page.ratings == [
        ReviewRating("ur0000001", "tt0000001", 9, date(2020, 3, 12)),
        ReviewRating("ur0000002", "tt0000001", 4, date(2019, 1, 1)),
    ]
    assert (page.no_rating, page.deleted_user, page.malformed, page.reviews) == (1, 1, 0, 4)
    assert page.next_url == ("http://127.0.0.1:8/title/tt0000001/reviews/_ajax?paginationKey=KEY2")


def test_legacy_ajax_fragments_chain_and_end():
    second = _page("legacy_tt0000001_KEY2.html", "tt0000001")
    assert [r.rating for r in second.ratings] == [10, 6]
    assert second.next_url is not None and second.next_url.endswith("paginationKey=KEY3")
    last = _page("legacy_tt0000001_KEY3.html", "tt0000001")
    assert [r.user_id for r in last.ratings] == ["ur0000006"]
    assert last.next_url is None  # a load-more element without a key ends the show


def test_current_markup_with_next_link():
    page = _page("current_tt0000002_p1.html", "tt0000002")
    assert page.markup == CURRENT
    assert page.ratings == [
        ReviewRating("ur0000001", "tt0000002", 7, date(2024, 1, 5)),
        ReviewRating("ur0000007", "tt0000002", 2, date(2024, 2, 29)),
    ]
    assert page.no_rating == 1 and page.reviews == 3  # article + testid card counted once
    assert page.next_url == "http://127.0.0.1:8/title/tt0000002/reviews/?paginationKey=C2"

    last = _page("current_tt0000002_C2.html", "tt0000002")
    assert last.ratings == [ReviewRating("ur0000009", "tt0000002", 5, date(2023, 12, 31))]
    assert last.deleted_user == 1 and last.next_url is None


def test_malformed_html_is_counted_not_guessed():
    page = _page("malformed_tt0000004.html", "tt0000004")
    # "eleven" is no rating (malformed); the nested, truncated last review has no user link;
    # the middle one keeps its own rating, not the nested review's, and has no readable date.
    assert page.ratings == [ReviewRating("ur0000011", "tt0000004", 3, None)]
    assert (page.malformed, page.deleted_user, page.undated) == (1, 1, 1)


@pytest.mark.parametrize("html", ["", "<html><body>No reviews yet</body></html>", "<<<>>"])
def test_pages_in_no_known_markup(html: str):
    page = parse_review_page(html, "tt0000009", BASE.format("tt0000009"))
    assert page.markup == UNKNOWN and page.ratings == [] and page.next_url is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 March 2020", date(2020, 3, 12)),
        ("Jan 5, 2024", date(2024, 1, 5)),
        ("  September 30,  2021 ", date(2021, 9, 30)),
        ("2024-02-29", date(2024, 2, 29)),
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
    assert {429, 503} <= set(settings["RETRY_HTTP_CODES"])
    assert settings["JOBDIR"] == "/tmp/job/state"
