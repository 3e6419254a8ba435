"""Reading plain or gzip-compressed text files line by line, with progress, shared by importers.

Memory stays bounded whatever the file holds: a line longer than :data:`MAX_LINE_BYTES` is
skipped in chunks and reported as an :class:`OverlongLine` (never read whole), and gzip input
that expands beyond :data:`GZIP_MAX_RATIO` times its compressed size (past a floor of
:data:`GZIP_RATIO_FLOOR` bytes) is refused as a probable decompression bomb. A truncated or
corrupt gzip raises :class:`InputAborted` naming the file and line, after every line before it.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_PROGRESS_EVERY = 4096  # lines between progress callbacks
MAX_LINE_BYTES = 64 * 1024  # far beyond any rating or IMDb line; longer is garbage or an attack
GZIP_MAX_RATIO = 100  # text rating files compress 4-10x; 100x is not a rating file
GZIP_RATIO_FLOOR = 64 * 1024 * 1024  # below this much decompressed data the ratio is not checked
_SKIP_CHUNK = 64 * 1024
_BLOCK = 1024 * 1024  # uncompressed files are read and split this much at a time

ProgressCallback = Callable[[int], object]


@dataclass(frozen=True)
class OverlongLine:
    """Stands for a line longer than the limit: only its length was counted."""

    length: int

    def reason(self) -> str:
        return f"line is {self.length:,} bytes long; at most {MAX_LINE_BYTES:,} are read"


class InputAborted(Exception):
    """The file cannot be read on: truncated or corrupt gzip, or a decompression bomb."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}: stopped after line {line}: {reason}")
        self.path = path
        self.line = line


class _Guarded:
    """Reads lines of at most ``limit`` bytes and checks the gzip expansion ratio as it goes."""

    def __init__(self, raw: io.BufferedReader, stream: io.BufferedIOBase, gzipped: bool) -> None:
        self._raw = raw
        self._stream = stream
        self._gzipped = gzipped
        self.decompressed = 0

    def readline(self, limit: int) -> bytes:
        data = self._stream.readline(limit)
        self.decompressed += len(data)
        if (
            self._gzipped
            and self.decompressed > GZIP_RATIO_FLOOR
            and self.decompressed > GZIP_MAX_RATIO * max(self._raw.tell(), 1)
        ):
            raise ValueError(
                f"gzip expands more than {GZIP_MAX_RATIO}x ({self.decompressed:,} bytes from "
                f"{self._raw.tell():,}): refused as a probable decompression bomb"
            )
        return data


def iter_lines(
    path: Path, *, on_progress: ProgressCallback | None = None
) -> Iterator[tuple[int, bytes | OverlongLine]]:
    """(1-based line number, line bytes without the line break) of a plain or gzip file.

    An over-long line comes as an :class:`OverlongLine` for the caller to reject. ``on_progress``
    receives the number of (compressed) file bytes consumed since its last call, which is what a
    tqdm bar with ``total=file size`` wants. Shared by every importer.
    """
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if not gzipped:
            yield from _plain_lines(path, raw, on_progress)
            return
        # GzipFile's own small buffer, not a big BufferedReader on top: that one reads ahead in
        # 1 MiB calls, and a truncated file would lose every line of the last call.
        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw) if gzipped else raw
        reader = _Guarded(raw, stream, gzipped)
        reported = 0
        number = 0
        while True:
            try:
                line = _next_line(reader)
            except (EOFError, OSError, zlib.error, ValueError) as exc:
                raise InputAborted(path, number, _why(exc)) from exc
            if line is None:
                break
            number += 1
            if on_progress is not None and number % _PROGRESS_EVERY == 0:
                position = raw.tell()
                on_progress(position - reported)
                reported = position
            yield number, line
        if on_progress is not None:
            on_progress(raw.tell() - reported)


def _plain_lines(
    path: Path, raw: io.BufferedReader, on_progress: ProgressCallback | None
) -> Iterator[tuple[int, bytes | OverlongLine]]:
    """:func:`iter_lines` of an uncompressed file, split a block at a time (a readline call per
    line cost more than parsing it). Same lines, same :class:`OverlongLine` lengths; memory
    stays bounded by a block plus :data:`MAX_LINE_BYTES`."""
    number = 0
    for lines in _plain_chunks(path, raw, on_progress):
        for line in lines:
            number += 1
            yield number, line


