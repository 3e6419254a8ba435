"""Data commands: status, the database schema, file imports and the demo data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from nextshow import __version__
from nextshow.cli.common import (
    AppContext,
    echo_fields,
    echo_json,
    imdb_filter_options,
    json_option,
    pass_app,
    report_import,
    report_imports,
)
from nextshow.ratings.records import FORMATS as RATING_FORMATS


@click.command()
@json_option()
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Counts of shows, users, ratings and likes, and where they are stored."""
    from nextshow.db.stats import store_counts
    from nextshow.registry.versions import production_version

    with app.sessions() as session:
        current = production_version(session)
        info: dict[str, object] = {
            "version": __version__,
            "home": str(app.settings.home),
            "database_url": app.settings.safe_db_url,
            **store_counts(session),
            "production_model": (
                None
                if current is None
                else {
                    "version": current.id,
                    "model": current.model_name,
                    "snapshot": current.snapshot_id,
                }
            ),
        }
    if as_json:
        echo_json(info)
        return
    if current is not None:
        info["production_model"] = (
            f"version {current.id} ({current.model_name}, snapshot {current.snapshot_id})"
        )
    else:
        info["production_model"] = "none yet: run `nextshow train --promote`"
    echo_fields(info)


@click.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_app
def db_upgrade(app: AppContext, revision: str) -> None:
    """Apply schema migrations, under a lock (the only command that migrates a live schema)."""
    from nextshow.db.migrate import upgrade_locked
    from nextshow.db.session import make_engine

    app.settings.ensure_home()
    engine = make_engine(app.settings.db_url)
    try:
        before, after = upgrade_locked(engine, revision)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"database at revision {after}: nothing to do")
    else:
        click.echo(f"database upgraded from revision {before or 'none'} to {after}")


@click.group("import")
def import_group() -> None:
    """Import shows and ratings from files."""


def _dataset_file(option: str, name: str) -> Callable[[Any], Any]:
    return click.option(
        option,
        name.replace(".", "_"),
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=f"{name}.tsv[.gz]: read for the imported titles.",
    )


@import_group.command("imdb-titles")
@click.argument("basics", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("ratings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_dataset_file("--principals", "title.principals")
@_dataset_file("--names", "name.basics")
@_dataset_file("--akas", "title.akas")
@_dataset_file("--episodes", "title.episode")
@_dataset_file("--crew", "title.crew")
@imdb_filter_options
@json_option("Machine-readable summary.")
@pass_app
def import_imdb_titles_cmd(
    app: AppContext,
    basics: Path,
    ratings: Path,
    title_types: frozenset[str],
    min_votes: int,
    as_json: bool,
    **datasets: Path | None,
) -> None:
    """Stream IMDb's title.basics and title.ratings TSV files (.tsv/.tsv.gz) into the catalogue;
    with --principals, --names, --akas, --episodes, --crew also the kept titles' people,
    alternative titles and episodes (name.basics is read after the files that name people)."""
    from nextshow.catalog.imdb_import import import_imdb_titles
    from nextshow.catalog.imdb_tv_import import import_imdb_catalogue

    extra = {key.replace("_", "."): path for key, path in datasets.items() if path is not None}
    if extra:
        files = {"title.basics": basics, "title.ratings": ratings, **extra}
        summaries = import_imdb_catalogue(
            app.sessions,
            files,
            title_types=title_types,
            min_votes=min_votes,
            **app.import_options(),
        )
        report_imports(summaries, as_json)
        return
    summary = import_imdb_titles(
        app.sessions,
        basics,
        ratings,
        title_types=title_types,
        min_votes=min_votes,
        **app.import_options(),
    )
    report_import(summary, as_json)


@import_group.command("ratings")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(RATING_FORMATS),
    required=True,
    help="File format.",
)
@click.option(
    "--items",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Titles file (movies.dat / u.item); default: found beside PATH.",
)
@click.option("--like-threshold", type=click.FloatRange(0, 10), help="Rating >= N is a like.")
@json_option("Machine-readable summary.")
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

    try:
        summary = import_ratings(
            app.sessions,
            path,
            fmt=fmt,
            items_path=items,
            like_threshold=app.settings.like_threshold
            if like_threshold is None
            else like_threshold,
            **app.import_options(),
        )
    except (FileNotFoundError, ValueError) as exc:  # e.g. a MovieLens file without its items
        raise click.ClickException(str(exc)) from exc
    report_import(summary, as_json)


@click.command()
@pass_app
def demo(app: AppContext) -> None:
    """Load the bundled MovieTweetings demo data into an empty store (skipped when not empty)."""
    from nextshow.ratings.demo import load_demo

    summary = load_demo(app.sessions, app.settings, progress=app.progress)
    if summary is None:
        click.echo("store already holds ratings: demo data not loaded again")
    else:
        report_import(summary, as_json=False)


COMMANDS = (status, db, import_group, demo)
