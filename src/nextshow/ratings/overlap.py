"""Two batches written at once, on two connections, with the outcome of writing them in turn.

On PostgreSQL a batch's time is mostly the server's (the COPY into ``ratings``: its indexes and
two foreign-key checks per row), one backend on one core. A second connection lets a second
backend work on the next batch meanwhile. Each batch stays one transaction, and the result is
the one of writing them one after the other, because a batch overlaps the one before it only
when they cannot see each other (the caller's ``independent``: e.g. no user in common, no show
created by the earlier one), and otherwise waits for it to commit. Per batch, in order:

1. its *resolve* step (ids created: users, shows) starts once the previous batch's has ended,
   so ids are handed out in file order as before;
2. its *commit* waits for the previous batch's commit, and a batch whose predecessor failed
   rolls back: the store holds the batches before the first failure, whole, as before;
3. its outcome (counts, rejects) is handed to ``apply`` in file order, after the commit.

So at most two batches are in flight (memory as with one writer and one batch parsed ahead).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

U = TypeVar("U")  # what the caller hands in per batch


class Cancelled(Exception):
    """The batch before this one failed: this one is rolled back, not committed."""


@dataclass
class Turn(Generic[U]):
    """One batch's place in line: the writer calls :meth:`resolved` once its ids exist and
    :meth:`before_commit` just before its commit."""

    unit: U
    previous: Turn[U] | None = None
    resolved_event: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    note: Any = None  # what the writer said of the batch once its ids existed
    outcome: Any = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start_resolving(self) -> None:
        """Wait until the previous batch has its ids (or has ended)."""
        if self.previous is not None:
            self.previous.resolved_event.wait()
            if self.previous.error is not None:
                raise Cancelled

    def resolved(self, note: Any = None) -> None:
        self.note = note
        self.resolved_event.set()

    def before_commit(self) -> None:
        """Wait for the previous batch's commit; raise :class:`Cancelled` if it failed."""
        if self.previous is not None:
            self.previous.finished.wait()
            if self.previous.error is not None:
                raise Cancelled


class OverlappedWriter(Generic[U]):
    """Runs ``write(unit, turn)`` of each batch in a thread of its own, two at the most, and
    ``apply(unit, outcome)`` of each unit in the order given, in the caller's thread (outcome
    None for a unit that is not a batch, or whose batch failed).

    Units that are not batches (``is_batch`` false) are applied in their place in line.
    """

    def __init__(
        self,
        write: Callable[[U, Turn[U]], Any],
        apply: Callable[[U, Any], None],
        *,
        is_batch: Callable[[U], bool],
        independent: Callable[[Turn[U], U], bool],
    ) -> None:
        self.write, self.apply = write, apply
        self.is_batch, self.independent = is_batch, independent
        self.line: deque[Turn[U]] = deque()

    def add(self, unit: U) -> None:
        turn = Turn(unit)
        if self.is_batch(unit):
            batches = [queued for queued in self.line if queued.thread is not None]
            previous = batches[-1] if batches else None
            for queued in batches[:-1]:  # at most one batch in flight beside this one
                queued.finished.wait()
            if previous is not None:
                previous.resolved_event.wait()
                if previous.error is not None or not self.independent(previous, unit):
                    previous.finished.wait()
                    previous = None
            self._apply_finished()
            turn.previous = previous
            turn.thread = threading.Thread(target=self._run, args=(turn,), name="import-write")
            turn.thread.start()
        else:
            turn.finished.set()
        self.line.append(turn)
        self._apply_finished()

    def close(self) -> None:
        """Wait for every batch and apply the rest (raising the first batch's error)."""
        try:
            for turn in self.line:
                turn.finished.wait()
        finally:
            self._apply_finished()

    def abandon(self) -> BaseException | None:
        """After an error of the caller's: let the batches in flight end (a batch that has
        begun is committed or rolled back whole, as in a single writer), apply what succeeded
        in order, and return the first batch's error, if any (a single writer would have
        stopped there, before the caller's error)."""
        for turn in self.line:
            if turn.thread is not None:
                turn.thread.join()
        while self.line and self.line[0].error is None:
            turn = self.line.popleft()
            self.apply(turn.unit, turn.outcome)
        first = self.line[0].error if self.line else None
        if first is not None and not isinstance(first, Cancelled):
            self.apply(self.line[0].unit, None)  # what came before its batch, as one writer
        self.line.clear()
        return first

    def _apply_finished(self) -> None:
        while self.line and self.line[0].finished.is_set():
            turn = self.line[0]
            if turn.thread is not None:
                turn.thread.join()
            if turn.error is not None:
                error = self.abandon()
                raise error  # type: ignore[misc]
            self.line.popleft()
            self.apply(turn.unit, turn.outcome)

    def _run(self, turn: Turn[U]) -> None:
        try:
            turn.start_resolving()
            turn.outcome = self.write(turn.unit, turn)
        except BaseException as exc:  # raised in the caller's thread, in its place in line
            turn.error = exc
        finally:
            turn.resolved_event.set()
            turn.finished.set()
