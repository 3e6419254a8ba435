"""IMDb user reviews -> ratings: pure functions of a review page or a GraphQL answer, no network.

Where the data is (a reviews page saved in January 2026, public clients updated 2024–2026):

- **The page's JSON**: ``/title/tt…/reviews/`` carries ``<script id="__NEXT_DATA__">``; the reviews
  are at ``props.pageProps.contentData.data.title.reviews``: ``total``, ``pageInfo`` (``endCursor``,
  ``hasNextPage``) and ``edges[].node`` with ``id`` (``rw…``), ``author.userId`` (``ur…``; the
  author may be null), ``authorRating`` (1–10 or null), ``submissionDate`` (``YYYY-MM-DD``) and
  ``spoiler``. GraphQL's ``TitleReviewsRefine`` answers ``data.title.reviews`` in the same shape,
  so :func:`parse_connection` reads both.
- **The rendered cards**, a fallback only: ``article.user-review-item`` (or
  ``[data-testid="review-card-parent"]``), the rating in ``span.ipc-rating-star--rating``, the
  author in ``a[href*="/user/ur"]``, the review id in ``a[href*="/review/rw"]``, the date in
  ``li.review-date``. The cards print the date one day before ``submissionDate`` (rendered in
  IMDb's own time zone), so a card date is moved one day on. Cards carry no cursor.

A review without a rating, or without an author, gives no rating and is counted; so is one whose
rating is not an integer 1–10 (``malformed``). A review whose date cannot be read keeps its rating
without a date (``undated``). A page with neither JSON nor cards gives nothing and says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from parsel import Selector

_USER_ID = re.compile(r"^ur\d+$")
_USER_LINK = re.compile(r"/user/(ur\d+)")
_REVIEW_ID = re.compile(r"^rw\d+$")
_REVIEW_LINK = re.compile(r"/review/(rw\d+)")
_NUMBER = re.compile(r"\d+")
_DATE_FORMATS = ("%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%d %b %Y", "%b %d %Y")
# Where the page's Next.js data keeps the reviews connection.
NEXT_DATA_PATH = ("props", "pageProps", "contentData", "data", "title", "reviews")

JSON = "json"
CARDS = "cards"
UNKNOWN = "unknown"

NO_RATING = "no_rating"
DELETED_USER = "deleted_user"
MALFORMED = "malformed"
PROBLEMS = (NO_RATING, DELETED_USER, MALFORMED)


@dataclass(frozen=True)
class Review:
    """One review: its id (``rw…``, None when the markup has none), author, rating and date.

    ``problem`` is None for a usable rating, else why it gives none (one of :data:`PROBLEMS`).
    """

    review_id: str | None
    imdb_id: str
    user_id: str | None
    rating: int | None
    review_date: date | None
    problem: str | None


@dataclass
class ReviewPage:
    """One page of reviews (page JSON, cards or GraphQL answer) and where the next one starts."""

    imdb_id: str
    source: str
    reviews: list[Review] = field(default_factory=list)
    total: int | None = None
    end_cursor: str | None = None
    has_next: bool = False

    @property
    def ratings(self) -> list[Review]:
        return [review for review in self.reviews if review.problem is None]


def reviews_url(base_url: str, imdb_id: str) -> str:
    """The review page of a show."""
    return f"{base_url.rstrip('/')}/title/{imdb_id}/reviews/"


def parse_review_date(text: str) -> date | None:
    """'2024-01-05', 'Jan 5, 2024', '12 March 2020' -> date; None when not a date."""
    text = " ".join(text.split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _review(review_id: Any, imdb_id: str, user_id: Any, rating: Any, when: date | None) -> Review:
    rid = review_id if isinstance(review_id, str) and _REVIEW_ID.match(review_id) else None
    user = user_id if isinstance(user_id, str) and _USER_ID.match(user_id) else None
    if rating is None:
        return Review(rid, imdb_id, user, None, when, NO_RATING)
    if user is None:
        return Review(rid, imdb_id, None, None, when, DELETED_USER)
    # bool is an int in Python; a rating of True is as malformed as 11.
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 10:
        return Review(rid, imdb_id, user, None, when, MALFORMED)
    return Review(rid, imdb_id, user, rating, when, None)


def parse_connection(connection: Any, imdb_id: str, source: str = JSON) -> ReviewPage | None:
    """A ``reviews`` connection (page JSON or GraphQL ``data.title.reviews``) -> ReviewPage.

    None when ``connection`` is not of that shape (no ``edges`` list). An edge whose node is not
    an object counts as a malformed review; the next page exists only with a cursor to reach it.
    """
    if not isinstance(connection, dict) or not isinstance(connection.get("edges"), list):
        return None
    page = ReviewPage(imdb_id, source)
    for edge in connection["edges"]:
        node = edge.get("node") if isinstance(edge, dict) else None
        if not isinstance(node, dict):
            page.reviews.append(Review(None, imdb_id, None, None, None, MALFORMED))
            continue
        author = node.get("author")
        user = author.get("userId") if isinstance(author, dict) else None
        submitted = node.get("submissionDate")
        when = parse_review_date(submitted) if isinstance(submitted, str) else None
        page.reviews.append(_review(node.get("id"), imdb_id, user, node.get("authorRating"), when))
    total = connection.get("total")
    page.total = total if isinstance(total, int) and not isinstance(total, bool) else None
    info = connection.get("pageInfo")
    info = info if isinstance(info, dict) else {}
    cursor = info.get("endCursor")
    page.end_cursor = cursor if isinstance(cursor, str) and cursor else None
    page.has_next = info.get("hasNextPage") is True and page.end_cursor is not None
    return page


def next_data_reviews(selector: Selector) -> Any:
    """The reviews connection inside the page's ``__NEXT_DATA__``; None when absent or broken."""
    text = selector.css("script#__NEXT_DATA__::text").get()
    if not text:
        return None
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    for key in NEXT_DATA_PATH:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def parse_review_page(html: str, imdb_id: str) -> ReviewPage:
    """Parse one review page of show ``imdb_id``: its ``__NEXT_DATA__`` first, else its cards.

    Never raises on odd HTML or JSON: lxml repairs what it can, and anything unreadable is
    counted, not guessed.
    """
    selector = Selector(text=html or "<html></html>")
    page = parse_connection(next_data_reviews(selector), imdb_id)
    if page is not None:
        return page
    cards = selector.css('article.user-review-item, [data-testid="review-card-parent"]')
    if cards:
        # A card may be both an article and a testid parent (or nest one in the other): keep the
        # outermost so a review is counted once.
        return _parse_cards([c for c in cards if not c.xpath(_ANCESTOR_CARD)], imdb_id)
    return ReviewPage(imdb_id, UNKNOWN)


