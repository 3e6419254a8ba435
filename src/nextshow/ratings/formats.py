"""Rating file parsers: pure functions from a file to parsed ratings and rejects, no database.

The importer writes what these functions yield, and the evaluation code reads rating files with
them directly, so every format is parsed (and validated) in exactly one place.

Common rules, for every format:

- Plain or gzip-compressed files (recognised by their magic bytes, not their name).
- Files are read as bytes and decoded per line (UTF-8), so one undecodable line becomes a reject
  naming its line instead of aborting the whole file. Item files (u.item, movies.dat) fall back
  to Latin-1, the encoding MovieLens ships them in.
- Line numbers are 1-based physical lines. Blank lines are ignored.
- Ratings are put on the 0–10 scale of the store (IMDb's scale): MovieTweetings as is (0–10),
  MovieLens doubled (1–5 stars, 0.5 steps in newer sets, become 1–10).
- Timestamps are timezone-aware UTC datetimes; a CSV timestamp without an offset is read as UTC.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nextshow.catalog.normalize import split_title_year
from nextshow.catalog.store import MAX_GENRES, MAX_TITLE
from nextshow.db.models import User
from nextshow.rejects import Reject
from nextshow.textio import ProgressCallback, iter_lines

log = logging.getLogger(__name__)

FORMATS = ("csv", "movielens", "movietweetings")
MAX_USER_KEY = User.__table__.c.external_id.type.length  # type: ignore[attr-defined]

_IMDB_ID = re.compile(r"^tt\d{7,}$")
_DIGITS = re.compile(r"^\d+$")

# u.item's 19 genre flags, in file order (MovieLens 100k README).
MOVIELENS_100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)


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


def _decode(path: Path, number: int, line: bytes) -> str | Reject:
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


def _parse_year(text: str) -> int:
    year = int(text)
    if not 1000 <= year <= 9999:
        raise ValueError(f"year out of range: {text!r}")
    return year


def _imdb_id(numeric: str) -> str:
    """``0110912`` -> ``tt0110912`` (IMDb ids have at least 7 digits)."""
    return "tt" + numeric.zfill(7)


def _movielens_key(item_id: str) -> str:
    """MovieLens item ids are plain integers; drop leading zeros so "042" and "42" agree."""
    return item_id.lstrip("0") or "0"


def _split_title(text: str) -> tuple[str, int | None]:
    title, year = split_title_year(text)
    return (title or text.strip()), year


# --------------------------------------------------------------------------------------- items


def default_items_path(ratings_path: Path, fmt: str) -> Path | None:
    """The item file shipped beside a ratings file: u.item for u.data, movies.dat otherwise."""
    name = ratings_path.name.removesuffix(".gz")
    stem = "u.item" if fmt == "movielens" and name.endswith(".data") else "movies.dat"
    for candidate in (stem, stem + ".gz"):
        if (ratings_path.parent / candidate).is_file():
            return ratings_path.parent / candidate
    return None


def read_items(path: Path, fmt: str) -> tuple[dict[str, ItemInfo], list[Reject]]:
    """Titles by the file's item id, from movies.dat (``id::Title (Year)::G|G``) or u.item.

    u.item (``id|title (year)|date|video date|url|19 genre flags``) is recognised by its ``|``
    separator. Returns the items and the rejected lines. Undecodable UTF-8 falls back to Latin-1
    because MovieLens ships its item files in Latin-1.
    """
    items: dict[str, ItemInfo] = {}
    rejects: list[Reject] = []
    file = str(path)
    for number, data in iter_lines(path):
        if not data.strip():
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        if "::" in text:
            parts = text.split("::")
            if len(parts) != 3:
                rejects.append(Reject(file, number, "", f"expected 3 fields, got {len(parts)}"))
                continue
            item_id, title_year, genre_text = parts
            genres = ",".join(g for g in genre_text.split("|") if g) or None
        else:
            parts = text.split("|")
            if len(parts) != 5 + len(MOVIELENS_100K_GENRES):
                rejects.append(
                    Reject(file, number, "", f"expected 24 fields, got {len(parts)}", text)
                )
                continue
            item_id, title_year = parts[0], parts[1]
            flags = parts[5:]
            genres = ",".join(
                g for g, f in zip(MOVIELENS_100K_GENRES, flags, strict=True) if f == "1"
            )
            genres = genres or None
        item_id = item_id.strip()
        if not _DIGITS.match(item_id):
            rejects.append(Reject(file, number, "item_id", "item id is not a number", text))
            continue
        title, year = _split_title(title_year)
        if not title or len(title) > MAX_TITLE:
            rejects.append(Reject(file, number, "title", "empty or too long title", text))
            continue
        if genres and len(genres) > MAX_GENRES:
            genres = None  # genres are a hint for new shows; not worth losing the title over
        key = _movielens_key(item_id) if fmt == "movielens" else item_id
        items[key] = ItemInfo(title, year, genres)
    return items, rejects


# ------------------------------------------------------------------------------------- ratings


def iter_ratings(
    path: Path,
    fmt: str,
    items_path: Path | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> Iterator[ParsedRating | Reject]:
    """Parse a rating file: every line yields a :class:`ParsedRating` or a :class:`Reject`.

    ``fmt`` is one of :data:`FORMATS`:

    - ``movietweetings``: ``user::imdb_numeric_id::rating(0-10)::unix_ts``; titles from
      movies.dat beside the file (or ``items_path``); without it shows carry only their IMDb id.
    - ``movielens``: ``u.data`` (tab separated) or ``ratings.dat`` (``::``), 1–5 stars
      (0.5 steps allowed) stored as 2–10 (x2); titles from u.item / movies.dat (required).
    - ``csv``: see :func:`iter_csv_ratings`.

    Rejects of the item file come first. Pure: reads the files, touches nothing else.
    """
    if fmt == "csv":
        yield from iter_csv_ratings(path, on_progress=on_progress)
        return
    if fmt not in FORMATS:
        raise ValueError(f"unknown rating format {fmt!r}; expected one of {', '.join(FORMATS)}")
    items_path = items_path or default_items_path(path, fmt)
    items: dict[str, ItemInfo] = {}
    if items_path is None:
        if fmt == "movielens":
            raise FileNotFoundError(
                f"no u.item or movies.dat beside {path}: pass the titles file with --items"
            )
        log.warning("no movies.dat beside %s: shows get their IMDb id as title", path)
    else:
        items, item_rejects = read_items(items_path, fmt)
        yield from item_rejects
    parse = _movietweetings_line if fmt == "movietweetings" else _movielens_line
    file = str(path)
    for number, data in iter_lines(path, on_progress=on_progress):
        if not data.strip():
            continue
        text = _decode(path, number, data)
        if isinstance(text, Reject):
            yield text
            continue
        yield parse(file, number, text, items)


def _fields(file: str, number: int, text: str, sep: str) -> list[str] | Reject:
    parts = [part.strip() for part in text.split(sep)]
    if len(parts) != 4:
        return Reject(file, number, "", f"expected 4 fields, got {len(parts)}", text)
    for name, value in zip(("user_id", "item_id"), parts, strict=False):
        if not value:
            return Reject(file, number, name, f"empty {name}", text)
    return parts


def _scaled_rating(
    file: str, number: int, text: str, value: str, low: float, high: float, factor: float
) -> float | Reject:
    try:
        rating = float(value)
    except ValueError:
        return Reject(file, number, "rating", f"rating is not a number: {value!r}", text)
    if not low <= rating <= high:  # also false for NaN
        return Reject(file, number, "rating", f"rating {value} outside {low:g}–{high:g}", text)
    return rating * factor


def _unix_time(file: str, number: int, text: str, value: str) -> datetime | Reject:
    if not _DIGITS.match(value):
        return Reject(file, number, "timestamp", f"not a unix timestamp: {value!r}", text)
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError):
        return Reject(file, number, "timestamp", f"timestamp out of range: {value!r}", text)


def _movietweetings_line(
    file: str, number: int, text: str, items: dict[str, ItemInfo]
) -> ParsedRating | Reject:
    parts = _fields(file, number, text, "::")
    if isinstance(parts, Reject):
        return parts
    user, item, rating_text, ts_text = parts
    if not _DIGITS.match(item):
        return Reject(file, number, "item_id", f"IMDb id is not numeric: {item!r}", text)
    if len(user) > MAX_USER_KEY:
        return Reject(file, number, "user_id", "user id too long", text)
    rating = _scaled_rating(file, number, text, rating_text, 0.0, 10.0, 1.0)
    if isinstance(rating, Reject):
        return rating
    timestamp = _unix_time(file, number, text, ts_text)
    if isinstance(timestamp, Reject):
        return timestamp
    info = items.get(item)
    show = ShowRef(
        imdb_id=_imdb_id(item),
        source="movietweetings",
        external_id=item,
        title=info.title if info else None,
        year=info.year if info else None,
        genres=info.genres if info else None,
    )
    return ParsedRating(number, user, show, rating, None, timestamp, text)


def _movielens_line(
    file: str, number: int, text: str, items: dict[str, ItemInfo]
) -> ParsedRating | Reject:
    parts = _fields(file, number, text, "::" if "::" in text else "\t")
    if isinstance(parts, Reject):
        return parts
    user, item, rating_text, ts_text = parts
    if not _DIGITS.match(item):
        return Reject(file, number, "item_id", f"item id is not a number: {item!r}", text)
    if len(user) > MAX_USER_KEY:
        return Reject(file, number, "user_id", "user id too long", text)
    item = _movielens_key(item)
    info = items.get(item)
    if info is None:
        return Reject(file, number, "item_id", f"item {item} not in the items file", text)
    rating = _scaled_rating(file, number, text, rating_text, 0.5, 5.0, 2.0)
    if isinstance(rating, Reject):
        return rating
    timestamp = _unix_time(file, number, text, ts_text)
    if isinstance(timestamp, Reject):
        return timestamp
    show = ShowRef(
        source="movielens",
        external_id=item,
        title=info.title,
        year=info.year,
        genres=info.genres,
    )
    return ParsedRating(number, user, show, rating, None, timestamp, text)


# ----------------------------------------------------------------------------------------- csv

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
        if not data.strip():
            continue
        text = _decode(path, number, data)
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
            rating = float(values["rating"])
        except ValueError:
            return bad("rating", f"rating is not a number: {values['rating']!r}")
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
            year = _parse_year(values["year"])
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
        if _DIGITS.match(generic):
            show_id = generic
        elif _IMDB_ID.match(generic.lower()):
            imdb_id = generic
        else:
            title = generic
        field_name = "show"
    else:
        field_name = "show_id" if show_id else "imdb_id" if imdb_id else "title"
    if title:
        title, title_year = _split_title(title)
        year = year or title_year
    if show_id:
        if not _DIGITS.match(show_id):
            return f"{field_name}:show_id is not a number: {show_id!r}"
        return ShowRef(show_id=int(show_id), title=title or None, year=year, genres=genres)
    if imdb_id:
        if not _IMDB_ID.match(imdb_id.lower()):
            return f"{field_name}:not an IMDb id (tt + 7 or more digits): {imdb_id!r}"
        return ShowRef(imdb_id=imdb_id.lower(), title=title or None, year=year, genres=genres)
    if title:
        return ShowRef(title=title, year=year, genres=genres)
    return f"{field_name}:no show given"
