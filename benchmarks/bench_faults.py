"""Fault benchmark: a killed worker, adversarial import files, and the poisoning attack.

    .venv/bin/python benchmarks/bench_faults.py                       # all parts, embedded default
    .venv/bin/python benchmarks/bench_faults.py --part worker --requests 2000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/test --redis redis://127.0.0.1:6379/0
    .venv/bin/python benchmarks/bench_faults.py --part imports
    .venv/bin/python benchmarks/bench_faults.py --part poison

Parts:

- ``worker``: ``nextshow serve`` (API + supervised worker child, SQLite) takes ``--requests``
  concurrent anonymous predictions (64 in flight); the worker is killed (SIGKILL) when a third and
  when two thirds are done. Reported: lost (never done), duplicated (likes recorded twice or a
  request answered twice), re-run tasks, and time to recover (kill -> the next completion). With
  ``--postgres`` and ``--redis`` the same on the scale configuration: 2 API processes
  (``serve --no-worker``) and 2 ``nextshow worker`` processes, each kept alive by the same
  supervisor ``serve`` uses (standing in for systemd); one worker is killed each time, so the
  other keeps serving and "recover" is kill -> replacement worker up.
- ``imports``: peak RSS of ``nextshow import ratings`` (own process, ``wait4``) on 50 MB of
  garbage lines, a small gzip of 4 M bad lines and a ~1 MB gzip holding one 1 GiB line, beside
  the floor (the same command on a 3-line valid file). Target: under 200 MB each.
- ``poison``: the issue's attack with 100 requests from one client address ("The Dark Knight"
  plus a made-up title, ``add_shows``; the rate limit is off so all 100 land), then ``snapshot``
  and ``train --promote``: is the made-up title in anyone's top 10, was production replaced, and
  what the gate said.

Never part of the tests. Figures depend on the machine's load: compare rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TITLES = ["The Dark Knight", "Inception", "Batman Begins", "The Dark Knight Rises", "Man of Steel"]
TITLES += ["Pacific Rim", "Iron Man 3", "The Conjuring", "Star Trek Into Darkness", "Gravity"]
FAKE = "Zqxv Blorp Nine"
MIB = 1 << 20


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "nextshow.cli", *args], env=env, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise SystemExit(f"nextshow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "NEXTSHOW_HOME": str(home), "NEXTSHOW_PROGRESS": "false", **extra}
    for name in ("NEXTSHOW_DATABASE_URL", "NEXTSHOW_QUEUE_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


def _wait_ready(
    base: str, proc: subprocess.Popen, timeout: float = 90, probe: str = "/healthz"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}{probe}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base} did not start")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------ worker faults
async def _post_all(ports: list[int], bodies: list[dict]) -> list[str]:
    gate = asyncio.Semaphore(64)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def one(i: int, body: dict) -> str:
            async with gate:
                url = f"http://127.0.0.1:{ports[i % len(ports)]}/api/predictions"
                response = await client.post(url, json=body)
                if response.status_code != 202:
                    raise SystemExit(f"POST refused: {response.status_code} {response.text}")
                return response.json()["prediction_id"]

        return await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))


def _counts(sessions) -> dict[str, int]:
    from sqlalchemy import func, select

    from nextshow.db.models import PredictionRequest

    with sessions() as session:
        rows = session.execute(
            select(PredictionRequest.status, func.count()).group_by(PredictionRequest.status)
        ).all()
    return {status: int(n) for status, n in rows}


def _audit(sessions, bodies: list[dict], ids: list[str]) -> dict[str, int]:
    """Lost, duplicated and re-run counts from the database."""
    from sqlalchemy import func, select

    from nextshow.db.models import PredictionRequest, Rating, Show, User

    expected = {
        (f"anon:{pid}", t) for body, pid in zip(bodies, ids, strict=True) for t in body["shows"]
    }
    with sessions() as session:
        rows = session.execute(
            select(User.external_id, Show.title)
            .join(Rating, Rating.user_id == User.id)
            .join(Show, Show.id == Rating.show_id)
            .where(User.external_id.like("anon:%"))
        ).all()
        requests = session.scalar(select(func.count()).select_from(PredictionRequest))
        reruns = session.scalar(
            select(func.count())
            .select_from(PredictionRequest)
            .where(PredictionRequest.attempts > 1)
        )
        done = session.scalar(
            select(func.count())
            .select_from(PredictionRequest)
            .where(PredictionRequest.status == "done", PredictionRequest.results.is_not(None))
        )
    recorded = [(u, t) for u, t in rows]
    return {
        "requests": int(requests),
        "done": int(done),
        "lost": len(ids) - int(done),
        "duplicated": len(recorded) - len(set(recorded)) + max(int(requests) - len(ids), 0),
        "missing_likes": len(expected - set(recorded)),
        "extra_likes": len(set(recorded) - expected),
        "re_run_tasks": int(reruns),
    }


def _kill_and_time(sessions, n: int, kill, started: float) -> list[dict[str, float]]:
    """Kill a worker at n/3 and 2n/3 done; time until the next completion after each kill."""
    recoveries = []
    for fraction in (1 / 3, 2 / 3):
        while _counts(sessions).get("done", 0) < n * fraction:
            if time.monotonic() - started > 900:
                raise SystemExit("stuck before a kill")
            time.sleep(0.05)
        before = _counts(sessions).get("done", 0)
        killed_at = time.monotonic()
        what = kill()
        while _counts(sessions).get("done", 0) <= before:
            time.sleep(0.02)
        recoveries.append(
            {"done_at_kill": before, "recover_s": time.monotonic() - killed_at, "killed": what}
        )
    return recoveries


def _bodies(n: int) -> list[dict]:
    rng = random.Random(42)
    return [{"shows": rng.sample(TITLES, rng.randint(1, 3)), "n": 10} for _ in range(n)]


def _wait_all(sessions, n: int, started: float, deadline_s: float = 900) -> float:
    while True:
        counts = _counts(sessions)
        if counts.get("done", 0) + counts.get("failed", 0) >= n:
            return time.monotonic() - started
        if time.monotonic() - started > deadline_s:
            return float("nan")
        time.sleep(0.2)


def _trained_home(home: Path, env: dict[str, str]) -> None:
    _cli("db", "upgrade", env=env)
    _cli("demo", env=env)
    _cli("train", "--model", "itemknn", "--no-tune", "--promote", env=env)


def bench_worker_embedded(n: int) -> dict:
    import psutil

    from nextshow.config import Settings
    from nextshow.db.session import make_engine, session_factory

    home = Path(tempfile.mkdtemp(prefix="nextshow-faults-"))
    env = _env(home, NEXTSHOW_RATE_LIMIT_PER_MINUTE="0", NEXTSHOW_WORKER_MAX_BACKOFF_SECONDS="2")
    _trained_home(home, env)
    sessions = session_factory(make_engine(Settings(home=home).db_url))
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nextshow.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(server.stderr), daemon=True).start()
    try:
        _wait_ready(f"http://127.0.0.1:{port}", server)

        def kill() -> str:
            children = [
                c
                for c in psutil.Process(server.pid).children()
                if "worker" in " ".join(c.cmdline())
            ]
            for child in children:
                os.kill(child.pid, signal.SIGKILL)
            return ",".join(str(c.pid) for c in children)

        bodies = _bodies(n)
        started = time.monotonic()
        result: dict = {}
        poster = threading.Thread(
            target=lambda: result.update(ids=asyncio.run(_post_all([port], bodies)))
        )
        poster.start()
        recoveries = _kill_and_time(sessions, n, kill, started)
        poster.join()
        total = _wait_all(sessions, n, started)
        audit = _audit(sessions, bodies, result["ids"])
    finally:
        _stop(server)
    restarts = sum("started (restart" in line for line in log)
    return {
        "config": "embedded (SQLite, serve + 1 worker child)",
        "requests": n,
        "all_done_s": total,
        "recoveries": recoveries,
        "restarts": restarts,
        **audit,
    }


def bench_worker_scale(n: int, postgres: str, redis: str) -> dict:
    from sqlalchemy import create_engine, text

    from nextshow.config import Settings
    from nextshow.db.session import make_engine, session_factory
    from nextshow.runtime import Runtime
    from nextshow.service.worker_process import WorkerSupervisor

    schema = f"faults_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        postgres.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres else "?"
    url = f"{postgres}{sep}options=-csearch_path%3D{schema}"
    home = Path(tempfile.mkdtemp(prefix="nextshow-faults-pg-"))
    extra = {
        "NEXTSHOW_DATABASE_URL": url,
        "NEXTSHOW_QUEUE_URL": redis,
        "NEXTSHOW_QUEUE_NAME": f"faults-{uuid.uuid4().hex[:8]}",
        "NEXTSHOW_RATE_LIMIT_PER_MINUTE": "0",
        "NEXTSHOW_WORKER_THREADS": "4",
    }
    env = _env(home, **extra)
    procs: list[subprocess.Popen] = []
    supervisors: list[WorkerSupervisor] = []
    try:
        _trained_home(home, env)
        os.environ.update({k: v for k, v in env.items() if k.startswith("NEXTSHOW_")})
        settings = Settings()
        runtime = Runtime.from_settings(settings)
        sessions = session_factory(make_engine(settings.db_url))
        ports = [_port(), _port()]
        for port in ports:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "nextshow.cli",
                        "serve",
                        "--no-worker",
                        "--port",
                        str(port),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port, proc in zip(ports, procs, strict=True):
            _wait_ready(f"http://127.0.0.1:{port}", proc)
        for _ in range(2):
            supervisor = WorkerSupervisor(max_backoff=2.0, on_restart=runtime.queue.record_restart)
            supervisor.start()
            supervisors.append(supervisor)
        victims = iter(supervisors)
        up_after: list[float] = []

        def kill() -> str:
            supervisor = next(victims)
            old = supervisor.proc
            os.kill(old.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            while supervisor.proc is old:
                time.sleep(0.01)
            up_after.append(time.monotonic() - killed_at)
            return str(old.pid)

        bodies = _bodies(n)
        started = time.monotonic()
        result: dict = {}
        poster = threading.Thread(
            target=lambda: result.update(ids=asyncio.run(_post_all(ports, bodies)))
        )
        poster.start()
        recoveries = _kill_and_time(sessions, n, kill, started)
        poster.join()
        total = _wait_all(sessions, n, started)
        audit = _audit(sessions, bodies, result["ids"])
        for rec, up in zip(recoveries, up_after, strict=True):
            rec["replacement_up_s"] = up
    finally:
        for supervisor in supervisors:
            supervisor.stop()
        for proc in procs:
            _stop(proc)
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return {
        "config": "PostgreSQL + Redis, 2 API + 2 supervised workers (4 threads)",
        "requests": n,
        "all_done_s": total,
        "recoveries": recoveries,
        "restarts": sum(s.restarts for s in supervisors),
        **audit,
    }


# ------------------------------------------------------------------------ import memory
def _run_measured(args: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """Run with wait4 (not communicate) so the peak RSS is this process's alone."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err_file)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err_file.seek(0)
        text = err_file.read().decode(errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return (
        proc.returncode,
        usage.ru_maxrss / 1024,
        time.monotonic() - started,
        "\n".join(lines[-2:]),
    )


def _adversarial_files(folder: Path) -> dict[str, Path]:
    header = b"user_id,show,rating,timestamp\n"
    files = {}
    tiny = folder / "floor.csv"
    tiny.write_bytes(header + b"u1,Some Show,9,1365029107\nu2,Some Show,8,1365029107\n")
    files["floor: 3-line valid CSV"] = tiny
    garbage = folder / "garbage-50mb.csv"
    rng = random.Random(42)
    with garbage.open("wb") as handle:
        handle.write(header)
        written = 0
        while written < 50 * MIB:
            line = ("".join(rng.choices("abcdefghij;|", k=rng.randint(20, 200))) + "\n").encode()
            handle.write(line)
            written += len(line)
    files["50 MB of garbage lines"] = garbage
    bad = folder / "bad-4m-lines.csv.gz"
    with gzip.open(bad, "wb", compresslevel=9) as handle:
        handle.write(header)
        chunk = b"x\n" * 1_000_000
        for _ in range(4):
            handle.write(chunk)
    files[f"gzip of 4 M bad lines ({bad.stat().st_size // 1024} KB)"] = bad
    bomb = folder / "one-gib-line.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:
        handle.write(header)
        block = b"y" * (8 * MIB)
        for _ in range(128):  # 1 GiB, no line break
            handle.write(block)
    files[f"gzip holding one 1 GiB line ({bomb.stat().st_size // 1024} KB)"] = bomb
    return files


def bench_imports() -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="nextshow-adversarial-"))
    files = _adversarial_files(folder)
    rows = []
    for name, path in files.items():
        home = folder / f"home-{path.stem}"
        env = _env(home)
        _cli("db", "upgrade", env=env)
        code, peak, seconds, tail = _run_measured(
            [
                sys.executable,
                "-m",
                "nextshow.cli",
                "import",
                "ratings",
                str(path),
                "--format",
                "csv",
            ],
            env,
        )
        reports = (
            sorted((home / "reports").glob("rejects-*.csv")) if (home / "reports").is_dir() else []
        )
        report_lines = sum(1 for _ in reports[0].open()) - 1 if reports else 0
        rows.append(
            {
                "file": name,
                "bytes": path.stat().st_size,
                "exit": code,
                "peak_rss_mib": peak,
                "seconds": seconds,
                "report_rows": report_lines,
                "last_message": tail,
            }
        )
    return rows


