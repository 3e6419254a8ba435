"""The README's TV path (`python3 dev.py run --tv`) end to end against a local IMDb datasets server.

    .venv/bin/python benchmarks/bench_tv_path.py               # --scale 0.1: a tenth of IMDb
    .venv/bin/python benchmarks/bench_tv_path.py --scale 0     # the test fixture files only
    .venv/bin/python benchmarks/bench_tv_path.py --scale 1     # full size (1.6 GB of files)

The files served are the tests' fixture (tests/imdb_tv_fixture.py: Breaking Bad, Better Call
Saul, The Office twice, La casa de papel ... with its malformed lines) merged into the seeded
synthetic files of ``synthetic_imdb.py`` / ``synthetic_imdb_tv.py`` at ``--scale`` x IMDb's line
counts (11M title.basics lines at 1.0), in IMDb's layout: the fixture series are real-looking
shows to ask about, the synthetic lines are the bulk the streaming import has to wade through.
Synthetic lines that name a fixture ``tt`` / ``nm`` id are dropped, so the fixture's people and
titles stay its own. The merged files are cached in benchmarks/out/.

A plain ``http.server`` on 127.0.0.1 serves them (no ETag, no ranges: the downloader's simplest
peer) and counts the bytes it sends per file. The path then runs in a fresh temporary
NEXTSHOW_HOME with dev.py's environment for --tv (NEXTSHOW_DEFAULT_MODEL=hybrid,
NEXTSHOW_PROGRESS=true) and NEXTSHOW_IMDB_DATASETS_URL pointing at the server, command by
command as dev.py runs them: ``db upgrade``, ``status --json``, ``collect imdb-datasets
--datasets tv`` (exit 1 allowed: malformed lines are reported, never fatal), ``status --json``,
``train --promote``, ``serve``; each step is timed (wall clock, whole child process, ``serve``
until /readyz answers 200), then ``GET /api/recommendations?show=<--show>`` is asked for each
``--show`` and the first answers are printed with their reasons and how many of the reasons name
people ("Created by …", "With …"). The tables: seconds per step; per file the bytes downloaded
and the seconds the server spent sending them (the download's share of the collect step, which
also imports).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fixture
from tests import imdb_tv_fixture as fx

import synthetic_imdb
import synthetic_imdb_tv
from bench_faults import _port, _stop, _wait_ready
from nextshow.collect.downloader import DEFAULT_TV_DATASETS

FULL_LINES = 11_000_000  # title.basics lines of IMDb's real file (2024)
# The content model's reasons that name people (ContentRecommender.reason), capitalised.
PEOPLE_REASONS = ("Created by ", "With ", "Directed by ", "Written by ")


def _synthetic(name: str, lines: int, seed: int) -> Path:
    if name in ("title.basics", "title.ratings"):
        basics, ratings = synthetic_imdb.generate(lines, seed)
        return basics if name == "title.basics" else ratings
    return synthetic_imdb_tv.generate(name, lines, seed)


def _fixture_ids(files: dict[str, bytes]) -> frozenset[str]:
    """Every ``tt`` / ``nm`` id the fixture files name in their first three columns."""
    ids: set[str] = set()
    for data in files.values():
        for line in gzip.decompress(data).decode().splitlines()[1:]:
            ids.update(f for f in line.split("\t", 3)[:3] if f[:2] in ("tt", "nm"))
    return frozenset(ids)


def build_files(scale: float, seed: int, folder: Path) -> Path:
    """Write the served files (fixture + synthetic at ``scale``) into ``folder``; returns it."""
    folder.mkdir(parents=True)
    fixture = fx.tv_dataset_bytes()
    lines = round(FULL_LINES * scale)
    if lines == 0:
        for name in DEFAULT_TV_DATASETS:
            (folder / f"{name}.tsv.gz").write_bytes(fixture[f"{name}.tsv.gz"])
        return folder
    ids = _fixture_ids(fixture)
    for name in DEFAULT_TV_DATASETS:
        target = synthetic_imdb.OUT / f"tvpath-{lines}-s{seed}.{name}.tsv.gz"
        if not target.exists():
            source = _synthetic(name, lines, seed)
            tmp = target.with_name(target.name + ".tmp")
            # The fixture first (header and all), then the synthetic lines that do not name a
            # fixture id: the three first columns hold every tconst / nconst that could clash.
            with tmp.open("wb") as raw:
                gz = subprocess.Popen(["gzip", "-1", "-c"], stdin=subprocess.PIPE, stdout=raw)
                assert gz.stdin is not None
                gz.stdin.write(gzip.decompress(fixture[f"{name}.tsv.gz"]))
                with gzip.open(source, "rt", encoding="utf-8") as stream:
                    next(stream)
                    batch: list[str] = []
                    for line in stream:
                        if not any(f in ids for f in line.split("\t", 3)[:3]):
                            batch.append(line)
                        if len(batch) >= 100_000:
                            gz.stdin.write("".join(batch).encode())
                            batch.clear()
                    gz.stdin.write("".join(batch).encode())
                gz.stdin.close()
                if gz.wait() != 0:
                    raise RuntimeError(f"gzip failed writing {target}")
            tmp.rename(target)
        os.symlink(target, folder / f"{name}.tsv.gz")
    return folder


class _Counting(SimpleHTTPRequestHandler):
    sent: dict[str, tuple[int, float]]  # file -> (bytes sent, seconds spent sending them)

    def copyfile(self, source: Any, outputfile: Any) -> None:
        before, started = source.tell(), time.perf_counter()
        super().copyfile(source, outputfile)
        name = self.path.rsplit("/", 1)[-1]
        size, seconds = self.sent.get(name, (0, 0.0))
        self.sent[name] = (size + source.tell() - before, seconds + time.perf_counter() - started)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_files(folder: Path) -> tuple[ThreadingHTTPServer, dict[str, tuple[int, float]]]:
    """A datasets server on a free port, serving ``folder``; bytes and seconds sent per file."""
    sent: dict[str, tuple[int, float]] = {}
    handler = type("Handler", (_Counting,), {"sent": sent})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, sent


class TvPath:
    """The TV path's commands, each timed, with their output kept in ``home/bench-logs``."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.steps: list[tuple[str, float, int]] = []

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        label = " ".join(args)
        log = self.logs / f"{len(self.steps):02d}.log"
        started = time.perf_counter()
        with log.open("w") as err:
            result = subprocess.run(
                [sys.executable, "-m", "nextshow.cli", *args],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        self.steps.append((label, time.perf_counter() - started, result.returncode))
        if result.returncode not in ok:
            tail = log.read_text()[-3000:]
            raise SystemExit(f"nextshow {label}: exit {result.returncode}\n{result.stdout}{tail}")
        return result.stdout

    def status(self) -> dict[str, Any]:
        return json.loads(self.run("status", "--json"))


def run_path(
    base_url: str, home: Path, shows: list[str], n: int
) -> tuple[TvPath, dict[str, dict[str, Any]]]:
    env = {
        **os.environ,
        "NEXTSHOW_HOME": str(home),
        "NEXTSHOW_DEFAULT_MODEL": "hybrid",  # dev.py's tv_env()
        "NEXTSHOW_PROGRESS": "true",
        "NEXTSHOW_IMDB_DATASETS_URL": base_url,
    }
    for name in ("NEXTSHOW_DATABASE_URL", "NEXTSHOW_QUEUE_URL", "NEXTSHOW_ARTIFACT_URL"):
        env.pop(name, None)
    logs = home / "bench-logs"
    logs.mkdir(parents=True)
    path = TvPath(env, logs)
    path.run("db", "upgrade")
    if path.status()["shows"] == 0:
        print(path.run("collect", "imdb-datasets", "--datasets", "tv", ok=(0, 1)), end="")
    status = path.status()
    print(f"catalogue: {status['shows']} shows")
    if status["production_model"] is None:
        path.run("train", "--promote")
    port = _port()
    started = time.perf_counter()
    with (logs / "serve.log").open("w") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "nextshow.cli", "serve", "--port", str(port)],
            env=env,
            stdout=err,
            stderr=err,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, server, timeout=600, probe="/readyz")
            path.steps.append(("serve (until /readyz)", time.perf_counter() - started, 0))
            bodies = {}
            for show in shows:
                asked = time.perf_counter()
                response = httpx.get(
                    f"{base}/api/recommendations", params={"show": show, "n": n}, timeout=60
                )
                seconds = time.perf_counter() - asked
                label = f"GET /api/recommendations?show={show}"
                path.steps.append((label, seconds, response.status_code))
                bodies[show] = response.json()
            return path, bodies
        finally:
            _stop(server)


