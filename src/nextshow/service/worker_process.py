"""``nextshow serve``'s queue worker as a child process (the default).

In the API's own process the worker threads and the event loop take turns on one GIL: under
load each slows the other, and a two-core machine runs like a one-core one. A child process
(``nextshow worker``, the same settings from the environment) uses the second core. The child
dies with its parent: on Linux it asks the kernel for SIGTERM when the parent exits, and the
parent stops it gracefully (SIGINT: finish the running tasks) when it shuts down.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys

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
