"""An iterator whose next item is made in a background thread while the caller uses this one.

For bulk loads whose two halves wait on different things: an importer parses and prepares the
next batch (client CPU) while the database works on the current one (the server's CPU, in its
own process), so on a machine with two cores both run at once. Python code of the two threads
still takes turns under the GIL; the gain is the time either side spends in the driver waiting
for the server or in C code that releases the GIL (pyarrow's CSV reader and compute kernels).

A hand-over, not a queue: the thread makes one item ahead, hands it over and waits until the
caller takes it before it makes the next. So at most two items exist at once (the caller's and
the one ready), and memory stays bounded as without the thread.

The caller sees what the plain iterator would give, in the same order: an exception raised while
making an item is raised to the caller when it asks for that item, after every item made before
it, as the same exception object (type, message, traceback). When the caller stops early (it
raised, or left the ``with`` block), the thread is told to stop, the iterator is closed in it
(its ``finally`` blocks run, its files close) and the thread is joined before ``prefetched``
returns.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_POLL_S = 0.05  # how often a waiting thread looks whether the caller has gone


class _Stopped(Exception):
    """The caller has gone: the thread stops making items."""


class _HandOver:
    """One slot between the thread (``give``) and the caller (``take``)."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.full = False
        self.item: tuple[bool, object] = (False, None)  # (an exception, the item or it)
        self.stopped = False

    def give(self, raised: bool, item: object) -> None:
        """Hand ``item`` over and wait until the caller has taken it (or gone)."""
        with self.lock:
            if self.stopped:
                raise _Stopped
            self.item, self.full = (raised, item), True
            self.lock.notify_all()
            while self.full and not self.stopped:
                self.lock.wait(_POLL_S)
            if self.stopped:
                raise _Stopped

    def take(self) -> tuple[bool, object]:
        with self.lock:
            while not self.full:
                self.lock.wait(_POLL_S)
            taken, self.item, self.full = self.item, (False, None), False
            self.lock.notify_all()
            return taken

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            self.full = False
            self.item = (False, None)
            self.lock.notify_all()


_END = object()


@contextmanager
def prefetched(items: Iterator[T], *, name: str = "prefetch") -> Iterator[Iterator[T]]:
    """``items`` as an iterator that is one item ahead in a background thread (see the module
    docstring). Use it inside the ``with`` block only."""
    slot = _HandOver()

    def run() -> None:
        try:
            try:
                for item in items:
                    slot.give(False, item)
                slot.give(False, _END)
            except _Stopped:
                return
            except BaseException as exc:
                slot.give(True, exc)
        except _Stopped:
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def taken() -> Iterator[T]:
        while True:
            raised, item = slot.take()
            if raised:
                raise item  # type: ignore[misc]
            if item is _END:
                return
            yield item  # type: ignore[misc]

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield taken()
    finally:
        slot.stop()
        thread.join()
