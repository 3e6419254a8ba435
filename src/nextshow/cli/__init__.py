"""The ``nextshow`` command: one entry point, one sub-command per job.

Commands parse arguments, call library functions and print; they hold no logic of their own.
One module per command group; heavy libraries are imported inside the command bodies so that
``nextshow --help`` stays fast.
"""

from __future__ import annotations

import logging
from typing import Any

import click

import nextshow
from nextshow.cli import catalogue, collect, data, models, service
from nextshow.cli.common import AppContext, SchemaError
from nextshow.config import get_settings


class _Group(click.Group):
    """Turns an old database schema into a one-line message and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        from nextshow.db.migrate import SchemaOutdated

        try:
            return super().invoke(ctx)
        except SchemaOutdated as exc:
            raise SchemaError(str(exc)) from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    help="Show the version and exit.",
    callback=lambda ctx, _param, value: (
        value and ctx.exit(print(f"nextshow, version {nextshow.__version__}"))
    ),
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """nextshow: tell it shows you like, get shows you will probably like."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = AppContext(get_settings(), ctx)


for _module in (data, catalogue, models, service, collect):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    cli(prog_name="nextshow")
