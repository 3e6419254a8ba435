#!/usr/bin/env python3
"""Two entry points for a fresh machine with only Python >= 3.11 and pip.

    python3 dev.py run    install into ./.venv, load the demo data, train a first model, and
                          serve the API, worker and web pages on http://127.0.0.1:8000
    python3 dev.py run --tv   the same as a TV recommender: download IMDb's TV datasets (about
                          1.6 GB, needs internet access), import the series, train the hybrid
                          (content from the first minute; likes move it to co-likes), serve
    python3 dev.py test   install into ./.venv (with test tools) and run the whole test suite

Everything the project needs is installed from here; nothing outside ./.venv is touched except
Debian's chromium for the browser tests (installed with apt-get when missing and running as root).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _run(*cmd: str | Path, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode
    if code not in ok:
        sys.exit(f"{cmd[0]} {cmd[1]} failed with exit code {code}")


def ensure_venv(extras: str) -> None:
    """Create ./.venv and install the project (editable) unless it is already up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before anything checks it
        sys.exit(f"nextshow needs Python >= 3.11, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    # Reinstall only when the dependency list or the requested extras changed.
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    _run(PYTHON, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(digest)


def ensure_chromium() -> None:
    """Debian's chromium for the browser tests; never a browser download by a test tool."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        print("chromium not found: browser tests will fail (install Debian's 'chromium')")
        return
    _run("apt-get", "update", "-qq")
    _run("apt-get", "install", "-y", "-qq", "chromium")


def tv_env() -> dict[str, str]:
    """The TV store lives beside the demo one (``<home>-tv``) unless NEXTSHOW_HOME says where;
    it trains the hybrid and shows progress bars for every download and build step."""
    env = dict(os.environ)
    if "NEXTSHOW_HOME" not in env:
        home = subprocess.run(
            [str(PYTHON), "-c", "from nextshow.config import Settings; print(Settings().home)"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        env["NEXTSHOW_HOME"] = f"{home}-tv"
    env.setdefault("NEXTSHOW_DEFAULT_MODEL", "hybrid")
    env.setdefault("NEXTSHOW_PROGRESS", "true")
    return env


def _status(nextshow: str, env: dict[str, str] | None) -> dict:
    out = subprocess.run(
        [nextshow, "status", "--json"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    return json.loads(out.stdout)


# In NEXTSHOW_HOME while the production model is the first start's quick choice: a full choice
# is still owed, and each start retries it in the background until one has run to the end.
QUICK_MARKER = "first-model-quick-choice"


def _option(args: list[str], name: str, env: str, default: str) -> str:
    """``--name value`` or ``--name=value`` in the serve arguments, else ``$env``, else default."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return os.environ.get(env, default)


def _serving(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class _FullChoiceLater:
    """``nextshow retrain`` (snapshot, choice among every candidate with tuning, promotion
    through the gate) once the server answers, at low priority so pages stay quick; the marker
    goes when it has run to the end, whether the gate promoted its model or kept the first.
    Stopped with the server: a retrain that would start after that never does."""

    def __init__(self, nextshow: str, marker: Path, args: list[str], env: dict[str, str]) -> None:
        self.nextshow, self.marker, self.args, self.env = nextshow, marker, args, env
        self.lock = threading.Lock()
        self.stopped = False
        self.proc: subprocess.Popen[bytes] | None = None

    def run(self) -> None:
        host = _option(self.args, "--host", "NEXTSHOW_HOST", "127.0.0.1")
        host = host.replace("0.0.0.0", "127.0.0.1")
        port = int(_option(self.args, "--port", "NEXTSHOW_PORT", "8000"))
        deadline = time.monotonic() + 60  # a server that never answers must not hold it back
        while not _serving(host, port) and time.monotonic() < deadline and not self.stopped:
            time.sleep(0.5)
        nice = [tool, "-n", "10"] if (tool := shutil.which("nice")) else []
        with self.lock:
            if self.stopped:
                return
            print("& nextshow retrain  (full model choice in the background)", flush=True)
            self.proc = subprocess.Popen([*nice, self.nextshow, "retrain"], cwd=ROOT, env=self.env)
        if self.proc.wait() == 0:
            self.marker.unlink(missing_ok=True)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait()


def cmd_run(args: list[str]) -> None:
    """Schema upgrade, data on first run (the demo films, or with --tv IMDb's TV datasets), a
    first model when none serves yet, then serve.

    The demo's first model is chosen among the quick candidates (``NEXTSHOW_CANDIDATE_MODELS=
    quick``: the same protocol, validation and gate, fewer and faster models) so the first page
    comes in seconds; the full choice runs in the background once the server is up and replaces
    it through the gate when it is better. A candidate set or model set in the environment (the
    TV path sets the hybrid) is respected as it is (no quick first choice).
    """
    tv = "--tv" in args
    args = [a for a in args if a != "--tv"]
    ensure_venv("")
    env = tv_env() if tv else dict(os.environ)
    nextshow = str(BIN / "nextshow")
    _run(nextshow, "db", "upgrade", env=env)  # the one step that migrates, under the lock
    status = _status(nextshow, env)
    if not tv and not status["ratings"]:
        _run(nextshow, "demo", env=env)
    elif tv and status["shows"] == 0:
        # Malformed lines in IMDb's files are reported (exit 1) and skipped, never fatal.
        _run(nextshow, "collect", "imdb-datasets", "--datasets", "tv", env=env, ok=(0, 1))
    marker = Path(status["home"]) / QUICK_MARKER
    if status["production_model"] is None:
        chosen = {"NEXTSHOW_CANDIDATE_MODELS", "NEXTSHOW_DEFAULT_MODEL"} & set(env)
        first = env if chosen else {**env, "NEXTSHOW_CANDIDATE_MODELS": "quick"}
        _run(nextshow, "train", "--promote", env=first)
        if not chosen:
            marker.write_text("the production model came from the quick candidate set\n")
    later = _FullChoiceLater(nextshow, marker, args, env) if marker.exists() else None
    if later is not None:
        threading.Thread(target=later.run, daemon=True).start()
    try:
        _run(nextshow, "serve", *args, env=env)
    finally:
        if later is not None:
            later.stop()


def cmd_test(args: list[str]) -> None:
    ensure_venv("test")
    if (ROOT / "tests" / "service" / "web").exists():
        ensure_chromium()
    os.execv(str(PYTHON), [str(PYTHON), "-m", "pytest", *args])


def main() -> None:
    commands = {"run": cmd_run, "test": cmd_test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        # The command has said what went wrong; pass its exit status on, no traceback.
        sys.exit(exc.returncode if exc.returncode > 0 else 1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
