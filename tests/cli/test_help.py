"""`nextshow --help` loads no heavy library: the commands import them in their bodies."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "scipy", "sklearn", "fastapi", "pandas", "pyarrow", "uvicorn", "scrapy")


def test_help_imports_no_heavy_library():
    """Every command's and sub-command's ``--help``, in a fresh interpreter: none of the heavy
    libraries is imported (they cost seconds; the commands import them in their bodies)."""
    code = (
        "import sys\n"
        "import click\n"
        "from click.testing import CliRunner\n"
        "from nextshow.cli import cli\n"
        "def walk(cmd, path):\n"
        "    yield path\n"
        "    for name, sub in getattr(cmd, 'commands', {}).items():\n"
        "        yield from walk(sub, [*path, name])\n"
        "paths = list(walk(cli, []))\n"
        "for args in paths:\n"
        "    result = CliRunner().invoke(cli, [*args, '--help'])\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        f"print(len(paths), sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    count, heavy = result.stdout.strip().split(" ", 1)
    assert int(count) > 25  # the top level, the groups and every command were asked
    assert heavy == "[]"


def test_every_command_is_registered():
    from nextshow.cli import cli

    groups = {"db": 1, "import": 2, "shows": 6, "collect": 2}
    leaves = [name for name in cli.commands if name not in groups]
    assert len(leaves) + sum(groups.values()) == 23
    for name, count in groups.items():
        assert len(cli.commands[name].commands) == count