_ANCESTOR_CARD = (
    "ancestor::*[self::article[contains(concat(' ', normalize-space(@class), ' '),"
    " ' user-review-item ')] or @data-testid='review-card-parent']"
)


def _card_rating(texts: list[str]) -> int | str | None:
    """The rating from the star element's texts: an int, None (absent) or a malformed text."""
    joined = " ".join(t.strip() for t in texts if t.strip())
    if not joined:
        return None
    match = _NUMBER.fullmatch(joined)
    return int(match.group()) if match else joined


def _parse_cards(cards: list[Selector], imdb_id: str) -> ReviewPage:
    page = ReviewPage(imdb_id, CARDS)
    for card in cards:
        rating = _card_rating(card.css("span.ipc-rating-star--rating")[:1].css("::text").getall())
        user = _USER_LINK.search(card.css('a[href*="/user/ur"]::attr(href)').get() or "")
        review = _REVIEW_LINK.search(card.css('a[href*="/review/rw"]::attr(href)').get() or "")
        shown = parse_review_date(" ".join(card.css(".review-date ::text").getall()))
        when = shown + timedelta(days=1) if shown else None  # cards print submissionDate - 1 day
        page.reviews.append(
            _review(
                review.group(1) if review else None,
                imdb_id,
                user.group(1) if user else None,
                rating,
                when,
            )
        )
    return page
