"""IMDb user-review pages -> ratings: pure functions of the page's HTML text, no network.

Two markups are understood:

- **legacy** (IMDb until 2024, still served by the ``/reviews/_ajax`` endpoint): one
  ``div.lister-item`` per review, the rating in ``span.rating-other-user-rating span`` (first
  number), the author in ``span.display-name-link a[href*="/user/ur"]``, the date in
  ``span.review-date`` ("12 March 2020"). The next page is announced by
  ``div.load-more-data[data-key]`` and fetched as ``/title/tt…/reviews/_ajax?paginationKey=KEY``
  (the page behind the "Load More" button, as a plain GET).
- **current** (2024 on): ``article.user-review-item`` or ``[data-testid="review-card-parent"]``
  cards, the rating in ``span.ipc-rating-star--rating``, the author in ``a[href*="/user/ur"]``,
  the date in ``li.review-date`` (or any element of class ``review-date``; "Jan 5, 2024"). The next
  page is a link carrying ``paginationKey=`` (or ``rel="next"``).

A review without a rating, or by a deleted account (no user link), gives no rating and is counted;
so is one whose rating is not an integer 1–10 (``malformed``). A review whose date cannot be read
keeps its rating without a time (``undated``). Pages in neither markup give nothing and say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote, urljoin

from parsel import Selector

_USER_ID = re.compile(r"/user/(ur\d+)")
_NUMBER = re.compile(r"\d+")
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%b %d, %Y", "%B %d, %Y", "%Y-%m-%d", "%b %d %Y")

LEGACY = "legacy"
CURRENT = "current"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReviewRating:
    """One rated review: IMDb user id (``ur…``), show id (``tt…``), rating 1–10, review date."""

    user_id: str
    imdb_id: str
    rating: int
    review_date: date | None


@dataclass
class ReviewPage:
    """What one page holds: the ratings, what was skipped and why, and where the next page is."""

    imdb_id: str
    markup: str
    ratings: list[ReviewRating] = field(default_factory=list)
    no_rating: int = 0
    deleted_user: int = 0
    malformed: int = 0
    undated: int = 0
    next_url: str | None = None

    @property
    def reviews(self) -> int:
        """Reviews seen on the page, rated or not."""
        return len(self.ratings) + self.no_rating + self.deleted_user + self.malformed


def reviews_url(base_url: str, imdb_id: str) -> str:
    """The first review page of a show."""
    return f"{base_url.rstrip('/')}/title/{imdb_id}/reviews/"


def parse_review_date(text: str) -> date | None:
    """'12 March 2020', 'Jan 5, 2024', '2024-01-05' -> date; None when not a date."""
    text = " ".join(text.split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _rating(texts: list[str]) -> int | str | None:
    """The rating from the rating element's texts: an int, None (absent) or 'bad'."""
    joined = " ".join(t.strip() for t in texts if t.strip())
    if not joined:
        return None
    match = _NUMBER.search(joined)
    if match is None:
        return "bad"
    value = int(match.group())
    return value if 1 <= value <= 10 else "bad"


def parse_review_page(html: str, imdb_id: str, page_url: str) -> ReviewPage:
    """Parse one review page (or ``_ajax`` fragment) of show ``imdb_id`` fetched from ``page_url``.

    ``page_url`` resolves relative "next" links. Never raises on odd HTML: lxml repairs what it
    can, and anything it cannot read is counted, not guessed.
    """
    selector = Selector(text=html or "<html></html>")
    legacy = selector.css("div.lister-item")
    if legacy:
        return _parse_legacy(selector, legacy, imdb_id, page_url)
    cards = selector.css('article.user-review-item, [data-testid="review-card-parent"]')
    if cards:
        # A card may be both an article and a testid parent (or nest one in the other): keep the
        # outermost so a review is counted once.
        cards = [c for c in cards if not c.xpath(_ANCESTOR_CARD)]
        return _parse_current(selector, cards, imdb_id, page_url)
    return ReviewPage(imdb_id, UNKNOWN)


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_LISTER = _has_class("lister-item")
_RATING_TEXT = ".//text()[not(ancestor::*[contains(@class, 'point-scale')])]"
_ANCESTOR_CARD = (
    "ancestor::*[self::article[contains(concat(' ', normalize-space(@class), ' '),"
    " ' user-review-item ')] or @data-testid='review-card-parent']"
)


def _add(
    page: ReviewPage, imdb_id: str, rating: int | str | None, href: str | None, when: str
) -> None:
    user = _USER_ID.search(href or "")
    if rating is None:
        page.no_rating += 1
    elif user is None:
        page.deleted_user += 1
    elif rating == "bad":
        page.malformed += 1
    else:
        review_date = parse_review_date(when) if when else None
        page.undated += review_date is None
        page.ratings.append(ReviewRating(user.group(1), imdb_id, int(rating), review_date))


def _parse_legacy(
    selector: Selector, items: list[Selector], imdb_id: str, page_url: str
) -> ReviewPage:
    page = ReviewPage(imdb_id, LEGACY)
    for item in items:
        # In broken HTML (an unclosed div) a later review ends up nested inside an earlier one:
        # look only at elements whose nearest review is this one.
        depth = int(float(item.xpath(f"count(ancestor-or-self::div[{_LISTER}])").get() or 0))

        def own(path: str, item: Selector = item, depth: int = depth) -> list[Selector]:
            return item.xpath(f"{path}[count(ancestor::div[{_LISTER}]) = {depth}]")

        stars = own(f".//span[{_has_class('rating-other-user-rating')}]")[:1]
        rating = _rating([t for star in stars for t in star.xpath(_RATING_TEXT).getall()])
        links = own(f".//span[{_has_class('display-name-link')}]//a[contains(@href, '/user/ur')]")
        href = links[0].attrib.get("href") if links else None
        dates = own(f".//span[{_has_class('review-date')}]")[:1]
        when = " ".join(t for d in dates for t in d.xpath(".//text()").getall()).strip()
        _add(page, imdb_id, rating, href, when)
    more = selector.css("div.load-more-data[data-key]")
    key = (more.attrib.get("data-key") or "").strip() if more else ""
    if key:
        ajax = more.attrib.get("data-ajaxurl") or f"/title/{imdb_id}/reviews/_ajax"
        page.next_url = urljoin(page_url, f"{ajax}?paginationKey={quote(key, safe='')}")
    return page


def _parse_current(
    selector: Selector, cards: list[Selector], imdb_id: str, page_url: str
) -> ReviewPage:
    page = ReviewPage(imdb_id, CURRENT)
    for card in cards:
        rating = _rating(card.css("span.ipc-rating-star--rating")[:1].css("::text").getall())
        href = card.css('a[href*="/user/ur"]::attr(href)').get()
        when = " ".join(card.css(".review-date ::text").getall()).strip()
        _add(page, imdb_id, rating, href, when)
    link = selector.css('a[rel="next"]::attr(href), link[rel="next"]::attr(href)').get()
    if not link:
        link = selector.css('a[href*="paginationKey="]::attr(href)').get()
    if link:
        page.next_url = urljoin(page_url, link.strip())
    return page
