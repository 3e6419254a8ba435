"""What the rating parsers produce, and the small checks every format shares.

Pure: no database imports. Column lengths come from :mod:`nextshow.db.limits`, plain constants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nextshow.catalog.normalize import split_title_year
from nextshow.db import limits
from nextshow.rejects import Reject

# The rating file formats, in the order the CLI lists them.
FORMATS = ("movietweetings", "movielens", "csv")
MAX_USER_KEY = limits.USER_EXTERNAL_ID
MAX_TITLE = limits.TITLE
MAX_GENRES = limits.GENRES

DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class ShowRef:
    """How a rating row names its show, plus what the file says about it.

    Exactly one way of identifying the show is used, in this order: ``show_id`` (an internal id
    that must already exist), ``imdb_id``, ``source`` + ``external_id`` (the file's own item id),
    or ``title`` (+ ``year``) matched against the catalogue. ``title``, ``year`` and ``genres``
    (comma-separated, IMDb style) are also the metadata used when the show has to be created.
    """

    show_id: int | None = None
    imdb_id: str | None = None
    source: str | None = None
    external_id: str | None = None
    title: str | None = None
    year: int | None = None
    genres: str | None = None


@dataclass(frozen=True)
class ParsedRating:
    """One valid rating line.

    ``rating`` is on the 0–10 scale (None when the file only says liked or not); ``liked`` is None
    unless the file states it explicitly (then it overrides the like threshold).
    """

    line: int
    user_key: str
    show: ShowRef
    rating: float | None
    liked: bool | None
    timestamp: datetime | None
    raw: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class ItemInfo:
    """A title from an item file (movies.dat / u.item)."""

    title: str
    year: int | None
    genres: str | None


def decode_line(path: Path, number: int, line: bytes) -> str | Reject:
    """The line as UTF-8 text (BOM of line 1 dropped), or a reject naming the bad byte."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Reject(
            str(path),
            number,
            "",
            f"not valid UTF-8 ({exc.reason} at byte {exc.start})",
            line.decode("utf-8", errors="backslashreplace"),
        )
    return text.lstrip("\ufeff") if number == 1 else text


def parse_timestamp(text: str) -> datetime:
    """Unix seconds (``1365029107``) or ISO 8601 (``2013-04-03T22:45:07Z``) -> aware UTC datetime.

    Raises ValueError when it is neither; a naive ISO time is taken as UTC.
    """
    text = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except (OverflowError, OSError) as exc:
            raise ValueError(f"timestamp out of range: {text!r}") from exc
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a unix time or ISO 8601 timestamp: {text!r}") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_year(text: str) -> int:
    """A four-digit year; ValueError otherwise."""
    year = int(text)
    if not 1000 <= year <= 9999:
        raise ValueError(f"year out of range: {text!r}")
    return year


def split_title(text: str) -> tuple[str, int | None]:
    """``"Title (Year)"`` -> (title, year); the whole text when no title is left."""
    title, year = split_title_year(text)
    return (title or text.strip()), year
