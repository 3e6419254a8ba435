"""The cyclic garbage collector held off while a bulk load allocates its rows.

An import allocates a few objects per input line, almost none of them in reference cycles
(reference counting frees them), yet every 700 allocations the collector scans the young ones
and, now and then, every object of the process: a fifth of a 100k-line import's CPU. Paused, it
runs once per batch over that batch's survivors instead, so memory stays bounded by a batch.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Automatic collection off in the block (restored after); call :func:`collect_young`."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect_young() -> None:
    """Collect the cycles made since the last call (a batch's sessions and the like)."""
    gc.collect(1)