def print_answers(show: str, body: dict[str, Any]) -> None:
    """The answers with their reasons, and how many of the reasons name people."""
    if "recommendations" not in body:  # a problem (RFC 9457), e.g. an ambiguous title
        print(f"\nGET /api/recommendations?show={show}: {body.get('status')} {body.get('detail')}")
        return
    model = body["model"]
    print(f"\nGET /api/recommendations?show={show}: model {model['name']} "
          f"v{model.get('version')}, fallback {model.get('fallback')}")  # fmt: skip
    recs = body["recommendations"]
    for rank, rec in enumerate(recs, 1):
        kind = rec.get("title_type") or "?"
        print(f"{rank}. {rec['title']} ({rec.get('start_year')}, {kind}): {rec.get('reason')}")
    people = [r for r in recs if (r.get("reason") or "").startswith(PEOPLE_REASONS)]
    first = "yes" if recs and recs[0] in people else "no"
    print(f"people-based reasons: {len(people)} of {len(recs)} (first answer: {first})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=0.1, help="x IMDb's line counts (0: fixture only)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--show",
        action="append",
        help="A fixture series to ask (repeatable; default: Breaking Bad, The Office (2005)).",
    )
    parser.add_argument("-n", type=int, default=5, help="Recommendations to print.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary home.")
    args = parser.parse_args()

    shows = args.show or ["Breaking Bad", "The Office (2005)"]
    work = Path(tempfile.mkdtemp(prefix="bench-tv-path-"))
    started = time.perf_counter()
    files = build_files(args.scale, args.seed, work / "files")
    built = time.perf_counter() - started
    sizes = {p.name: p.stat().st_size for p in sorted(files.iterdir())}
    server, sent = serve_files(files)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"serving {len(sizes)} files ({sum(sizes.values()):,} bytes) at {base_url}")
    try:
        path, bodies = run_path(base_url, work / "home", shows, args.n)
    finally:
        server.shutdown()
        server.server_close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    for show, body in bodies.items():
        print_answers(show, body)
    print(f"\nfiles built in {built:.1f} s (--scale {args.scale}, seed {args.seed})\n")
    print(f"{'step':<48} {'seconds':>8} {'exit':>5}  (HTTP status for the GETs)")
    for label, seconds, code in path.steps:
        print(f"{label:<48} {seconds:>8.2f} {code:>5}")
    total = sum(seconds for _, seconds, _ in path.steps)
    print(f"{'total':<48} {total:>8.2f}\n")
    print(f"{'file':<26} {'bytes downloaded':>17} {'file size':>14} {'seconds':>8}")
    for name, size in sizes.items():
        got, seconds = sent.get(name, (0, 0.0))
        print(f"{name:<26} {got:>17,} {size:>14,} {seconds:>8.2f}")
    got, seconds = sum(b for b, _ in sent.values()), sum(t for _, t in sent.values())
    print(f"{'total':<26} {got:>17,} {sum(sizes.values()):>14,} {seconds:>8.2f}")


if __name__ == "__main__":
    main()
