"""CPU per synchronous recommendation request in-process, beside the popularity fallback.

    .venv/bin/python benchmarks/bench_sync_path.py [--home DIR] [--requests 500] [--repeats 7]
        [--model itemknn|ranker|...]

Without ``--home`` it builds a store in a temporary folder (``nextshow demo`` and a ``--model``
model, item kNN by default, untuned and promoted), as ``bench_service.py`` does. The app is
built by ``create_app`` and its lifespan run; each request is then one call of the ASGI app from
an asyncio loop in this process (``GET /api/recommendations`` with 1-3 of ``bench_service.py``'s
titles, seeded): no socket, no server, no load generator, so the figure is the app's own CPU per
request (routing, validation, matching, the model call, the response) and holds on a shared
machine where the loopback benchmark's latencies do not. Each step is the fastest and the median
of ``--repeats`` passes over ``--requests`` requests (process CPU time; the fastest strips time
lost to other processes' cache pressure).

The peer is the same app answering from the popularity fallback (a precomputed list: no model
call), so ``served - fallback`` is about the model's share and ``fallback`` the rest of the path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).parent))
from bench_service import TITLES


def _queries(count: int) -> list[bytes]:
    rng = random.Random(1)
    return [
        urlencode({"show": rng.sample(TITLES, rng.randint(1, 3))}, doseq=True).encode()
        for _ in range(count)
    ]


async def _call(app: Any, query: bytes) -> None:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/recommendations", "raw_path": b"/api/recommendations",
        "query_string": query, "headers": [(b"host", b"bench")], "root_path": "",
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if sent[0]["status"] != 200:
        raise RuntimeError(f"status {sent[0]['status']}: {sent[-1].get('body', b'')[:300]!r}")


def _measure(app: Any, queries: list[bytes], repeats: int) -> tuple[float, float]:
    """(fastest, median) CPU milliseconds per request over ``repeats`` passes."""

    async def one_pass() -> None:
        for query in queries:
            await _call(app, query)

    asyncio.run(one_pass())  # warm up: caches, lazily built parts
    per_request = []
    for _ in range(repeats):
        started = time.process_time()
        asyncio.run(one_pass())
        per_request.append((time.process_time() - started) / len(queries) * 1000)
    return min(per_request), statistics.median(per_request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="A trained NEXTSHOW_HOME (default: build one).")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--model",
        default="itemknn",
        help="The model to train and serve (itemknn: the first start's; ranker: the full choice's "
        "on the demo)",
    )
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-sync-"))
    os.environ.update(
        NEXTSHOW_HOME=str(home), NEXTSHOW_PROGRESS="false", NEXTSHOW_RATE_LIMIT_PER_MINUTE="0",
        NEXTSHOW_MODEL_POLL_SECONDS="3600",  # the fallback step must not be swapped back
    )  # fmt: skip
    os.environ.pop("NEXTSHOW_DATABASE_URL", None)
    if args.home is None:
        for cmd in (["demo"], ["train", "--model", args.model, "--no-tune", "--promote"]):
            subprocess.run([sys.executable, "-m", "nextshow.cli", *cmd], check=True)

    from fastapi.testclient import TestClient

    from nextshow.config import Settings
    from nextshow.service.app import create_app

    app = create_app(Settings())
    queries = _queries(args.requests)
    with TestClient(app):  # runs the lifespan: services, title index, model holder
        holder = app.state.services.holder
        served = holder.current
        print(f"GET /api/recommendations in-process, {args.requests} requests x {args.repeats}")
        print(f"{'answered by':<34} {'fastest':>9} {'median':>9}  (CPU ms per request)")
        fastest, median = _measure(app, queries, args.repeats)
        print(f"{served.name + ' (served model)':<34} {fastest:>9.3f} {median:>9.3f}", flush=True)
        holder._swap(holder._build_fallback())  # the peer: same app, no model call
        peer_fastest, peer_median = _measure(app, queries, args.repeats)
        print(f"{'popularity fallback':<34} {peer_fastest:>9.3f} {peer_median:>9.3f}")
        print(f"{'served - fallback':<34} {fastest - peer_fastest:>9.3f}")


if __name__ == "__main__":
    main()