# ------------------------------------------------------------------------ poisoning
def bench_poison(n_requests: int = 100) -> dict:
    home = Path(tempfile.mkdtemp(prefix="nextshow-poison-"))
    env = _env(home, NEXTSHOW_RATE_LIMIT_PER_MINUTE="0", NEXTSHOW_MODEL_POLL_SECONDS="0.5")
    _cli("db", "upgrade", env=env)
    _cli("demo", env=env)
    _cli("train", "--model", "time-aware", "--no-tune", "--promote", env=env)
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "nextshow.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(base, server)
        before = httpx.get(f"{base}/readyz").json()["model"]["version"]
        ids = []
        for _ in range(n_requests):  # one client address, one after the other
            body = {"shows": ["The Dark Knight", FAKE], "add_shows": [FAKE]}
            response = httpx.post(f"{base}/api/predictions", json=body)
            ids.append(
                response.json().get("prediction_id") if response.status_code == 202 else None
            )
        accepted = sum(i is not None for i in ids)
        deadline = time.monotonic() + 300
        for pid in filter(None, ids):
            while httpx.get(f"{base}/api/predictions/{pid}").json()["status"] == "pending":
                if time.monotonic() > deadline:
                    raise SystemExit("predictions did not finish")
                time.sleep(0.05)
        _cli("snapshot", env=env)
        trained = _cli(
            "train",
            "--model",
            "time-aware",
            "--no-tune",
            "--promote",
            "--json",
            env=env,
            check=False,
        )
        time.sleep(2)  # the server's holder polls the registry every 0.5 s
        after = httpx.get(f"{base}/readyz").json()["model"]["version"]
        seeds = [t for t in TITLES] + [
            h["title"]
            for h in httpx.get(f"{base}/api/shows", params={"q": "the", "limit": 50}).json()["data"]
        ]
        in_top10 = []
        for title in dict.fromkeys(seeds):
            answer = httpx.get(f"{base}/api/recommendations", params={"show": title, "n": 10})
            titles = [r["title"] for r in answer.json().get("recommendations", [])]
            if answer.status_code == 200 and FAKE in titles:
                in_top10.append(title)
        suggested = httpx.get(f"{base}/api/shows", params={"q": "Zqxv"}).json()["count"]
        models = json.loads(_cli("models", "--json", env=env).stdout)
    finally:
        _stop(server)
    refusal = re.findall(
        r"(frozen-split check|snapshot check)[^\n]*", trained.stdout + trained.stderr
    )
    return {
        "requests": n_requests,
        "accepted": accepted,
        "production_before": before,
        "production_after": after,
        "train_exit": trained.returncode,
        "gate": refusal[:1] or [trained.stdout.strip()[-300:]],
        "seeds_checked": len(dict.fromkeys(seeds)),
        "fake_in_top10_of": in_top10,
        "fake_in_autocomplete": suggested,
        "models": models,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("worker", "imports", "poison", "all"), default="all")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--postgres", help="PostgreSQL URL for the scale configuration.")
    parser.add_argument("--redis", help="Redis URL for the scale configuration.")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    print(f"bench_faults on {os.cpu_count()} cores (shared; figures are a floor)")
    if args.part in ("worker", "all"):
        rows = [bench_worker_embedded(args.requests)]
        if args.postgres and args.redis:
            rows.append(bench_worker_scale(args.requests, args.postgres, args.redis))
        for row in rows:
            print(json.dumps(row, indent=2, default=str))
    if args.part in ("imports", "all"):
        print(f"{'file':<44} {'exit':>4} {'peak RSS':>9} {'time':>7} {'report rows':>11}")
        for row in bench_imports():
            print(
                f"{row['file']:<44} {row['exit']:>4} {row['peak_rss_mib']:>6.0f} MiB "
                f"{row['seconds']:>6.1f}s {row['report_rows']:>11}"
            )
            if row["last_message"]:
                print(f"    {row['last_message'][:200]}")
    if args.part in ("poison", "all"):
        print(json.dumps(bench_poison(), indent=2, default=str))


if __name__ == "__main__":
    main()
