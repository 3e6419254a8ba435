"""Reading plain or gzip-compressed text files line by line, with progress, shared by importers."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator
from pathlib import Path

_PROGRESS_EVERY = 4096  # lines between progress callbacks

ProgressCallback = Callable[[int], object]


def iter_lines(
    path: Path, *, on_progress: ProgressCallback | None = None
) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line bytes without the line break) of a plain or gzip file.

    ``on_progress`` receives the number of (compressed) file bytes consumed since its last call,
    which is what a tqdm bar with ``total=file size`` wants. Shared by every importer.
    """
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream: io.BufferedIOBase = (
            io.BufferedReader(gzip.GzipFile(fileobj=raw), 1 << 20)  # type: ignore[arg-type]
            if gzipped
            else raw
        )
        reported = 0
        number = 0
        for number, line in enumerate(stream, 1):
            if on_progress is not None and number % _PROGRESS_EVERY == 0:
                position = raw.tell()
                on_progress(position - reported)
                reported = position
            yield number, line.rstrip(b"\r\n")
        if on_progress is not None:
            on_progress(raw.tell() - reported)
