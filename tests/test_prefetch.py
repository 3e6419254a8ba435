"""prefetched: the plain iterator's items and errors, one item ahead, stopped cleanly."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from nextshow.prefetch import prefetched


class _Source:
    """Numbers 0..n-1; raises ``error`` instead of making item ``fail_at``; records what the
    thread made and whether the generator was closed."""

    def __init__(self, n: int, *, fail_at: int | None = None, error: BaseException | None = None):
        self.n, self.fail_at, self.error = n, fail_at, error
        self.made: list[int] = []
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[int]:
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise self.error  # type: ignore[misc]
                self.made.append(i)
                yield i
        finally:
            self.closed.set()


def _threads() -> set[str]:
    return {thread.name for thread in threading.enumerate()}


def test_items_in_order_and_at_most_one_ahead():
    source = _Source(50)
    seen = []
    with prefetched(iter(source), name="t-order") as items:
        for item in items:
            # The caller holds `item`; the thread has made at most the next one.
            assert len(source.made) <= item + 2
            seen.append(item)
    assert seen == list(range(50))
    assert source.closed.is_set() and "t-order" not in _threads()


def test_an_error_while_making_an_item_comes_after_the_items_before_it_as_itself():
    error = ValueError("line 7: broken")
    source = _Source(10, fail_at=3, error=error)
    seen = []
    with pytest.raises(ValueError) as raised, prefetched(iter(source), name="t-error") as items:
        for item in items:
            seen.append(item)
    assert seen == [0, 1, 2]
    assert raised.value is error  # the same object: type, message and traceback
    assert "t-error" not in _threads()


def test_the_caller_stopping_early_stops_the_thread_and_closes_the_iterator():
    source = _Source(1_000)
    with (
        pytest.raises(RuntimeError, match="writer failed"),
        prefetched(iter(source), name="t-stop") as items,
    ):
        for item in items:
            if item == 5:
                raise RuntimeError("writer failed")
    assert source.closed.is_set()
    assert len(source.made) <= 7  # nothing made after the caller left but the one ahead
    assert "t-stop" not in _threads()


def test_leaving_the_block_without_reading_everything_stops_the_thread():
    source = _Source(1_000)
    with prefetched(iter(source), name="t-leave") as items:
        assert next(items) == 0
    assert source.closed.is_set() and "t-leave" not in _threads()
