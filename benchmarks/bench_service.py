"""Service benchmark on loopback: sync latency and max rate, async POST -> done, peak RSS.

    .venv/bin/python benchmarks/bench_service.py [--home DIR] [--seconds 4]

Without ``--home`` it builds a store in a temporary folder (``nextshow demo`` and an item kNN
model, promoted). It starts ``nextshow serve`` (API + embedded worker, the SQLite default) and
drives it with an open-loop generator (requests are sent on a fixed schedule, whether or not
earlier ones have answered, so queueing shows in the latency). Load generator and server share
the machine's cores: the figures are a floor for a dedicated server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TITLES = [
    "The Dark Knight",
    "Inception",
    "The Dark Knight Rises",
    "Now You See Me",
    "Man of Steel",
    "Pacific Rim",
    "Batman Begins",
    "Star Trek Into Darkness",
    "The Conjuring",
    "Iron Man 3",
    "The Wolverine",
    "The Great Gatsby (2013)",
]


def _cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "nextshow.cli", *args], env=env, check=True)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _open_loop(rate: float, seconds: float, call) -> list[float]:
    """Start ``call()`` every 1/rate s for ``seconds``; latencies in ms of those that finished."""
    latencies: list[float] = []
    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(call(latencies)))
    await asyncio.gather(*tasks)
    return latencies


async def bench(base: str, seconds: float) -> dict[str, object]:
    rng = random.Random(1)
    out: dict[str, object] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def sync_call(latencies: list[float]) -> None:
            shows = rng.sample(TITLES, rng.randint(1, 3))
            t0 = time.perf_counter()
            response = await client.get("/api/recommendations", params={"show": shows})
            latencies.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.text

        for _ in range(50):  # warm up
            await sync_call([])
        rates = []
        for rate in (50, 100, 200, 300, 400, 600, 800):
            lat = await _open_loop(rate, seconds, sync_call)
            p50, p99 = _pct(lat, 0.5), _pct(lat, 0.99)
            rates.append((rate, p50, p99))
            print(f"  sync {rate:4d} req/s: p50 {p50:6.2f} ms  p99 {p99:7.2f} ms", flush=True)
            if p99 >= 20:
                break
        ok = [r for r in rates if r[2] < 20]
        out["sync"] = rates
        out["max_rate"] = max((r[0] for r in ok), default=0)

        async def async_call(latencies: list[float]) -> None:
            shows = rng.sample(TITLES, rng.randint(1, 3))
            t0 = time.perf_counter()
            response = await client.post("/api/predictions", json={"shows": shows})
            assert response.status_code == 202, response.text
            url = response.json()["status_url"]
            while True:
                await asyncio.sleep(0.02)  # a brisk client; faster polling floods 2 cores
                body = (await client.get(url)).json()
                if body["status"] != "pending":
                    assert body["status"] == "done", body
                    break
            latencies.append((time.perf_counter() - t0) * 1000)

        lat = await _open_loop(50, seconds * 2, async_call)
        out["async"] = (_pct(lat, 0.5), _pct(lat, 0.99), len(lat))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="A trained NEXTSHOW_HOME (default: build one).")
    parser.add_argument("--seconds", type=float, default=4.0, help="Seconds per load step.")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="nextshow-bench-"))
    env = {
        **os.environ,
        "NEXTSHOW_HOME": str(home),
        "NEXTSHOW_PROGRESS": "false",
        "NEXTSHOW_RATE_LIMIT_PER_MINUTE": "0",
    }
    env.pop("NEXTSHOW_DATABASE_URL", None)
    env.pop("NEXTSHOW_QUEUE_URL", None)
    if args.home is None:
        _cli("demo", env=env)
        _cli("train", "--model", "itemknn", "--no-tune", "--promote", env=env)
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nextshow.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        ready = httpx.get(f"{base}/readyz").json()["model"]
        print(f"nextshow serve (API + embedded worker, SQLite) on {os.cpu_count()} cores")
        print(f"model: version {ready['version']} ({ready['name']})")
        result = asyncio.run(bench(base, args.seconds))
        rss = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    p50, p99, count = result["async"]  # type: ignore[misc]
    print()
    print(f"{'measure':44s} {'nextshow':>14s}   original")
    print(f"{'sync recommendations: max rate, p99 < 20 ms':44s} {result['max_rate']:>8} req/s   -")
    best = [r for r in result["sync"] if r[0] == result["max_rate"]]  # type: ignore[union-attr]
    if best:
        print(f"{'  p50 / p99 at that rate':44s} {best[0][1]:5.1f} / {best[0][2]:4.1f} ms   -")
    print(
        f"{'async POST -> done at 50 req/s: p50 / p99':44s} {p50:5.0f} / {p99:4.0f} ms"
        f"   often more than 30 s"
    )
    print(f"{'  predictions completed':44s} {count:>8d}")
    print(f"{'peak RSS, API + worker process':44s} {rss:8.0f} MB   -")
    print(
        f"(median of all sync steps p50: {statistics.median(r[1] for r in result['sync']):.2f} ms)"
    )  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
