"""Shared benchmark helpers: run one measured step in a fresh, memory-capped child process.

Why a child process per step: peak RSS is a high-water mark for a whole process, so the only honest
"memory to fit" or "memory to load and serve" is the peak of a process that did only that. Why a
cap: the machine (2 cores, 24 GiB) is shared with other test runs, and the original method's dense
pivot can ask for more than a dozen GiB; ``RLIMIT_AS`` makes such a step fail with MemoryError
inside the child instead of pushing the whole machine into the OOM killer.

Protocol: the parent calls :func:`run_child` with a JSON task; the child (the same benchmark script
run with ``--child``) reads the task, does the work, and writes one JSON object to the result file.
The parent adds the child's peak RSS as the kernel reports it (``wait4``), which stays right even
when the child dies mid-step.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

GIB = 1 << 30
MIB = 1 << 20
DEFAULT_CAP = 6 * GIB
REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"


def set_memory_cap(cap_bytes: int) -> None:
    """Cap this process's address space; allocations beyond it raise MemoryError (no OOM kill)."""
    resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "–"
    if n >= GIB:
        return f"{n / GIB:.2f} GiB"
    return f"{n / MIB:.0f} MiB"


@dataclass
class ChildResult:
    """What a child reported plus what the kernel says about it."""

    ok: bool
    peak_rss: int  # bytes, ru_maxrss of the child (whole life, including a failed step)
    wall_s: float
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # "MemoryError at step pivot under cap 4.00 GiB", "timeout", ...


def run_child(
    script: Path,
    task: dict[str, Any],
    *,
    cap_bytes: int = DEFAULT_CAP,
    timeout_s: float = 900.0,
    threads: int = 2,
) -> ChildResult:
    """Run ``python script --child TASKFILE`` under an address-space cap; wait, measure, collect.

    The cap is set in the child before Python starts (``preexec_fn``), so even imports count.
    BLAS threads are pinned to ``threads``: with no limit OpenBLAS reserves per-core buffers that
    eat into the address-space cap and the shared machine's cores alike.
    """
    with tempfile.TemporaryDirectory(prefix="nextshow-bench-") as tmp:
        task_file = Path(tmp) / "task.json"
        result_file = Path(tmp) / "result.json"
        task = {**task, "result_file": str(result_file), "cap_bytes": cap_bytes}
        task_file.write_text(json.dumps(task))
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(threads),
            "OPENBLAS_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(script.parent)]),
        }
        start = time.perf_counter()
        with open(Path(tmp) / "stderr.txt", "wb") as err_fh:
            proc = subprocess.Popen(
                [sys.executable, str(script), "--child", str(task_file)],
                stdout=subprocess.DEVNULL,
                stderr=err_fh,
                env=env,
                preexec_fn=lambda: set_memory_cap(cap_bytes),
            )
            status, rusage = _wait(proc, timeout_s)
        wall = time.perf_counter() - start
        peak = rusage.ru_maxrss * 1024  # Linux reports kilobytes
        stderr = (Path(tmp) / "stderr.txt").read_text(errors="replace")
        data: dict[str, Any] = {}
        if result_file.is_file():
            data = json.loads(result_file.read_text())
        if status is None:
            return ChildResult(False, peak, wall, data, f"timeout after {timeout_s:.0f} s")
        if data.get("error"):
            return ChildResult(False, peak, wall, data, data["error"])
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or "done" not in data:
            tail = stderr.strip().splitlines()[-3:]
            how = (
                f"killed by signal {os.WTERMSIG(status)}"
                if os.WIFSIGNALED(status)
                else f"exit status {os.WEXITSTATUS(status)}"
            )
            return ChildResult(False, peak, wall, data, f"{how}: {' | '.join(tail)}")
        return ChildResult(True, peak, wall, data)


