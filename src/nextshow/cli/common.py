"""What every command shares: the app context, common options, output helpers, exit codes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nextshow.catalog.imdb_import import DEFAULT_TITLE_TYPES, parse_title_types
from nextshow.config import Settings
from nextshow.progress import progress_enabled
from nextshow.runtime import Runtime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from nextshow.registry.artifact_store import ArtifactStore
    from nextshow.rejects import ImportSummary

EXIT_REJECTS = 1  # the command finished, but some input rows were rejected
EXIT_REFUSED = 3  # the quality gate refused a promotion
EXIT_SCHEMA = 4  # the database schema is not at this code's revision: run `nextshow db upgrade`
EXIT_BOT_WALL = 5  # IMDb answered the review crawl with a browser challenge
EXIT_ABORTED = 6  # the input could not be read to its end (truncated gzip, decompression bomb)


class SchemaError(click.ClickException):
    """An old (or newer) schema: a clear message and its own exit code, no traceback."""

    exit_code = EXIT_SCHEMA


@dataclass
class AppContext:
    """What every sub-command needs: settings, and the process runtime on first use.

    One-shot commands may create a database without tables (the embedded default's first
    run); long-running ones (serve, worker, scheduler) open their own runtime without that.
    """

    settings: Settings
    ctx: click.Context

    @cached_property
    def runtime(self) -> Runtime:
        return Runtime.from_settings(self.settings, create_if_empty=True)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.runtime.sessions

    @property
    def artifacts(self) -> ArtifactStore:
        return self.runtime.artifacts

    @property
    def progress(self) -> bool:
        return progress_enabled(self.settings.progress)

    def import_options(self) -> dict[str, Any]:
        """The keyword arguments every importer takes from the settings."""
        return {
            "batch_size": self.settings.import_batch_size,
            "progress": self.progress,
            "reports_dir": self.settings.reports_dir,
        }


pass_app = click.make_pass_decorator(AppContext)


def json_option(help_text: str = "Machine-readable output.") -> Callable[[Any], Any]:
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def shown_option(*decls: str, **attrs: Any) -> Callable[[Any], Any]:
    """An option whose default ``--help`` shows."""
    return click.option(*decls, show_default=True, **attrs)


def folder_option(name: str, help_text: str) -> Callable[[Any], Any]:
    """An optional folder (created by the command when missing), given as a Path."""
    return click.option(
        name, type=click.Path(file_okay=False, path_type=Path), default=None, help=help_text
    )


def imdb_filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """The catalogue filters shared by `import imdb-titles` and `collect imdb-datasets`."""
    command = click.option(
        "--min-votes", default=500, show_default=True, type=click.IntRange(min=0)
    )(command)
    return click.option(
        "--title-types",
        default=DEFAULT_TITLE_TYPES,
        show_default=True,
        callback=lambda _ctx, _param, value: parse_title_types(value),
        help="Comma-separated IMDb title types to keep.",
    )(command)


def echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


def plain(value: object) -> str:
    """A value as people read it: no Python reprs (``None`` -> "none", a dict -> ``k=v, ...``,
    a list -> ``a, b``, floats to four places)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "n/a"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={plain(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple | set):
        return ", ".join(plain(v) for v in value) or "none"
    return str(value)


def echo_fields(info: Mapping[str, object]) -> None:
    """``key: value`` lines, keys right-aligned, values in :func:`plain` form."""
    width = max((len(key) for key in info), default=0)
    for key, value in info.items():
        click.echo(f"{key:>{width}}: {plain(value)}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """An aligned table with a header row; numbers right-aligned, the rest left-aligned."""
    cells = [[plain(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [
        bool(rows)
        and all(isinstance(r[i], int | float) and not isinstance(r[i], bool) for r in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    click.echo(line(headers))
    click.echo(line(["-" * w for w in widths]))
    for row in cells:
        click.echo(line(row))


def echo_rejects(summary: ImportSummary, shown: int = 20) -> None:
    for reject in summary.rejects[:shown]:
        click.echo(f"rejected {reject}", err=True)
    if summary.rejected > shown:
        click.echo(f"... and {summary.rejected - shown} more", err=True)
    if summary.report_path:
        click.echo(f"rejects report: {summary.report_path}", err=True)


def report_import(
    summary: ImportSummary, as_json: bool, context: Mapping[str, object] | None = None
) -> None:
    """Print an import summary and exit non-zero when anything was rejected.

    ``context`` (downloads, crawl counts) goes beside the summary under "import" in JSON.
    """
    if as_json:
        payload = summary.as_dict()
        echo_json(payload if context is None else {**context, "import": payload})
    else:
        click.echo(_summary_line(summary))
    _exit_for([summary])


def _exit_for(summaries: Sequence[ImportSummary]) -> None:
    """Show the rejects, then exit: aborted (any input not read to its end), rejects, or not."""
    for summary in summaries:
        if summary.rejects:
            echo_rejects(summary)
    aborted = [summary.aborted for summary in summaries if summary.aborted]
    for reason in aborted:
        click.echo(f"import stopped: {reason}; the counts above were stored", err=True)
    if aborted:
        sys.exit(EXIT_ABORTED)
    if any(summary.rejects for summary in summaries):
        sys.exit(EXIT_REJECTS)


def _summary_line(summary: ImportSummary) -> str:
    return (
        f"imported {summary.inserted}, updated {summary.updated}, "
        f"unchanged {summary.unchanged}, skipped {summary.skipped}, "
        f"rejected {summary.rejected}"
    )


def report_imports(
    summaries: Mapping[str, ImportSummary],
    as_json: bool,
    context: Mapping[str, object] | None = None,
) -> None:
    """:func:`report_import` for an import of several IMDb datasets: one entry per dataset
    (JSON: ``"import": {dataset: summary}``); exits non-zero when any of them rejected lines or
    stopped early."""
    if as_json:
        payload = {name: summary.as_dict() for name, summary in summaries.items()}
        echo_json({**(context or {}), "import": payload})
    else:
        for name, summary in summaries.items():
            click.echo(f"{name}: {_summary_line(summary)}")
    _exit_for(list(summaries.values()))


def datasets_option(command: Callable[..., None]) -> Callable[..., None]:
    """``--datasets``: which IMDb files to download and import (checked before any download)."""

    def parse(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
        from nextshow.collect.downloader import parse_datasets

        try:
            return parse_datasets(value)
        except ValueError as err:
            raise click.BadParameter(str(err)) from err

    return click.option(
        "--datasets",
        default="titles",
        show_default=True,
        callback=parse,
        help="Comma-separated IMDb datasets, or 'tv' (titles, ratings, principals, names, akas, "
        "episodes: the TV recommender's default), 'all' (also title.crew), 'titles'.",
    )(command)


def long_running_logs() -> None:
    """Servers and workers log their start-up at INFO even without -v."""
    logging.getLogger("nextshow").setLevel(min(logging.INFO, logging.getLogger().level))


def open_checked(runtime: Runtime) -> Runtime:
    """Open the database of a long-running process now, refusing an old schema up front."""
    from nextshow.db.migrate import SchemaOutdated

    try:
        runtime.engine  # noqa: B018 - opening it runs the revision check
    except SchemaOutdated as exc:
        raise SchemaError(str(exc)) from exc
    return runtime
