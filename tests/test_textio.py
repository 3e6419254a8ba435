"""Line reading: uncompressed files (split a block at a time) give what gzip files give."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from nextshow import textio
from nextshow.textio import MAX_LINE_BYTES, OverlongLine, iter_line_blocks, iter_lines

LIMIT = MAX_LINE_BYTES
CONTENT = b"".join(
    [
        b"1::2::3::4\n",
        b"\n",  # blank
        b"crlf line\r\n",
        b"two returns\r\r\n",
        b"x" * LIMIT + b"\n",  # at the limit
        b"x" * LIMIT + b"\r\n",  # at the limit, CRLF
        b"y" * (LIMIT + 1) + b"\n",  # one over
        b"z" * (LIMIT + 2) + b"\r\n",  # two over, CRLF
        b"w" * (3 * LIMIT) + b"\n",  # far over
        b"last line, no break",
    ]
)


def _lines(path: Path) -> list[tuple[int, bytes | OverlongLine]]:
    return list(iter_lines(path))


@pytest.mark.parametrize("block", [7, 4096, LIMIT - 1, LIMIT + 3, 1 << 20])
@pytest.mark.parametrize("ending", [b"", b"\n", b"\r", b"v" * (LIMIT + 2)])
def test_plain_and_gzip_files_read_alike(tmp_path, monkeypatch, block, ending):
    monkeypatch.setattr(textio, "_BLOCK", block)  # block boundaries inside every kind of line
    plain = tmp_path / "r.dat"
    plain.write_bytes(CONTENT + ending)
    packed = tmp_path / "r.dat.gz"
    packed.write_bytes(gzip.compress(CONTENT + ending))
    expected = _lines(packed)
    assert _lines(plain) == expected
    assert [type(line) for _, line in expected[4:9]] == [bytes, bytes] + [OverlongLine] * 3


def test_progress_counts_every_byte_of_a_plain_file(tmp_path):
    path = tmp_path / "r.dat"
    path.write_bytes(CONTENT)
    seen: list[int] = []
    list(iter_lines(path, on_progress=seen.append))
    assert sum(seen) == len(CONTENT)


CRLF = b"".join(b"line %d\r\n" % i for i in range(50))  # the common CRLF block, split in bulk


@pytest.mark.parametrize("size", [1, 3, 1000])
@pytest.mark.parametrize("block", [7, 4096, 1 << 20])
@pytest.mark.parametrize("content", [CONTENT, CRLF, CRLF + b"bare\r\r\n" + CRLF])
def test_line_blocks_hold_the_lines_of_iter_lines(tmp_path, monkeypatch, size, block, content):
    monkeypatch.setattr(textio, "_BLOCK", block)
    plain, packed = tmp_path / "r.dat", tmp_path / "r.dat.gz"
    plain.write_bytes(content)
    packed.write_bytes(gzip.compress(content))
    expected = _lines(packed)  # read line by line (readline), as the reference
    for path in (plain, packed):
        blocks = list(iter_line_blocks(path, size))
        assert all(len(lines) == size for _, lines in blocks[:-1])
        numbered = [(first + i, line) for first, lines in blocks for i, line in enumerate(lines)]
        assert numbered == expected


def test_line_blocks_of_a_truncated_gzip_give_every_line_before_the_error(tmp_path):
    path = tmp_path / "r.dat.gz"
    path.write_bytes(gzip.compress(CRLF)[:-12])  # the stream ends early
    seen: list[bytes | OverlongLine] = []
    with pytest.raises(textio.InputAborted):
        for _first, lines in iter_line_blocks(path, 1000):
            seen.extend(lines)
    assert seen and seen == [line for _, line in _truncated_lines(path)]


def _truncated_lines(path: Path) -> list[tuple[int, bytes | OverlongLine]]:
    lines: list[tuple[int, bytes | OverlongLine]] = []
    with pytest.raises(textio.InputAborted):
        lines.extend(iter_lines(path))
    return lines
