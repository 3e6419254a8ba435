"""Comma-separated rating files with a header row (the format for users' own exports)."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

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
    unix_time_reader,
)
from nextshow.rejects import Reject, control_character_reject
from nextshow.textio import OverlongLine, ProgressCallback, iter_lines

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}
_SHOW_COLUMNS = ("show", "show_id", "imdb_id", "title")
_T = TypeVar("_T")


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
    reader = CsvReader(path)
    for number, data in iter_lines(path, on_progress=on_progress):
        item = reader.line(number, data)
        if item is not None:
            yield item
        if reader.stopped:
            return


class CsvReader:
    """One CSV file read line by line: the header first (it sets the columns and the fast row
    parser), then data lines. A bad header stops the reading (``stopped``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = str(path)
        self.header: list[str] | None = None
        self.fast: FastRowParser | None = None
        self.stopped = False

    def line(self, number: int, data: bytes | OverlongLine) -> ParsedRating | Reject | None:
        """The line's rating or reject; None for a blank line or the header."""
        if self.fast is not None and isinstance(data, bytes):
            parsed = self.fast(number, data)
            if parsed is not None:
                return parsed
        if isinstance(data, bytes) and not data.strip():
            return None
        text = decode_line(self.path, number, data)
        if isinstance(text, Reject):
            if self.header is None:
                self.stopped = True
                return Reject(self.file, number, "header", "header row " + text.reason, text.raw)
            return text
        if self.header is not None:
            return csv_line(self.file, number, text, self.header)
        try:
            row = next(csv.reader([text], strict=True))
        except csv.Error as exc:
            self.stopped = True
            return Reject(self.file, number, "header", f"unreadable header: {exc}", text)
        header = [name.strip().lower() for name in row]
        problem = _check_header(header)
        if problem:
            self.stopped = True
            return Reject(self.file, number, "header", problem, text)
        self.header = header
        self.fast = fast_row_parser(header)
        return None


def csv_line(file: str, number: int, text: str, header: list[str]) -> ParsedRating | Reject:
    """One data line (decoded) by the full path: every check, and a reject saying what failed."""
    try:
        row = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        return Reject(file, number, "", f"unreadable CSV row: {exc}", text)
    return _csv_row(file, number, text, header, row)


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


class _Invalid(ValueError):
    """A field of a row that is not valid: the full path makes it a reject, the fast path falls
    back to the full path (which then words that reject)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _csv_row(
    file: str, number: int, text: str, header: list[str], row: list[str]
) -> ParsedRating | Reject:
    if len(row) != len(header):
        return Reject(file, number, "", f"expected {len(header)} fields, got {len(row)}", text)
    values = {name: value.strip() for name, value in zip(header, row, strict=True)}
    control = control_character_reject(file, number, list(values.items()), text)
    if control is not None:
        return control
    try:
        user = _user(values["user_id"])
        rating, liked = _score(values.get("rating", ""), values.get("liked", ""))
        timestamp = _timestamp(values.get("timestamp", ""))
        show = _show(values)
    except _Invalid as exc:
        return Reject(file, number, exc.field, exc.reason, text)
    return ParsedRating(number, user, show, rating, liked, timestamp, text)


# The checks of one row, in the order its rejects are reported; shared by both paths.


def _user(user: str) -> str:
    if not user:
        raise _Invalid("user_id", "empty user_id")
    if len(user) > MAX_USER_KEY:
        raise _Invalid("user_id", f"user_id longer than {MAX_USER_KEY} characters")
    return user


def _score(rating_text: str, liked_text: str) -> tuple[float | None, bool | None]:
    """(rating on 0–10 or None, liked or None) of the ``rating`` and ``liked`` values."""
    rating: float | None = None
    if rating_text:
        try:
            rating = parse_rating(rating_text)
        except ValueError as exc:
            raise _Invalid("rating", str(exc)) from None
        if not 0.0 <= rating <= 10.0:
            raise _Invalid("rating", f"rating {rating_text} outside 0–10")
    liked: bool | None = None
    lowered = liked_text.lower()
    if lowered in _TRUE:
        liked = True
    elif lowered in _FALSE:
        liked = False
    elif lowered:
        raise _Invalid("liked", f"liked must be 1/0/true/false, got {liked_text!r}")
    if rating is None and liked is None:
        raise _Invalid("rating", "neither rating nor liked given")
    return rating, liked


def _timestamp(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise _Invalid("timestamp", str(exc)) from None


def _show(values: Mapping[str, str]) -> ShowRef:
    """The show of a row, with its ``year`` and ``genres`` metadata."""
    year: int | None = None
    if values.get("year"):
        try:
            year = parse_year(values["year"])
        except ValueError:
            raise _Invalid("year", f"year is not a 4-digit number: {values['year']!r}") from None
    genres = ",".join(g.strip() for g in re.split(r"[|,]", values.get("genres", "")) if g.strip())
    if len(genres) > MAX_GENRES:
        raise _Invalid("genres", f"genres longer than {MAX_GENRES} characters")
    show = _csv_show(values, year, genres or None)
    if isinstance(show, str):
        raise _Invalid(*show.split(":", 1))
    if show.title is not None and len(show.title) > MAX_TITLE:
        raise _Invalid("title", f"title longer than {MAX_TITLE} characters")
    return show


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


# The common shape of a data line: UTF-8 and printable (so no field holds a control character),
# each field either bare (no quote in it) or quoted whole with no quote inside. Lines of this
# shape skip the csv module and the per-row dict, and what repeats from row to row (the show
# columns, the rating) is checked once per distinct value; anything else takes the full path
# above, which says why a row is rejected. The fast path accepts only rows the full path accepts,
# with the same result.
_FAST_FIELD = r'(?:"([^"]*)"|([^,"]*))'
_SHOW_METADATA = (*_SHOW_COLUMNS, "year", "genres")
# Distinct values remembered before the caches start over: bounds their memory on files where
# nothing repeats, and a show costs a few hundred bytes.
_CACHE_LIMIT = 100_000

FastRowParser = Callable[[int, bytes], ParsedRating | None]


def fast_row_parser(header: list[str]) -> FastRowParser:
    """A parser of data lines of the common shape under ``header`` (bytes); None otherwise.

    Each distinct show is one shared :class:`ShowRef`, unix times are checked against the window
    as integers, and each distinct ``rating`` / ``liked`` pair is parsed once.
    """
    width = len(header)
    quoted = re.compile(",".join([_FAST_FIELD] * width)).fullmatch
    at = {name: index for index, name in enumerate(header)}
    user_at = at["user_id"]
    time_at = at.get("timestamp")
    score_names = [name for name in header if name in ("rating", "liked")]
    score_key = _getter([at[name] for name in score_names])
    scores = _Memo(score_names, lambda v: _score(v.get("rating", ""), v.get("liked", "")))
    show_names = [name for name in header if name in _SHOW_METADATA]
    show_key = _getter([at[name] for name in show_names])
    shows = _Memo(show_names, _show)
    unix_time = unix_time_reader()

    def parse(number: int, data: bytes) -> ParsedRating | None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not text.isprintable():
            return None
        if '"' in text:
            match = quoted(text)
            if match is None:
                return None
            groups = match.groups()
            fields = [
                bare if inner is None else inner
                for inner, bare in zip(groups[::2], groups[1::2], strict=True)
            ]
        else:
            fields = text.split(",")
            if len(fields) != width:
                return None
        try:
            user = _user(fields[user_at].strip())
            rating, liked = scores[score_key(fields)]
            show = shows[show_key(fields)]
            stamp = "" if time_at is None else fields[time_at]
            if stamp.isdigit() and stamp.isascii() and len(stamp) <= 10:
                timestamp = unix_time(int(stamp))
                if timestamp is None:
                    return None
            else:
                timestamp = _timestamp(stamp.strip())
        except _Invalid:
            return None
        return ParsedRating(number, user, show, rating, liked, timestamp, text)

    return parse


def _getter(indices: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """The fields at ``indices``, always as a tuple (itemgetter gives one index's value bare)."""
    if len(indices) == 1:
        index = indices[0]
        return lambda fields: (fields[index],)
    return itemgetter(*indices)


class _Memo(dict[tuple[str, ...], _T]):
    """``compute`` of the (stripped) values of ``names``, once per distinct tuple of raw values;
    equal results are one shared object. A failure (:class:`_Invalid`) is not remembered."""

    def __init__(self, names: list[str], compute: Callable[[dict[str, str]], _T]) -> None:
        super().__init__()
        self._names = names
        self._compute = compute
        self._shared: dict[_T, _T] = {}

    def __missing__(self, key: tuple[str, ...]) -> _T:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
            self._shared.clear()
        value = self._compute({n: raw.strip() for n, raw in zip(self._names, key, strict=True)})
        value = self[key] = self._shared.setdefault(value, value)
        return value
