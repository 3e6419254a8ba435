"""CSV rating files a block of lines at a time, parsed into columns (the importer's bulk path).

A block whose every line has the common shape (valid UTF-8, printable, each field bare or quoted
whole with no quote inside, as many fields as the header) is parsed by pyarrow's CSV reader into
columns, and the checks of :mod:`nextshow.ratings.csv_format` run once per distinct value: each
distinct user key, rating/liked pair, show (its show, id, title, year and genres values) and
timestamp that is not plain unix seconds (those are checked against the window as integers). A
block holding any line the columns cannot vouch for (another shape, a value that fails a check,
a blank line) is read line by line by :class:`~nextshow.ratings.csv_format.CsvReader` instead, so
rejects and their line numbers are the row parser's, and valid rows give the same result either
way (``tests/ratings/test_csv_blocks.py`` holds the two paths to each other).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from nextshow.ratings.csv_format import (
    _SHOW_METADATA,
    CsvReader,
    _Invalid,
    _Memo,
    _score,
    _show,
    _timestamp,
    _user,
)
from nextshow.ratings.records import (
    EARLIEST_TIMESTAMP,
    FUTURE_SLACK,
    ParsedRating,
    RatingColumns,
    ShowRef,
    epoch_micros,
)
from nextshow.rejects import Reject
from nextshow.textio import OverlongLine, ProgressCallback, iter_line_blocks, reblock

_FIELD = r'(?:"[^"\n]*"|[^,"\n]*)'
_SEP = "\x00"  # joins a row's values into one key: no printable line holds it
_UNIX = "^[0-9]{1,10}$"


def iter_csv_blocks(
    path: Path, size: int, *, on_progress: ProgressCallback | None = None
) -> Iterator[RatingColumns | ParsedRating | Reject]:
    """The file's valid rows and rejects, as :func:`iter_csv_ratings` gives them, with the rows
    of blocks of ``size`` lines of the common shape as one :class:`RatingColumns` each."""
    reader = CsvReader(path)
    blocks = iter_line_blocks(path, size, on_progress=on_progress)
    rest: tuple[int, list[bytes | OverlongLine]] | None = None
    for first, lines in blocks:  # up to the header, line by line
        for at, data in enumerate(lines):
            item = reader.line(first + at, data)
            if item is not None:
                yield item
            if reader.stopped:
                return
            if reader.header is not None:
                rest = (first + at + 1, lines[at + 1 :])
                break
        if rest is not None:
            break
    if rest is None or reader.header is None:  # no header (an empty file)
        return
    # Data lines in blocks of ``size`` from the line after the header, so a batch is ``size``
    # rows wherever the header was.
    columns = _BlockParser(reader.header)
    chunks = chain([rest[1]], (lines for _first, lines in blocks))
    for first, lines in reblock(rest[0], chunks, size):
        block = columns.parse(first, lines)
        if block is not None:
            yield block
            continue
        for number, data in enumerate(lines, start=first):
            item = reader.line(number, data)
            if item is not None:
                yield item


class _BlockParser:
    """Blocks of data lines under one header into columns; None for a block it cannot vouch for.

    The caches of distinct values (shows, rating/liked pairs) last across blocks, bounded like
    the fast row parser's.
    """

    def __init__(self, header: list[str]) -> None:
        self.header = header
        row = ",".join([_FIELD] * len(header))
        self.shape = re.compile(f"{row}(?:\n{row})*")
        self.score_names = [name for name in header if name in ("rating", "liked")]
        self.scores = _Memo(
            self.score_names, lambda v: _score(v.get("rating", ""), v.get("liked", ""))
        )
        self.show_names = [name for name in header if name in _SHOW_METADATA]
        self.shows = _Memo(self.show_names, _show)
        self.options = (
            pa_csv.ReadOptions(column_names=header, use_threads=False),
            pa_csv.ParseOptions(newlines_in_values=False),
            pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        self.earliest = int(EARLIEST_TIMESTAMP.timestamp())
        self.latest = int((datetime.now(UTC) + FUTURE_SLACK).timestamp())

    def parse(self, first: int, lines: list[bytes | OverlongLine]) -> RatingColumns | None:
        if not lines:
            return None
        try:
            data = b"\n".join(lines)  # type: ignore[arg-type]  # TypeError: an OverlongLine
            text = data.decode("utf-8")
        except (TypeError, UnicodeDecodeError):
            return None
        # Printable (no control character in any field; the only space left is " ", so
        # stripping a value is stripping spaces) and of the common shape, or the row path.
        if not text.replace("\n", "").isprintable() or self.shape.fullmatch(text) is None:
            return None
        table = pa_csv.read_csv(io.BytesIO(data), *self.options)
        if table.num_rows != len(lines):
            return None
        values = {name: pc.utf8_trim(table[name], " ").combine_chunks() for name in self.header}
        try:
            user_keys, user = _distinct(values["user_id"])
            for key in user_keys:
                _user(key)
            rating, liked = self._scores(values)
            shows, show = self._shows(values)
            stamp, dated = self._times(values.get("timestamp"), len(lines))
        except _Invalid:
            return None
        return RatingColumns(
            lines=np.arange(first, first + len(lines), dtype=np.int64),
            user_keys=user_keys,
            user=user,
            shows=shows,
            show=show,
            rating=rating,
            liked=liked,
            stamp=stamp,
            dated=dated,
            raws=text.split("\n"),
        )

    def _scores(self, values: dict[str, pa.Array]) -> tuple[np.ndarray, np.ndarray]:
        keys, index = _distinct(_joined([values[name] for name in self.score_names]))
        pairs = [self.scores[tuple(key.split(_SEP))] for key in keys]
        rating = np.array([np.nan if r is None else r for r, _ in pairs], dtype=np.float64)
        liked = np.array([-1 if like is None else like for _, like in pairs], dtype=np.int8)
        return rating[index], liked[index]

    def _shows(self, values: dict[str, pa.Array]) -> tuple[list[ShowRef], np.ndarray]:
        keys, index = _distinct(_joined([values[name] for name in self.show_names]))
        return [self.shows[tuple(key.split(_SEP))] for key in keys], index

    def _times(self, texts: pa.Array | None, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Microseconds since the epoch and whether each row is dated; unix seconds within the
        window as integers, any other value by the row path's check, once per distinct value."""
        stamp = np.zeros(rows, dtype=np.int64)
        if texts is None:
            return stamp, np.zeros(rows, dtype=bool)
        dated = pc.not_equal(texts, "").to_numpy(zero_copy_only=False)
        unix = pc.match_substring_regex(texts, _UNIX).to_numpy(zero_copy_only=False)
        if unix.any():
            seconds = pc.cast(texts.filter(pa.array(unix)), pa.int64()).to_numpy()
            inside = (seconds >= self.earliest) & (seconds <= self.latest)
            stamp[unix] = seconds * 1_000_000
            unix[unix] = inside  # outside the window: checked (and worded) like other values
        other = dated & ~unix
        if other.any():
            keys, index = _distinct(texts.filter(pa.array(other)))
            parsed = np.array([epoch_micros(_timestamp(key)) for key in keys], dtype=np.int64)
            stamp[other] = parsed[index]
        return stamp, dated


def _joined(columns: list[pa.Array]) -> pa.Array:
    if len(columns) == 1:
        return columns[0]
    return pc.binary_join_element_wise(*columns, _SEP)


def _distinct(values: pa.Array) -> tuple[list[str], np.ndarray]:
    """The distinct values in first-appearance order, and each row's index into them."""
    encoded = pc.dictionary_encode(values)
    index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    return encoded.dictionary.to_pylist(), index
