"""Service benchmark on loopback: sync latency and max rate, async POST -> done, peak RSS.

    .venv/bin/python benchmarks/bench_service.py [--home DIR] [--seconds 4]
        [--worker-mode process|thread] [--async-rates 50,150,250] [--no-sync] [--poll long|short]
        [--no-prefer-wait] [--model itemknn|ranker|...]
    .venv/bin/python benchmarks/bench_service.py --postgres URL --redis URL \
        [--api-processes 2] [--worker-processes 2] ...

Without ``--home`` (or with an empty one) it builds a store in a temporary folder (``nextshow
demo`` and a ``--model`` model, item kNN by default, untuned and promoted). It starts ``nextshow
serve`` (API + worker, the SQLite default; the worker is a child process unless ``--worker-mode
thread``), or with ``--postgres`` and ``--redis`` the scale configuration (a fresh schema; N
``serve --no-worker`` processes that the async clients use in turn, as a load balancer would,
and N ``nextshow worker`` processes), and drives it with an open-loop generator (requests are
sent on a fixed schedule, whether or not earlier ones have answered, so queueing shows in the
latency). Load generator and server share the machine's cores: the figures are a floor for a
dedicated server. The generator is a minimal HTTP/1.1 client on asyncio (uvloop when installed)
with a pool of keep-alive connections: a general-purpose client costs 1-2 ms of CPU per request,
which at a few hundred requests/s takes the cores the server is measured on. Each step prints
the rate actually achieved (requests started / schedule length) beside the target.

Async steps: each client POSTs, then (``--poll long``, the default) long-polls its status URL with
``?wait=10`` until done, or (``--poll short``) polls it every 20 ms; right after, the same rate
again with POSTs that send ``Prefer: wait=10`` (RFC 7240: the POST answers 200 with the
prediction once it is done, one request instead of two; a 202 is polled as above), unless
``--no-prefer-wait``. One step per ``--async-rates`` entry and way, 2 x ``--seconds`` long,
after 1 s of untimed warm-up per way. Each prints
p50/p99 from POST to done, the completions per second of wall time, and the CPU milliseconds
per prediction of the API process(es), the worker process(es) and the load generator (from
/proc: steadier than latency on a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

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


# How async clients ask (--no-prefer-wait leaves out the second): the label of each way.
WAYS = {"poll": "POST + GET", "prefer": "Prefer: wait"}
PREFER_WAIT = "Prefer: wait=10\r\n"


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


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class HttpClient:
    """Just enough HTTP/1.1 for the benchmark: keep-alive connections reused from a pool."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._all: list[asyncio.StreamWriter] = []

    async def request(
        self, method: str, target: str, body: object = None, headers: str = ""
    ) -> tuple[int, bytes]:
        """``headers``: extra header lines, each ending in CRLF."""
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n{headers}"
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        message = head.encode() + b"\r\n" + payload
        while self._idle:  # a pooled connection the server closed (keep-alive timeout): next
            reader, writer = self._idle.pop()
            try:
                return await self._exchange(reader, writer, message)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._all.append(writer)
        return await self._exchange(reader, writer, message)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes
    ) -> tuple[int, bytes]:
        writer.write(message)
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("closed by the server")
        status = int(status_line.split()[1])
        length, chunked = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if chunked:
            parts = []
            while size := int((await reader.readline()).strip(), 16):
                parts.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            data = b"".join(parts)
        else:
            data = await reader.readexactly(length)
        self._idle.append((reader, writer))
        return status, data

    async def close(self) -> None:
        for writer in self._all:
            writer.close()


async def _open_loop(rate: float, seconds: float, call) -> tuple[list[float], float]:
    """Start ``call()`` every 1/rate s for ``seconds``; latencies in ms of those that finished,
    and the rate achieved (requests started per second of schedule)."""
    latencies: list[float] = []
    tasks = []
    count = int(rate * seconds)
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(call(latencies)))
    achieved = count / max(time.perf_counter() - start, (count - 1) / rate, 1e-9)
    await asyncio.gather(*tasks)
    return latencies, achieved


