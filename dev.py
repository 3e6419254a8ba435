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
import subprocess
import sys
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


def cmd_run(args: list[str]) -> None:
    """Schema upgrade, data on first run (the demo films, or with --tv IMDb's TV datasets), a
    first model when none serves yet, then serve."""
    tv = "--tv" in args
    args = [a for a in args if a != "--tv"]
    ensure_venv("")
    env = tv_env() if tv else None
    nextshow = str(BIN / "nextshow")
    _run(nextshow, "db", "upgrade", env=env)  # the one step that migrates, under the lock
    if not tv:
        _run(nextshow, "demo")
    elif _status(nextshow, env)["shows"] == 0:
        # Malformed lines in IMDb's files are reported (exit 1) and skipped, never fatal.
        _run(nextshow, "collect", "imdb-datasets", "--datasets", "tv", env=env, ok=(0, 1))
    if _status(nextshow, env)["production_model"] is None:
        _run(nextshow, "train", "--promote", env=env)
    _run(nextshow, "serve", *args, env=env)


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