def _wait(proc: subprocess.Popen[bytes], timeout_s: float) -> tuple[int | None, Any]:
    """wait4 the child (for its own rusage, not the sum of all children); kill it on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = status  # Popen must not wait for a pid that is gone
            return status, rusage
        if time.monotonic() > deadline:
            os.kill(proc.pid, signal.SIGKILL)
            _, _, rusage = os.wait4(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            return None, rusage
        time.sleep(0.05)


class Steps:
    """Child side: record named, timed steps; on MemoryError report which step hit the cap."""

    def __init__(self, task: dict[str, Any]) -> None:
        self.task = task
        self.out: dict[str, Any] = {"steps": {}}
        self.current = "start"

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.current = name
        start = time.perf_counter()
        yield
        self.out["steps"][name] = time.perf_counter() - start

    def rss_now(self, key: str) -> None:
        """Record the process's high-water mark so far (e.g. after loading data, before fit)."""
        self.out[key] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def finish(self, error: str | None = None) -> None:
        if error is None:
            self.out["done"] = True
        else:
            self.out["error"] = error
        Path(self.task["result_file"]).write_text(json.dumps(self.out))


def child_main(handlers: dict[str, Callable[[dict[str, Any], Steps], None]]) -> None:
    """Entry point of ``script --child TASKFILE``: dispatch on task["kind"], report any failure."""
    task = json.loads(Path(sys.argv[2]).read_text())
    steps = Steps(task)
    try:
        handlers[task["kind"]](task, steps)
    except MemoryError:
        # Drop what we can so writing the report itself does not fail under the cap.
        steps.finish(
            f"MemoryError at step {steps.current} under cap {fmt_bytes(task['cap_bytes'])}"
        )
        sys.exit(3)
    except Exception as err:  # reported to the parent, then re-raised for the traceback
        steps.finish(f"{type(err).__name__} at step {steps.current}: {err}")
        traceback.print_exc()
        sys.exit(4)
    steps.finish()


# ---------------------------------------------------------------- data files shared with children
def save_likes(path: Path, likes: sp.csr_matrix, times: sp.csr_matrix) -> None:
    """The likes and timestamps CSR (users x shows) as plain arrays; children load them fast."""
    np.savez(
        path,
        indptr=likes.indptr,
        indices=likes.indices,
        data=likes.data,
        times=times.data,
        shape=np.asarray(likes.shape, dtype=np.int64),
    )


def load_likes(path: Path) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    with np.load(path, allow_pickle=False) as npz:
        shape = tuple(int(s) for s in npz["shape"])
        indptr, indices = npz["indptr"], npz["indices"]
        likes = sp.csr_matrix((npz["data"], indices, indptr), shape=shape)
        times = sp.csr_matrix((npz["times"], indices.copy(), indptr.copy()), shape=shape)
    return likes, times


def dir_size(path: Path) -> int:
    """Bytes on disk of a file or of every file under a directory."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def serve_requests(
    requests: list[Any], answer: Callable[[Any], int], warmup: int = 20, repeats: int = 3
) -> dict[str, float]:
    """Answer every request ``repeats`` times (after ``warmup`` untimed ones); percentiles in ms.

    Three views of one run, because the machine is shared (2 cores, other test runs):
    - ``p50_ms``/``p99_ms``: per request the fastest of ``repeats`` wall times, as
      bench_search.py does: the minimum strips time spent waiting for a core;
    - ``p99_single_ms``: the first answer's wall time, what a caller saw on this busy machine;
    - ``p99_cpu_ms``: the first answer's CPU time in this process (scheduler waits left out).
    ``answer`` returns the number of results; an empty answer is an error, not a fast request.
    """
    gc.collect()  # do not bill the requests for garbage left by loading
    for request in requests[:warmup]:
        answer(request)
    wall = np.empty((repeats, len(requests)))
    cpu = np.empty(len(requests))
    for rep in range(repeats):
        for i, request in enumerate(requests):
            w0, c0 = time.perf_counter(), time.process_time()
            n = answer(request)
            c1 = time.process_time()
            wall[rep, i] = time.perf_counter() - w0
            if rep == 0:
                cpu[i] = c1 - c0
            if n == 0:
                raise RuntimeError(f"empty answer for request {request!r}")
    best = wall.min(axis=0) * 1000.0
    return {
        "p50_ms": float(np.percentile(best, 50)),
        "p99_ms": float(np.percentile(best, 99)),
        "p99_single_ms": float(np.percentile(wall[0] * 1000.0, 99)),
        "p99_cpu_ms": float(np.percentile(cpu * 1000.0, 99)),
    }


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
