"""The ``::`` / tab separated rating files of MovieTweetings and MovieLens, one line at a time.

- ``movietweetings``: ``user::imdb_numeric_id::rating(0-10)::unix_ts``, kept on the 0–10 scale.
- ``movielens``: ``u.data`` (tab separated) or ``ratings.dat`` (``::``), 1–5 stars (0.5 steps
  allowed) doubled to 1–10.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime

from nextshow.ids import format_imdb_id
from nextshow.ratings.items import movielens_key
from nextshow.ratings.records import (
    DIGITS,
    MAX_USER_KEY,
    ItemInfo,
    ParsedRating,
    ShowRef,
    parse_rating,
    parse_timestamp,
    unix_time_reader,
)
from nextshow.rejects import Reject, control_character_reject


def _fields(file: str, number: int, text: str, sep: str, item_name: str) -> list[str] | Reject:
    """The four fields (user, item, rating, time), the item numeric and the user id not too long."""
    parts = [part.strip() for part in text.split(sep)]
    if len(parts) != 4:
        return Reject(file, number, "", f"expected 4 fields, got {len(parts)}", text)
    for name, value in zip(("user_id", "item_id"), parts, strict=False):
        if not value:
            return Reject(file, number, name, f"empty {name}", text)
    if not DIGITS.match(parts[1]):
        return Reject(file, number, "item_id", f"{item_name}: {parts[1]!r}", text)
    if len(parts[0]) > MAX_USER_KEY:
        return Reject(file, number, "user_id", "user id too long", text)
    return control_character_reject(file, number, [("user_id", parts[0])], text) or parts


def _rating_and_time(
    file: str, number: int, text: str, parts: list[str], scale: tuple[float, float, float]
) -> tuple[float, datetime] | Reject:
    """The rating (checked against ``low``–``high``, times ``factor``) and its unix time."""
    value, stamp = parts[2], parts[3]
    low, high, factor = scale
    try:
        rating = parse_rating(value)
    except ValueError as exc:
        return Reject(file, number, "rating", str(exc), text)
    if not low <= rating <= high:  # also false for NaN
        return Reject(file, number, "rating", f"rating {value} outside {low:g}–{high:g}", text)
    if not DIGITS.match(stamp):
        return Reject(file, number, "timestamp", f"not a unix timestamp: {stamp!r}", text)
    try:
        return rating * factor, parse_timestamp(stamp)
    except ValueError as exc:
        return Reject(file, number, "timestamp", str(exc), text)


def _movietweetings_show(item: str, imdb_id: str, items: dict[str, ItemInfo]) -> ShowRef:
    info = items.get(item)
    return ShowRef(
        imdb_id=imdb_id,
        source="movietweetings",
        external_id=item,
        title=info.title if info else None,
        year=info.year if info else None,
        genres=info.genres if info else None,
    )


def _movielens_show(key: str, info: ItemInfo) -> ShowRef:
    return ShowRef(
        source="movielens", external_id=key, title=info.title, year=info.year, genres=info.genres
    )


def movietweetings_line(
    file: str, number: int, text: str, items: dict[str, ItemInfo]
) -> ParsedRating | Reject:
    """One MovieTweetings line; titles come from ``items`` (movies.dat) when it has the id."""
    parts = _fields(file, number, text, "::", "IMDb id is not numeric")
    if isinstance(parts, Reject):
        return parts
    user, item = parts[0], parts[1]
    try:
        imdb_id = format_imdb_id(item)
    except ValueError as exc:
        return Reject(file, number, "item_id", str(exc), text)
    rated = _rating_and_time(file, number, text, parts, (0.0, 10.0, 1.0))
    if isinstance(rated, Reject):
        return rated
    show = _movietweetings_show(item, imdb_id, items)
    return ParsedRating(number, user, show, rated[0], None, rated[1], text)


def movielens_line(
    file: str, number: int, text: str, items: dict[str, ItemInfo]
) -> ParsedRating | Reject:
    """One MovieLens line; its item must be in ``items`` (u.item / movies.dat)."""
    parts = _fields(file, number, text, "::" if "::" in text else "\t", "item id is not a number")
    if isinstance(parts, Reject):
        return parts
    user, item = parts[0], parts[1]
    item = movielens_key(item)
    info = items.get(item)
    if info is None:
        return Reject(file, number, "item_id", f"item {item} not in the items file", text)
    rated = _rating_and_time(file, number, text, parts, (0.5, 5.0, 2.0))
    if isinstance(rated, Reject):
        return rated
    return ParsedRating(number, user, _movielens_show(item, info), rated[0], None, rated[1], text)


# The common shape of a valid line, ASCII digits only: ``user::item::rating::unix_ts`` (or tab
# separated for MovieLens). Lines of this shape skip decoding, splitting and the per-field checks;
# anything else (spaces, a BOM, letters in the user id, a value out of range) takes the full path
# above, which says why it is rejected. The fast path accepts only lines the full path accepts,
# with the same result.
_FAST_FIELDS = rb"([0-9]{1,%d})(%s)([0-9]{1,10})\2([0-9]{1,3}(?:\.[0-9]{1,6})?)\2([0-9]{1,10})"

FastParser = Callable[[int, bytes], ParsedRating | None]


def fast_line_parser(fmt: str, items: dict[str, ItemInfo]) -> FastParser:
    """A parser of well-formed ``movietweetings`` / ``movielens`` lines (bytes); None otherwise.

    Each item's :class:`ShowRef` is built once and shared by its ratings; unix times are checked
    against the window as integers and converted to a datetime once.
    """
    separators = b"::" if fmt == "movietweetings" else b"::|\t"
    fullmatch = re.compile(_FAST_FIELDS % (MAX_USER_KEY, separators)).fullmatch
    low, high, factor = (0.0, 10.0, 1.0) if fmt == "movietweetings" else (0.5, 5.0, 2.0)
    unix_time = unix_time_reader()
    shows: dict[bytes, ShowRef | None] = {}

    def show_of(item: bytes) -> ShowRef | None:
        if item not in shows:
            text = item.decode("ascii")
            show = None
            if fmt == "movietweetings":
                with suppress(ValueError):  # a bad id: the full path words the reject
                    show = _movietweetings_show(text, format_imdb_id(text), items)
            else:
                key = movielens_key(text)
                info = items.get(key)
                show = None if info is None else _movielens_show(key, info)
            shows[item] = show
        return shows[item]

    def parse(number: int, data: bytes) -> ParsedRating | None:
        match = fullmatch(data)
        if match is None:
            return None
        user, _, item, rating_text, stamp_text = match.groups()
        rating = float(rating_text)
        if not low <= rating <= high:
            return None
        stamp = unix_time(int(stamp_text))
        if stamp is None:
            return None
        show = shows.get(item) or show_of(item)
        if show is None:
            return None
        return ParsedRating(
            number, user.decode("ascii"), show, rating * factor, None, stamp, data.decode("ascii")
        )

    return parse