def _plain_chunks(
    path: Path, raw: io.BufferedReader, on_progress: ProgressCallback | None
) -> Iterator[list[bytes | OverlongLine]]:
    """The lines of an uncompressed file, as one list per block read."""
    number = 0
    pending = b""  # the start of a line that the block did not end
    overlong = 0  # the length so far of a line already known to be too long (its bytes dropped)
    while True:
        try:
            block = raw.read(_BLOCK)
        except OSError as exc:
            raise InputAborted(path, number, _why(exc)) from exc
        if not block:
            break
        if on_progress is not None:
            on_progress(len(block))
        pieces = block.split(b"\n")
        tail = pieces.pop()
        lines: list[bytes | OverlongLine] = []
        if pieces:
            first = pieces[0]
            if overlong:
                lines.append(OverlongLine(overlong + len(first)))
                overlong = 0
            else:
                lines.append(_line(pending + first))
            pending = b""
            lines.extend(_lines(pieces[1:]))
        number += len(lines)
        if lines:
            yield lines
        if overlong:
            overlong += len(tail)
        else:
            pending += tail
            if len(pending) > MAX_LINE_BYTES + 1:
                overlong, pending = len(pending), b""
    if overlong:
        yield [OverlongLine(overlong)]
    elif pending:
        yield [_line(pending)]


def iter_line_blocks(
    path: Path, size: int, *, on_progress: ProgressCallback | None = None
) -> Iterator[tuple[int, list[bytes | OverlongLine]]]:
    """The lines of :func:`iter_lines` in blocks of ``size`` (the last one shorter): (number of
    the block's first line, its lines). For readers that work a block at a time; memory stays
    bounded by a block and the file's read buffer."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    if gzipped:  # line by line, as iter_lines reads it
        chunks: Iterator[list[bytes | OverlongLine]] = (
            [line] for _number, line in iter_lines(path, on_progress=on_progress)
        )
        yield from reblock(1, chunks, size)
        return
    with open(path, "rb") as raw:
        yield from reblock(1, _plain_chunks(path, raw, on_progress), size)


def reblock(
    first: int, chunks: Iterable[list[bytes | OverlongLine]], size: int
) -> Iterator[tuple[int, list[bytes | OverlongLine]]]:
    """Consecutive lines, the first numbered ``first``, given in lists of any length, as blocks of
    ``size`` lines: (number of the block's first line, its lines). On :class:`InputAborted` the
    lines read before it come first, then the error."""
    block: list[bytes | OverlongLine] = []
    try:
        for chunk in chunks:
            block.extend(chunk)
            while len(block) >= size:
                yield first, block[:size]
                block = block[size:]
                first += size
    except InputAborted:
        if block:  # the lines read before the damage come first, as iter_lines gives them
            yield first, block
        raise
    if block:
        yield first, block


def _lines(pieces: list[bytes]) -> list[bytes | OverlongLine]:
    """:func:`_line` of each piece, in bulk for the common block: no line near the limit, and
    no "\r" but the one ending each line (CRLF files) or none."""
    if not pieces or max(map(len, pieces)) > MAX_LINE_BYTES:
        return list(map(_line, pieces))
    joined = b"\n".join(pieces)
    returns = joined.count(b"\r")
    if not returns:
        return pieces  # type: ignore[return-value]
    if returns == len(pieces) and (joined + b"\n").count(b"\r\n") == returns:
        return [piece[:-1] for piece in pieces]
    return list(map(_line, pieces))


def _line(data: bytes) -> bytes | OverlongLine:
    """One line without its "\n", as :func:`_next_line` gives it: trailing "\r" dropped."""
    if len(data) > MAX_LINE_BYTES + 1:
        return OverlongLine(len(data))
    text = data.rstrip(b"\r\n")
    return text if len(text) <= MAX_LINE_BYTES else OverlongLine(len(text))


def _next_line(reader: _Guarded) -> bytes | OverlongLine | None:
    """The next line without its break, an OverlongLine, or None at the end of the file."""
    line = reader.readline(MAX_LINE_BYTES + 2)  # room for the "\r\n" of a line at the limit
    if not line:
        return None
    if line.endswith(b"\n") or len(line) <= MAX_LINE_BYTES + 1:
        text = line.rstrip(b"\r\n")
        return text if len(text) <= MAX_LINE_BYTES else OverlongLine(len(text))
    length = len(line)
    while not line.endswith(b"\n"):  # skip the rest of the line without keeping it
        line = reader.readline(_SKIP_CHUNK)
        if not line:
            break
        length += len(line)
    return OverlongLine(length - (1 if line.endswith(b"\n") else 0))


def _why(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the gzip file is truncated (it ends before its end-of-stream marker)"
    if isinstance(exc, ValueError):
        return str(exc)
    return f"the gzip file is corrupt ({exc})"