async def bench(
    ports: list[int],
    seconds: float,
    async_rates: list[int],
    sync: bool = True,
    groups: dict[str, list[int]] | None = None,
    poll: str = "long",
    ways: tuple[str, ...] = ("poll", "prefer"),
) -> dict[str, object]:
    """The sync steps on the first port; async POSTs spread over every port, round robin (as a
    load balancer would), each polled on the API that took it. Each async rate runs once per
    way, back to back: ``poll`` (POST, then GET the status URL until done) and ``prefer`` (POST
    with ``Prefer: wait=10``; polled as ``poll`` only when the POST answers 202)."""
    rng = random.Random(1)
    out: dict[str, object] = {"sync": []}
    clients = [HttpClient("127.0.0.1", port) for port in ports]
    client = clients[0]
    turn = iter(range(1 << 62))
    try:

        async def sync_call(latencies: list[float]) -> None:
            shows = rng.sample(TITLES, rng.randint(1, 3))
            target = "/api/recommendations?" + urlencode({"show": shows}, doseq=True)
            t0 = time.perf_counter()
            status, data = await client.request("GET", target)
            latencies.append((time.perf_counter() - t0) * 1000)
            assert status == 200, data

        for _ in range(50):  # warm up
            await sync_call([])
        rates = []
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for rate in (50, 100, 200, 300, 400, 600, 800) if sync else ():
            lat, achieved = await _open_loop(rate, seconds, sync_call)
            p50, p99 = _pct(lat, 0.5), _pct(lat, 0.99)
            rates.append((rate, p50, p99))
            print(
                f"  sync {rate:4d} req/s (achieved {achieved:5.0f}): p50 {p50:6.2f} ms"
                f"  p99 {p99:7.2f} ms",
                flush=True,
            )
            if p99 >= 20:
                break
        out["client_cpu"] = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9)
        ok = [r for r in rates if r[2] < 20]
        out["sync"] = rates
        out["max_rate"] = max((r[0] for r in ok), default=0)

        async def async_call(latencies: list[float], way: str) -> None:
            shows = rng.sample(TITLES, rng.randint(1, 3))
            client = clients[next(turn) % len(clients)]
            prefer = PREFER_WAIT if way == "prefer" else ""
            t0 = time.perf_counter()
            status, data = await client.request(
                "POST", "/api/predictions", {"shows": shows}, prefer
            )
            if status == 503:  # connection limit reached (overload): counted, not fatal
                refused.append(1)
                return
            if status == 200:  # settled within Prefer: wait: the answer, in one request
                assert json.loads(data)["status"] == "done", data
                latencies.append((time.perf_counter() - t0) * 1000)
                return
            assert status == 202, data
            url = json.loads(data)["status_url"]
            if poll == "long":
                url += "?wait=10"
            while True:
                if poll == "short" or status == 503:  # a long-poll refused: no busy loop
                    await asyncio.sleep(0.02)  # a brisk client; faster polling floods 2 cores
                status, data = await client.request("GET", url)
                if status == 503:
                    continue
                assert status == 200, (status, data)
                body = json.loads(data)
                if body["status"] != "pending":
                    assert body["status"] == "done", body
                    break
            latencies.append((time.perf_counter() - t0) * 1000)

        refused: list[int] = []

        # Warm up both processes (title matching, the worker's model and queries), untimed.
        for way in ways:
            await _open_loop(min(async_rates, default=50), 1.0, partial(async_call, way=way))
        out["async"] = []
        behind: set[str] = set()  # ways whose last step fell far behind
        for rate in async_rates:
            for way in ways:
                if way in behind:
                    continue
                pids = groups or {}
                cpu0 = {name: sum(map(_cpu_seconds, p)) for name, p in pids.items()}
                refused.clear()
                client0 = time.process_time()
                t0 = time.perf_counter()
                lat, achieved = await _open_loop(rate, seconds * 2, partial(async_call, way=way))
                done_rate = len(lat) / (time.perf_counter() - t0)
                p50, p99 = _pct(lat, 0.5), _pct(lat, 0.99)
                cpu = {name: sum(map(_cpu_seconds, p)) - cpu0[name] for name, p in pids.items()}
                cpu["load generator"] = time.process_time() - client0
                per = {k: v / max(len(lat), 1) * 1000 for k, v in cpu.items()}
                out["async"].append((way, rate, p50, p99, len(lat), achieved, done_rate, per))
                print(
                    f"  async {WAYS[way]:14s} {rate:4d} req/s (achieved {achieved:5.0f}): "
                    f"p50 {p50:6.0f} ms  p99 {p99:6.0f} ms  completed {len(lat)} "
                    f"({done_rate:.0f}/s over the run)"
                    + (f", {len(refused)} POSTs refused (503)" if refused else ""),
                    flush=True,
                )
                costs = ", ".join(f"{k} {v:.2f}" for k, v in per.items())
                print(f"    CPU ms per prediction: {costs}", flush=True)
                if p99 >= 10_000:  # far behind: a higher rate only queues more
                    behind.add(way)
    finally:
        for each in clients:
            await each.close()
    return out


