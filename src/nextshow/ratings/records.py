"""What the rating parsers produce, and the small checks every format shares.

Pure: no database imports. Column lengths come from :mod:`nextshow.db.limits`, plain constants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from nextshow.catalog.normalize import split_title_year
from nextshow.db import limits
from nextshow.rejects import Reject
from nextshow.textio import OverlongLine

if TYPE_CHECKING:
    import numpy as np

# The rating file formats, in the order the CLI lists them.
FORMATS = ("movietweetings", "movielens", "csv")
MAX_USER_KEY = limits.USER_EXTERNAL_ID
MAX_TITLE = limits.TITLE
MAX_GENRES = limits.GENRES

# Ids and unix times: ASCII digits only (``\d`` would also take Arabic-Indic and other digits),
# and no longer than IMDb's longest id, so a 35-digit zero-padded id is refused, not truncated.
DIGITS = re.compile(r"[0-9]{1,10}\Z")
_RATING = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?\Z")


def parse_rating(text: str) -> float:
    """A rating written with ASCII digits (``8``, ``4.5``) -> float; ValueError otherwise."""
    if not _RATING.match(text):
        raise ValueError(f"rating is not a number: {text!r}")
    return float(text)


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

    def __hash__(self) -> int:
        # Computed once: an import looks each reference up several times per batch, and the
        # generated hash of seven fields was a tenth of a 100k-row import.
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = hash(
                (
                    self.show_id,
                    self.imdb_id,
                    self.source,
                    self.external_id,
                    self.title,
                    self.year,
                    self.genres,
                )
            )
            object.__setattr__(self, "_hash", value)
            return value


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


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(value: datetime) -> int:
    """An aware datetime as whole microseconds since the unix epoch (exact, unlike a float)."""
    return (value - EPOCH) // _MICROSECOND


@dataclass(frozen=True, eq=False)
class RatingColumns:
    """Valid rating rows of one batch as columns, in file order: what the importer writes.

    Users and shows are stored once each (first-appearance order) with a per-row index into
    them, so the writer resolves each distinct key once. Parsers of whole blocks build these
    directly; :meth:`from_rows` builds them from :class:`ParsedRating` rows.
    """

    lines: np.ndarray  # int64: 1-based line numbers
    user_keys: list[str]
    user: np.ndarray  # intp: index into user_keys
    shows: list[ShowRef]
    show: np.ndarray  # intp: index into shows
    rating: np.ndarray  # float64 on 0-10, NaN where the row gives none
    liked: np.ndarray  # int8: 1 / 0 as the file states it, -1 where it does not
    stamp: np.ndarray  # int64: microseconds since the epoch (UTC); 0 where not dated
    dated: np.ndarray  # bool: whether the row has a timestamp
    raws: Sequence[str]  # each row's line, for rejects

    def __len__(self) -> int:
        return len(self.lines)

    @classmethod
    def from_rows(cls, rows: Sequence[ParsedRating]) -> RatingColumns:
        """The columns of parsed rows (which keep their order)."""
        import numpy as np  # here: the CLI imports this module, and numpy costs its start

        users: dict[str, int] = {}
        # Rows of one item share one ShowRef (the parsers build it once): keyed by identity.
        shows: dict[int, int] = {}
        refs: list[ShowRef] = []
        user_index, show_index = [], []
        for row in rows:
            user_index.append(users.setdefault(row.user_key, len(users)))
            at = shows.get(id(row.show))
            if at is None:
                at = shows[id(row.show)] = len(refs)
                refs.append(row.show)
            show_index.append(at)
        stamps = [row.timestamp for row in rows]
        return cls(
            lines=np.array([row.line for row in rows], dtype=np.int64),
            user_keys=list(users),
            user=np.array(user_index, dtype=np.intp),
            shows=refs,
            show=np.array(show_index, dtype=np.intp),
            rating=np.array(
                [np.nan if row.rating is None else row.rating for row in rows], dtype=np.float64
            ),
            liked=np.array([-1 if row.liked is None else row.liked for row in rows], np.int8),
            stamp=np.array([0 if t is None else epoch_micros(t) for t in stamps], np.int64),
            dated=np.array([t is not None for t in stamps], dtype=bool),
            raws=[row.raw for row in rows],
        )


@dataclass(frozen=True)
class ItemInfo:
    """A title from an item file (movies.dat / u.item)."""

    title: str
    year: int | None
    genres: str | None


def decode_line(path: Path, number: int, line: bytes | OverlongLine) -> str | Reject:
    """The line as UTF-8 text (BOM of line 1 dropped), or a reject naming the bad byte."""
    if isinstance(line, OverlongLine):
        return Reject(str(path), number, "", line.reason())
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


# Likes older than this predate any rating source nextshow reads; one row dated year 1 or 9999
# would otherwise become the "now" or the "long ago" of every time-decayed model.
EARLIEST_TIMESTAMP = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def parse_timestamp(text: str, *, now: datetime | None = None) -> datetime:
    """Unix seconds (``1365029107``) or ISO 8601 (``2013-04-03T22:45:07Z``) -> aware UTC datetime.

    Raises ValueError when it is neither, or outside [1990-01-01, ``now`` + 1 day]; a naive ISO
    time is taken as UTC.
    """
    text = text.strip()
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        try:
            value = datetime.fromtimestamp(float(text), UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"timestamp out of range: {text!r}") from exc
    else:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not a unix time or ISO 8601 timestamp: {text!r}") from exc
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    latest = (now or datetime.now(UTC)) + FUTURE_SLACK
    if not EARLIEST_TIMESTAMP <= value <= latest:
        raise ValueError(
            f"timestamp {value.isoformat()} is outside [{EARLIEST_TIMESTAMP.date()}, "
            f"{latest.date()}]: {text!r}"
        )
    return value


def unix_time_reader(now: datetime | None = None) -> Callable[[int], datetime | None]:
    """For the fast parsers: unix seconds -> aware UTC datetime, None outside the window of
    :func:`parse_timestamp` (checked as integers). The window's end is fixed at the call, so a
    time past it but within a later "now" is left to the full path, which accepts it."""
    earliest = int(EARLIEST_TIMESTAMP.timestamp())
    latest = int(((now or datetime.now(UTC)) + FUTURE_SLACK).timestamp())

    def read(seconds: int) -> datetime | None:
        if not earliest <= seconds <= latest:
            return None
        return datetime.fromtimestamp(seconds, UTC)

    return read


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
