"""``nextshow serve``'s queue worker as a child process (the default).

In the API's own process the worker threads and the event loop take turns on one GIL: under
load each slows the other, and a two-core machine runs like a one-core one. A child process
(``nextshow worker``, the same settings from the environment) uses the second core. The child
dies with its parent: on Linux it asks the kernel for SIGTERM when the parent exits, and the
parent stops it gracefully (SIGINT: finish the running tasks) when it shuts down.

:class:`WorkerSupervisor` restarts the child when it dies (a crash, the OOM killer, ``kill -9``),
with exponential back-off and a log line each time; the restarts are counted for ``/metrics``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent still stops it on a clean exit
        pass


def start_worker_process(threads: int | None = None) -> subprocess.Popen[bytes]:
    """Start ``nextshow worker`` (same interpreter, environment and output streams)."""
    args = [sys.executable, "-m", "nextshow.cli", "worker"]
    if threads is not None:
        args += ["--threads", str(threads)]
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(args, env=os.environ.copy(), preexec_fn=preexec)


def stop_worker_process(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Stop gracefully (SIGINT lets Huey finish running tasks), then kill after ``timeout``."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("worker process %d did not stop within %.0f s: killing it", proc.pid, timeout)
        proc.kill()
        proc.wait()


class WorkerSupervisor:
    """Keeps one worker child running: restarts it when it exits, waiting longer each time.

    The back-off starts at ``first_backoff`` seconds, doubles per restart up to ``max_backoff``,
    and resets once a child has lived ``stable_after`` seconds, so a crash loop cannot spin
    while an occasional death is repaired at once. ``on_restart(count)`` runs after each restart.
    """

    def __init__(
        self,
        threads: int | None = None,
        *,
        max_backoff: float = 30.0,
        first_backoff: float = 1.0,
        stable_after: float = 60.0,
        on_restart: Callable[[int], object] | None = None,
    ) -> None:
        self._threads = threads
        self._max_backoff = max_backoff
        self._first_backoff = first_backoff
        self._stable_after = stable_after
        self._on_restart = on_restart
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._started = 0.0

    def start(self) -> subprocess.Popen[bytes]:
        with self._lock:
            self.proc = start_worker_process(self._threads)
            self._started = time.monotonic()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
        self._thread.start()
        return self.proc

    def _watch(self) -> None:
        backoff = self._first_backoff
        while not self._stop.is_set():
            proc = self.proc
            assert proc is not None
            try:
                code = proc.wait(timeout=0.5)  # also reaps the child: no zombie
            except subprocess.TimeoutExpired:
                continue
            if self._stop.is_set():
                return
            lived = time.monotonic() - self._started
            if lived >= self._stable_after:
                backoff = self._first_backoff
            log.warning(
                "worker process %d exited with code %s after %.1f s; restarting in %.1f s",
                proc.pid,
                code,
                lived,
                backoff,
            )
            if self._stop.wait(backoff):
                return
            with self._lock:
                if self._stop.is_set():
                    return
                self.proc = start_worker_process(self._threads)
                self._started = time.monotonic()
                self.restarts += 1
            log.warning("worker process %d started (restart %d)", self.proc.pid, self.restarts)
            if self._on_restart is not None:
                try:
                    self._on_restart(self.restarts)
                except Exception:  # counting must never stop the supervision
                    log.warning("could not record the worker restart", exc_info=True)
            backoff = min(backoff * 2, self._max_backoff)

    def stop(self) -> None:
        """Stop supervising, then stop the child gracefully."""
        self._stop.set()
        with self._lock:
            proc = self.proc
        if self._thread is not None:
            self._thread.join(timeout=5)
        if proc is not None:
            stop_worker_process(proc)
