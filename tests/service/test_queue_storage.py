"""The SQLite queue storage: Huey's semantics kept while its writes got cheaper and fairer."""

from __future__ import annotations

import threading

from huey.constants import EmptyData

from nextshow.config import Settings
from nextshow.service.queue import make_huey


def _huey(tmp_path):
    settings = Settings(home=tmp_path, queue_url=f"sqlite:///{tmp_path / 'queue.db'}")
    return make_huey(settings, name="test")


def test_pop_data_reads_before_it_writes(tmp_path):
    huey = _huey(tmp_path)
    storage = huey.storage
    assert storage.pop_data("absent") is EmptyData
    storage.put_data("present", b"value")
    assert bytes(storage.pop_data("present")) == b"value"
    assert storage.pop_data("present") is EmptyData  # popped: gone


def test_writes_from_many_threads_all_land(tmp_path):
    # Every write transaction holds the cross-process guard on <queue>-writelock.
    huey = _huey(tmp_path)
    storage = huey.storage

    def enqueue(n: int) -> None:
        for i in range(50):
            storage.enqueue(f"{n}-{i}".encode())

    threads = [threading.Thread(target=enqueue, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (tmp_path / "queue.db-writelock").exists()
    assert storage.queue_size() == 200
    taken = {bytes(storage.dequeue()) for _ in range(200)}
    assert len(taken) == 200 and storage.dequeue() is None