def _wait_ready(base: str, procs: list[subprocess.Popen[bytes]]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while True:
        try:
            ready = httpx.get(f"{base}/readyz", timeout=1)
            if ready.status_code == 200:
                return ready.json()
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit("server did not start")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="A trained NEXTSHOW_HOME (default: build one).")
    parser.add_argument("--seconds", type=float, default=4.0, help="Seconds per load step.")
    parser.add_argument(
        "--worker-mode",
        choices=("process", "thread"),
        default="process",
        help="nextshow serve --worker-mode: a worker child process, or threads in the API.",
    )
    parser.add_argument(
        "--async-rates",
        default="50",
        help="POST rates of the async steps, comma-separated (each 2 x --seconds; the steps "
        "stop at the first p99 >= 10 s).",
    )
    parser.add_argument("--no-sync", action="store_true", help="Skip the sync steps.")
    parser.add_argument(
        "--poll",
        choices=("long", "short"),
        default="long",
        help="How async clients wait: GET ?wait=10 until done (long), or GET every 20 ms.",
    )
    parser.add_argument(
        "--no-prefer-wait",
        action="store_true",
        help="Async clients only POST, then GET the status URL (--poll) until done; by default "
        "each rate also runs with POSTs that send Prefer: wait=10 (one request when the "
        "answer is ready within 10 s), right after.",
    )
    parser.add_argument(
        "--postgres",
        help="Scale configuration: this PostgreSQL (a fresh schema) with --redis, "
        "--api-processes x `serve --no-worker` and --worker-processes x `nextshow worker`.",
    )
    parser.add_argument("--redis", help="Queue URL for the scale configuration.")
    parser.add_argument(
        "--model",
        default="itemknn",
        help="The model to train and serve in a built home (itemknn: the first start's; ranker: "
        "the full choice's on the demo)",
    )
    parser.add_argument("--api-processes", type=int, default=2)
    parser.add_argument("--worker-processes", type=int, default=2)
    args = parser.parse_args()
    if bool(args.postgres) != bool(args.redis):
        parser.error("--postgres and --redis go together")
    home = args.home or Path(tempfile.mkdtemp(prefix="nextshow-bench-"))
    env = {
        **os.environ,
        "NEXTSHOW_HOME": str(home),
        "NEXTSHOW_PROGRESS": "false",
        "NEXTSHOW_RATE_LIMIT_PER_MINUTE": "0",
    }
    env.pop("NEXTSHOW_DATABASE_URL", None)
    env.pop("NEXTSHOW_QUEUE_URL", None)
    drop = None
    if args.postgres:
        from bench_import import _pg_schema

        env["NEXTSHOW_DATABASE_URL"], drop = _pg_schema(args.postgres)
        env["NEXTSHOW_QUEUE_URL"] = args.redis
        env["NEXTSHOW_QUEUE_NAME"] = f"bench-{os.getpid()}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if args.postgres or not any(home.glob("*.db")):  # an empty home: build one
            _cli("demo", env=env)
            _cli("train", "--model", args.model, "--no-tune", "--promote", env=env)
        ports = []
        quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        cli = (sys.executable, "-m", "nextshow.cli")
        if args.postgres:
            for _ in range(args.api_processes):
                ports.append(_port())
                procs.append(
                    subprocess.Popen(
                        [*cli, "serve", "--port", str(ports[-1]), "--no-worker"], **quiet
                    )
                )
            for _ in range(args.worker_processes):
                procs.append(subprocess.Popen([*cli, "worker"], **quiet))
            where = (
                f"{args.api_processes} API + {args.worker_processes} worker processes, "
                "PostgreSQL + Redis"
            )
        else:
            ports.append(_port())
            procs.append(
                subprocess.Popen(
                    [*cli, "serve", "--port", str(ports[0]), "--worker-mode", args.worker_mode],
                    **quiet,
                )
            )
            kind = "a child process" if args.worker_mode == "process" else "threads in the API"
            where = f"API + worker as {kind}, SQLite"
        for port in ports:
            ready = _wait_ready(f"http://127.0.0.1:{port}", procs)["model"]
        print(f"nextshow serve ({where}) on {os.cpu_count()} cores")
        print(f"model: version {ready['version']} ({ready['name']})")
        how = "GET ?wait=10 until done" if args.poll == "long" else "GET every 20 ms"
        ways = ("poll",) if args.no_prefer_wait else ("poll", "prefer")
        print(f"async clients: POST, then --poll {args.poll} ({how})")
        if "prefer" in ways:
            print("  and, each rate right after: POST with Prefer: wait=10 (then --poll on a 202)")
        rates = [int(r) for r in args.async_rates.split(",") if r]
        if args.postgres:
            groups = {
                "API": [p.pid for p in procs[: args.api_processes]],
                "workers": [p.pid for p in procs[args.api_processes :]],
            }
        else:
            groups = {"API": [procs[0].pid], "worker": _children(procs[0].pid)}
        run = bench(
            ports,
            args.seconds,
            rates,
            sync=not args.no_sync,
            groups=groups,
            poll=args.poll,
            ways=ways,
        )
        try:
            import uvloop
        except ImportError:
            result = asyncio.run(run)
        else:
            result = uvloop.run(run)
        pids = [p.pid for p in procs] + [c for p in procs for c in _children(p.pid)]
        rss = sum(_peak_rss_mb(pid) for pid in pids)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        if drop is not None:
            drop()
    print()
    print(f"{'measure':52s} {'nextshow':>14s}   original")
    if result["sync"]:
        print(
            f"{'sync recommendations: max rate, p99 < 20 ms':52s} {result['max_rate']:>8} req/s   -"
        )
        best = [r for r in result["sync"] if r[0] == result["max_rate"]]  # type: ignore[union-attr]
        if best:
            print(f"{'  p50 / p99 at that rate':52s} {best[0][1]:5.1f} / {best[0][2]:4.1f} ms   -")
    for way, rate, p50, p99, count, achieved, done_rate, per in result["async"]:  # type: ignore[union-attr]
        label = f"async {WAYS[way]} -> done at {rate} req/s: p50 / p99"
        print(f"{label:52s} {p50:5.0f} / {p99:4.0f} ms   often more than 30 s")
        print(
            f"{'  completed (achieved POST rate; done/s)':52s} {count:>8d}"
            f"   ({achieved:.0f} req/s; {done_rate:.0f}/s)"
        )
        costs = " + ".join(f"{v:.2f}" for k, v in per.items() if k != "load generator")
        names = " + ".join(k for k in per if k != "load generator")
        print(f"{'  CPU ms per prediction, ' + names:52s} {costs}")
    print(f"{'peak RSS, all server processes':52s} {rss:8.0f} MB   ({len(pids)} processes)")
    if result["sync"]:
        print(f"(load generator CPU during the sync steps: {result['client_cpu']:.0%} of one core)")
        median = statistics.median(r[1] for r in result["sync"])  # type: ignore[union-attr]
        print(f"(median of all sync steps p50: {median:.2f} ms)")


if __name__ == "__main__":
    main()
