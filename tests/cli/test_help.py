"""`nextshow --help` loads no heavy library: the commands import them in their bodies."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "scipy", "sklearn", "fastapi", "pandas", "pyarrow", "uvicorn", "scrapy")


def test_help_imports_no_heavy_library():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from nextshow.cli import cli\n"
        "for args in (['--help'], ['models', '--help'], ['collect', 'reviews', '--help']):\n"
        "    result = CliRunner().invoke(cli, args)\n"
        "    assert result.exit_code == 0, result.output\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_every_command_is_registered():
    from nextshow.cli import cli

    groups = {"db": 1, "import": 2, "shows": 6, "collect": 2}
    leaves = [name for name in cli.commands if name not in groups]
    assert len(leaves) + sum(groups.values()) == 23
    for name, count in groups.items():
        assert len(cli.commands[name].commands) == count
