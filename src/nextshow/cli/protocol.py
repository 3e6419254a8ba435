"""The evaluation protocol's command-line options, defined once for `evaluate` and `train`.

The options become one ``protocol`` argument (``evaluation.protocol_spec.Protocol``) built on
the settings (``NEXTSHOW_EVAL_SPLIT``, ``NEXTSHOW_TRAIN_TIME_BUDGET``,
``NEXTSHOW_EVAL_MAX_TEST_USERS``), the same object the
triggers, the admin retrain and the gate build, so every path measures the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from nextshow.cli.common import AppContext

SPLITS = ("auto", "global-time", "user-time", "random")


def protocol_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add --split, --k, --min-likes, --no-tune, --time-budget and --test-users; pass
    ``protocol=``.

    Goes below ``pass_app``: the wrapped command's first argument is the ``AppContext``.
    """

    @functools.wraps(command)
    def wrapper(
        app: AppContext,
        *args: Any,
        split: str | None,
        k: int,
        min_likes: int,
        no_tune: bool,
        time_budget: float | None,
        test_users: int | None,
        **kwargs: Any,
    ) -> None:
        from nextshow.pipeline.train import protocol_from_settings

        changes: dict[str, Any] = {"k": k, "min_likes": min_likes, "tune": not no_tune}
        if split is not None:
            changes["split"] = split
        if time_budget is not None:
            changes["time_budget"] = time_budget
        if test_users is not None:
            changes["max_test_users"] = test_users or None
        try:
            protocol = protocol_from_settings(app.settings, **changes)
        except ValueError as err:
            raise click.UsageError(str(err)) from err
        return command(app, *args, protocol=protocol, **kwargs)

    options = [
        click.option(
            "--split",
            type=click.Choice(SPLITS),
            default=None,
            help="auto (default, NEXTSHOW_EVAL_SPLIT): global-time when the data has timestamps, "
            "else random; global-time: one cut-off time for everyone (leak-free); user-time: "
            "each user's last 20 % (the original heuristic, kept for continuity); random: a "
            "seeded random 20 % of each user's likes.",
        ),
        click.option("--k", default=10, show_default=True, type=click.IntRange(1, 1000)),
        click.option(
            "--min-likes",
            default=5,
            show_default=True,
            type=click.IntRange(min=2),
            help="Users with at least this many likes are test users.",
        ),
        click.option("--no-tune", is_flag=True, help="Default parameters: skip the search."),
        click.option(
            "--time-budget",
            type=click.FloatRange(min=1.0),
            default=None,
            help="Seconds for tuning every candidate (default: NEXTSHOW_TRAIN_TIME_BUDGET).",
        ),
        click.option(
            "--test-users",
            type=click.IntRange(min=0),
            default=None,
            help="Test users scored per split, a seeded sample; 0: all (default: "
            "NEXTSHOW_EVAL_MAX_TEST_USERS, 5000).",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
