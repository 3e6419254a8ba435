"""OverlappedWriter: batches written two at once keep the order and outcome of one writer."""

from __future__ import annotations

import threading
import time

import pytest

from nextshow.ratings.overlap import Cancelled, OverlappedWriter, Turn


class _Log:
    """Writes that record when each step happened; ``fail`` names a batch that raises."""

    def __init__(
        self, *, fail: str | None = None, dependent: set[str] = frozenset(), wait_for: str = ""
    ):
        self.events: list[tuple[str, str]] = []
        self.applied: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        self.fail, self.dependent = fail, dependent
        self.running = 0
        self.most_running = 0
        # The first batch waits (5 s at most) for this one to begin: two in flight, if allowed.
        self.wait_for = wait_for
        self.begun = threading.Event()

    def note(self, what: str, unit: str) -> None:
        with self.lock:
            self.events.append((what, unit))

    def write(self, unit: str, turn: Turn[str]) -> str:
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            self.note("resolve", unit)
            turn.resolved()
            if unit == self.wait_for:
                self.begun.set()
            if unit == "b0" and self.wait_for:
                self.begun.wait(5)
            time.sleep(0.02)
            if unit == self.fail:
                raise RuntimeError(f"{unit} failed")
            turn.before_commit()
            self.note("commit", unit)
            return f"done {unit}"
        finally:
            with self.lock:
                self.running -= 1

    def writer(self) -> OverlappedWriter[str]:
        return OverlappedWriter(
            self.write,
            lambda unit, outcome: self.applied.append((unit, outcome)),
            is_batch=lambda unit: not unit.startswith("rejects"),
            independent=lambda previous, unit: unit not in self.dependent,
        )


def test_outcomes_applied_in_order_commits_in_order_two_at_most():
    log = _Log(wait_for="b1")
    writer = log.writer()
    for unit in ["b0", "rejects0", "b1", "b2", "rejects1", "b3", "b4"]:
        writer.add(unit)
    writer.close()
    assert log.applied == [
        ("b0", "done b0"),
        ("rejects0", None),
        ("b1", "done b1"),
        ("b2", "done b2"),
        ("rejects1", None),
        ("b3", "done b3"),
        ("b4", "done b4"),
    ]
    assert [unit for what, unit in log.events if what == "commit"] == ["b0", "b1", "b2", "b3", "b4"]
    assert [unit for what, unit in log.events if what == "resolve"] == [
        "b0",
        "b1",
        "b2",
        "b3",
        "b4",
    ]
    assert log.most_running == 2


def test_a_dependent_batch_starts_after_the_one_before_has_committed():
    log = _Log(dependent={"b2"})
    writer = log.writer()
    for unit in ["b0", "b1", "b2"]:
        writer.add(unit)
    writer.close()
    events = log.events
    assert events.index(("commit", "b1")) < events.index(("resolve", "b2"))


def test_a_failed_batch_rolls_back_the_one_in_flight_after_it_and_is_raised():
    log = _Log(fail="b1")
    writer = log.writer()
    with pytest.raises(RuntimeError, match="b1 failed"):
        for unit in ["b0", "rejects0", "b1", "b2", "b3"]:
            writer.add(unit)
        writer.close()
    assert ("commit", "b2") not in log.events and ("commit", "b3") not in log.events
    # What came before the failed batch is applied, as one writer would have: its lines' rejects.
    assert log.applied == [("b0", "done b0"), ("rejects0", None), ("b1", None)]
    assert not [t for t in threading.enumerate() if t.name == "import-write"]


def test_abandon_after_the_callers_error_lets_the_batches_in_flight_commit():
    log = _Log()
    writer = log.writer()
    writer.add("b0")
    writer.add("b1")
    assert writer.abandon() is None  # e.g. the parser failed on the next block
    assert log.applied == [("b0", "done b0"), ("b1", "done b1")]


def test_cancelled_is_what_a_batch_after_a_failure_raises():
    first = Turn("b0")
    first.error = RuntimeError("b0 failed")
    first.finished.set()
    with pytest.raises(Cancelled):
        Turn("b1", previous=first).before_commit()
