"""Comma-separated rating files with a header row (the format for users' own exports)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from nextshow.ids import RULE as IMDB_ID_RULE
from nextshow.ids import is_imdb_id
from nextshow.ratings.records import (
    DIGITS,
    MAX_GENRES,
    MAX_TITLE,
    MAX_USER_KEY,
    ParsedRating,
    ShowRef,
    decode_line,
    parse_rating,
    parse_timestamp,
    parse_year,
    split_title,
)
from nextshow.rejects import Reject, control_character_reject
from nextshow.textio import ProgressCallback, iter_lines

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}
_SHOW_COLUMNS = ("show", "show_id", "imdb_id", "title")


def iter_csv_ratings(
    path: Path, *, on_progress: ProgressCallback | None = None
) -> Iterator[ParsedRating | Reject]:
    """Parse a comma-separated rating file with a header row.

    Columns (names case-insensitive, order free):

    - ``user_id`` (required);
    - ``rating`` on 0–10, may be empty when ``liked`` (1/0/true/false/yes/no) is given;
      a non-empty ``liked`` overrides the like threshold;
    - ``timestamp`` (optional): unix seconds or ISO 8601;
    - the show: either ``show`` -- an internal id (digits), an IMDb id (``tt`` + digits) or a title,
      optionally ``Title (Year)`` -- or the explicit ``show_id`` / ``imdb_id`` / ``title`` columns
      (first non-empty one in that order names the show);
    - ``year``, ``genres`` (optional): metadata for shows that have to be created.

    Fields may be quoted, but a quoted field must not span lines (each physical line is a row,
    so that rejects can name their line). A header lacking required columns is one reject on
    line 1 and nothing else is read.
    """
    file = str(path)
    header: list[str] | None = None
    for number, data in iter_lines(path, on_progress=on_progress):
        if isinstance(data, bytes) and not data.strip():
            continue
        text = decode_line(path, number, data)
        if isinstance(text, Reject):
            if header is None:
                yield Reject(file, number, "header", "header row " + text.reason, text.raw)
                return
            yield text
            continue
        try:
            row = next(csv.reader([text], strict=True))
        except csv.Error as exc:
            if header is None:
                yield Reject(file, number, "header", f"unreadable header: {exc}", text)
                return
            yield Reject(file, number, "", f"unreadable CSV row: {exc}", text)
            continue
        if header is None:
            header = [name.strip().lower() for name in row]
            problem = _check_header(header)
            if problem:
                yield Reject(file, number, "header", problem, text)
                return
            continue
        yield _csv_row(file, number, text, header, row)


def _check_header(header: list[str]) -> str | None:
    if len(set(header)) != len(header):
        return "duplicate column names in header"
    if "user_id" not in header:
        return "header has no user_id column"
    if not any(name in header for name in _SHOW_COLUMNS):
        return "header has no show, show_id, imdb_id or title column"
    if "rating" not in header and "liked" not in header:
        return "header has neither a rating nor a liked column"
    return None


def _csv_row(
    file: str, number: int, text: str, header: list[str], row: list[str]
) -> ParsedRating | Reject:
    if len(row) != len(header):
        return Reject(file, number, "", f"expected {len(header)} fields, got {len(row)}", text)
    values = {name: value.strip() for name, value in zip(header, row, strict=True)}
    control = control_character_reject(file, number, list(values.items()), text)
    if control is not None:
        return control

    def bad(name: str, reason: str) -> Reject:
        return Reject(file, number, name, reason, text)

    user = values["user_id"]
    if not user:
        return bad("user_id", "empty user_id")
    if len(user) > MAX_USER_KEY:
        return bad("user_id", f"user_id longer than {MAX_USER_KEY} characters")

    rating: float | None = None
    if values.get("rating"):
        try:
            rating = parse_rating(values["rating"])
        except ValueError as exc:
            return bad("rating", str(exc))
        if not 0.0 <= rating <= 10.0:
            return bad("rating", f"rating {values['rating']} outside 0–10")
    liked: bool | None = None
    liked_text = values.get("liked", "").lower()
    if liked_text in _TRUE:
        liked = True
    elif liked_text in _FALSE:
        liked = False
    elif liked_text:
        return bad("liked", f"liked must be 1/0/true/false, got {values['liked']!r}")
    if rating is None and liked is None:
        return bad("rating", "neither rating nor liked given")

    timestamp: datetime | None = None
    if values.get("timestamp"):
        try:
            timestamp = parse_timestamp(values["timestamp"])
        except ValueError as exc:
            return bad("timestamp", str(exc))

    year: int | None = None
    if values.get("year"):
        try:
            year = parse_year(values["year"])
        except ValueError:
            return bad("year", f"year is not a 4-digit number: {values['year']!r}")
    genres = ",".join(g.strip() for g in re.split(r"[|,]", values.get("genres", "")) if g.strip())
    if len(genres) > MAX_GENRES:
        return bad("genres", f"genres longer than {MAX_GENRES} characters")

    show = _csv_show(values, year, genres or None)
    if isinstance(show, str):
        return bad(*show.split(":", 1))
    if show.title is not None and len(show.title) > MAX_TITLE:
        return bad("title", f"title longer than {MAX_TITLE} characters")
    return ParsedRating(number, user, show, rating, liked, timestamp, text)


def _csv_show(values: dict[str, str], year: int | None, genres: str | None) -> ShowRef | str:
    """The ShowRef of a CSV row, or ``"field:reason"`` when the row names no valid show."""
    show_id = values.get("show_id", "")
    imdb_id = values.get("imdb_id", "")
    title = values.get("title", "")
    generic = values.get("show", "")
    if generic and not (show_id or imdb_id or title):
        if DIGITS.match(generic):
            show_id = generic
        elif is_imdb_id(generic.lower()):
            imdb_id = generic
        else:
            title = generic
        field_name = "show"
    else:
        field_name = "show_id" if show_id else "imdb_id" if imdb_id else "title"
    if title:
        title, title_year = split_title(title)
        year = year or title_year
    if show_id:
        if not DIGITS.match(show_id):
            return f"{field_name}:show_id is not a number: {show_id!r}"
        return ShowRef(show_id=int(show_id), title=title or None, year=year, genres=genres)
    if imdb_id:
        if not is_imdb_id(imdb_id.lower()):
            return f"{field_name}:not an IMDb id ({IMDB_ID_RULE}): {imdb_id!r}"
        return ShowRef(imdb_id=imdb_id.lower(), title=title or None, year=year, genres=genres)
    if title:
        return ShowRef(title=title, year=year, genres=genres)
    return f"{field_name}:no show given"
