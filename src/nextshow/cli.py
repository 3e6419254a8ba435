"""The ``nextshow`` command: one entry point, one sub-command per job."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from nextshow import __version__
from nextshow.config import Settings, get_settings
from nextshow.progress import progress_enabled
from nextshow.rejects import ImportSummary

log = logging.getLogger("nextshow")

EXIT_REJECTS = 1  # the command finished, but some input rows were rejected


@dataclass
class AppContext:
    """What every sub-command needs: settings, and a migrated database on first use."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        from nextshow.db.session import ensure_schema, make_engine

        self.settings.ensure_home()
        engine = make_engine(self.settings.db_url)
        ensure_schema(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from nextshow.db.session import session_factory

        return session_factory(self.engine)

    @property
    def progress(self) -> bool:
        return progress_enabled(self.settings.progress)


pass_app = click.make_pass_decorator(AppContext)


def _report_import(summary: ImportSummary, as_json: bool) -> None:
    """Print an import summary and exit non-zero when anything was rejected."""
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        click.echo(
            f"imported {summary.inserted}, updated {summary.updated}, "
            f"unchanged {summary.unchanged}, skipped {summary.skipped}, "
            f"rejected {summary.rejected}"
        )
    if summary.rejects:
        shown = summary.rejects[:20]
        for reject in shown:
            click.echo(f"rejected {reject}", err=True)
        if summary.rejected > len(shown):
            click.echo(f"... and {summary.rejected - len(shown)} more", err=True)
        if summary.report_path:
            click.echo(f"rejects report: {summary.report_path}", err=True)
        sys.exit(EXIT_REJECTS)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nextshow")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """nextshow: tell it shows you like, get shows you will probably like."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = AppContext(get_settings())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Counts of shows, users, ratings and likes, and where they are stored."""
    from nextshow.db.stats import store_counts

    with app.sessions() as session:
        info: dict[str, object] = {
            "version": __version__,
            "home": str(app.settings.home),
            "database_url": app.settings.safe_db_url,
            **store_counts(session),
            "production_model": None,
        }
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            click.echo(f"{key:>17}: {value}")


@cli.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_app
def db_upgrade(app: AppContext, revision: str) -> None:
    """Apply schema migrations (also done automatically on start)."""
    from nextshow.db.session import current_revision, make_engine, upgrade

    app.settings.ensure_home()
    engine = make_engine(app.settings.db_url)
    upgrade(engine, revision)
    click.echo(f"database at revision {current_revision(engine)}")


@cli.group("import")
def import_group() -> None:
    """Import shows and ratings from files."""


@import_group.command("imdb-titles")
@click.argument("basics", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("ratings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--title-types",
    default="tvSeries,tvMiniSeries",
    show_default=True,
    help="Comma-separated IMDb title types to keep.",
)
@click.option("--min-votes", default=500, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@pass_app
def import_imdb_titles_cmd(
    app: AppContext, basics: Path, ratings: Path, title_types: str, min_votes: int, as_json: bool
) -> None:
    """Stream IMDb's title.basics and title.ratings TSV files (.tsv/.tsv.gz) into the catalogue."""
    from nextshow.catalog.imdb_import import import_imdb_titles

    types = frozenset(t.strip() for t in title_types.split(",") if t.strip())
    summary = import_imdb_titles(
        app.sessions,
        basics,
        ratings,
        title_types=types,
        min_votes=min_votes,
        batch_size=app.settings.import_batch_size,
        progress=app.progress,
        reports_dir=app.settings.reports_dir,
    )
    _report_import(summary, as_json)


@import_group.command("ratings")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "movielens", "movietweetings"]),
    required=True,
    help="File format.",
)
@click.option(
    "--items",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Titles file (movies.dat / u.item); default: found beside PATH.",
)
@click.option("--like-threshold", type=click.FloatRange(0, 10), help="Rating >= N is a like.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
@pass_app
def import_ratings_cmd(
    app: AppContext,
    path: Path,
    fmt: str,
    items: Path | None,
    like_threshold: float | None,
    as_json: bool,
) -> None:
    """Import ratings from a CSV, MovieLens or MovieTweetings file."""
    from nextshow.ratings.importer import import_ratings

    summary = import_ratings(
        app.sessions,
        path,
        fmt=fmt,
        items_path=items,
        like_threshold=app.settings.like_threshold if like_threshold is None else like_threshold,
        batch_size=app.settings.import_batch_size,
        progress=app.progress,
        reports_dir=app.settings.reports_dir,
    )
    _report_import(summary, as_json)


@cli.command()
@pass_app
def demo(app: AppContext) -> None:
    """Load the bundled MovieTweetings demo data into an empty store (skipped when not empty)."""
    from nextshow.ratings.demo import load_demo

    summary = load_demo(app.sessions, app.settings, progress=app.progress)
    if summary is None:
        click.echo("store already holds ratings: demo data not loaded again")
    else:
        _report_import(summary, as_json=False)


@cli.group()
def shows() -> None:
    """Look up shows in the catalogue."""


@shows.command("search")
@click.argument("query")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def shows_search(app: AppContext, query: str, limit: int, as_json: bool) -> None:
    """Autocomplete-style search: prefix first, then fuzzy matches."""
    from nextshow.catalog.matching import load_title_index

    with app.sessions() as session:
        index = load_title_index(session)
    hits = index.search(query, limit=limit)
    if as_json:
        click.echo(json.dumps([hit.as_dict() for hit in hits], indent=2))
        return
    for hit in hits:
        year = hit.start_year or "?"
        click.echo(f"{hit.show_id:>7}  {hit.score:5.1f}  {hit.title} ({year})")


@shows.command("match")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def shows_match(app: AppContext, text: str, as_json: bool) -> None:
    """Resolve what a user typed (title, "Title (Year)" or IMDb id) to catalogue shows."""
    from nextshow.catalog.matching import load_title_index

    with app.sessions() as session:
        index = load_title_index(session)
    result = index.match(text)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    click.echo(f"{result.status}: {text!r}")
    for hit in result.candidates:
        click.echo(f"{hit.show_id:>7}  {hit.score:5.1f}  {hit.title} ({hit.start_year or '?'})")


def main() -> None:
    cli(prog_name="nextshow")


if __name__ == "__main__":
    main()
