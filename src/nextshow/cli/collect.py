"""Collect commands: IMDb's title datasets and users' review ratings."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from nextshow.cli.common import (
    EXIT_BOT_WALL,
    AppContext,
    datasets_option,
    echo_json,
    folder_option,
    imdb_filter_options,
    json_option,
    pass_app,
    report_import,
    report_imports,
)


@click.group("collect")
def collect_group() -> None:
    """Collect data from IMDb: the title datasets and users' review ratings."""


@collect_group.command("imdb-datasets")
@click.option(
    "--base-url", default=None, help="Datasets host; default: NEXTSHOW_IMDB_DATASETS_URL."
)
@folder_option("--dest", "Download folder; default: <home>/collect/imdb.")
@click.option("--no-import", is_flag=True, help="Download only; do not import the catalogue.")
@datasets_option
@imdb_filter_options
@json_option("Machine-readable summary.")
@pass_app
def collect_imdb_datasets_cmd(
    app: AppContext,
    base_url: str | None,
    dest: Path | None,
    no_import: bool,
    datasets: tuple[str, ...],
    title_types: frozenset[str],
    min_votes: int,
    as_json: bool,
) -> None:
    """Download IMDb's datasets (resumable, skipped when unchanged), then import them: the titles
    of ``--title-types`` with ``--min-votes``, and their people, alternative titles, episodes."""
    from nextshow.catalog.imdb_import import import_imdb_titles
    from nextshow.catalog.imdb_tv_import import import_imdb_catalogue
    from nextshow.collect.downloader import DownloadError, download_configured

    try:
        results = download_configured(
            app.settings,
            base_url=base_url,
            dest_dir=dest,
            progress=app.progress,
            files=tuple(f"{name}.tsv.gz" for name in datasets),
        )
    except DownloadError as exc:
        raise click.ClickException(str(exc)) from exc
    downloads = {"downloads": [r.as_dict() for r in results]}
    if not as_json:
        for result in results:
            resumed = f", resumed at byte {result.resumed_from}" if result.resumed_from else ""
            click.echo(
                f"{result.path.name}: {result.status} ({result.bytes_fetched} bytes fetched"
                f"{resumed}; {result.size} bytes on disk)"
            )
    if no_import:
        if as_json:
            echo_json(downloads)
        return
    if len(datasets) > 2:
        files = {name: result.path for name, result in zip(datasets, results, strict=True)}
        summaries = import_imdb_catalogue(
            app.sessions,
            files,
            title_types=title_types,
            min_votes=min_votes,
            **app.import_options(),
        )
        report_imports(summaries, as_json, downloads)
        return
    summary = import_imdb_titles(
        app.sessions,
        results[0].path,
        results[1].path,
        title_types=title_types,
        min_votes=min_votes,
        **app.import_options(),
    )
    report_import(summary, as_json, downloads)


@collect_group.command("reviews")
@click.option("--top", type=click.IntRange(min=1), help="The N catalogue shows with most votes.")
@click.option("--ids", help="Comma-separated IMDb ids (tt…), crawled in the order given.")
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    default=None,
    help="Review pages per show at most; default: NEXTSHOW_COLLECT_MAX_PAGES.",
)
@folder_option(
    "--job-dir", "Resumable job folder (queue, HTTP cache, CSV); default: <home>/collect/reviews."
)
@click.option("--base-url", default=None, help="Review site; default: NEXTSHOW_IMDB_REVIEWS_URL.")
@click.option(
    "--no-politeness",
    is_flag=True,
    help="Benchmarks against a local server only: no robots.txt, delay, throttle or cache.",
)
@json_option("Machine-readable summary.")
@pass_app
def collect_reviews_cmd(
    app: AppContext,
    top: int | None,
    ids: str | None,
    max_pages: int | None,
    job_dir: Path | None,
    base_url: str | None,
    no_politeness: bool,
    as_json: bool,
) -> None:
    """Crawl users' review ratings of shows, most-reviewed first, and import them."""
    from nextshow.collect.crawl import (
        BOT_WALL_MESSAGE,
        CrawlError,
        collect_reviews,
        crawl_config,
        is_local_url,
        parse_imdb_ids,
        top_shows,
    )

    settings = app.settings
    if (top is None) == (ids is None):
        raise click.UsageError("give exactly one of --top N or --ids tt…")
    if no_politeness and not (
        is_local_url(base_url or settings.imdb_reviews_url)
        and is_local_url(settings.imdb_graphql_url)
    ):
        raise click.UsageError("--no-politeness is for benchmarks against a local server only")
    if settings.imdb_graphql_persisted and not settings.imdb_reviews_query_hash:
        raise click.UsageError(
            "NEXTSHOW_IMDB_GRAPHQL_PERSISTED needs NEXTSHOW_IMDB_REVIEWS_QUERY_HASH"
        )
    if ids is not None:
        try:
            imdb_ids = parse_imdb_ids(ids)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--ids") from exc
    else:
        with app.sessions() as session:
            imdb_ids = top_shows(session, top or 0)
        if not imdb_ids:
            raise click.ClickException(
                "no catalogue shows with IMDb votes: run `nextshow collect imdb-datasets` first"
            )
    config = crawl_config(
        settings,
        imdb_ids,
        base_url=base_url,
        job_dir=job_dir,
        max_pages=max_pages,
        polite=not no_politeness,
        verbose=logging.getLogger().level <= logging.INFO,
        progress=app.progress,
    )
    try:
        result, summary = collect_reviews(
            app.sessions,
            config,
            like_threshold=settings.like_threshold,
            **app.import_options(),
        )
    except (CrawlError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    counts = result.summary()
    if not as_json:
        click.echo(
            f"{counts['shows']} shows, {counts['pages']} pages, {counts['reviews']} reviews: "
            f"{counts['ratings']} ratings, skipped {counts['skipped_no_rating']} without rating, "
            f"{counts['skipped_deleted_user']} by deleted users, "
            f"{counts['skipped_malformed']} malformed, {counts['duplicates']} seen before; "
            f"{counts['failures']} failures, {counts['retries']} retries, "
            f"{counts['robots_forbidden']} forbidden by robots.txt ({counts['finish_reason']})"
        )
        if counts["graphql_errors"]:
            click.echo(
                f"IMDb's GraphQL API refused {counts['graphql_errors']} pages, last with: "
                f"{counts['graphql_error']}",
                err=True,
            )
    if not (result.walled or result.query_not_found):
        report_import(summary, as_json, {"crawl": counts})
        return
    # Stopped early: the stop is the news; ratings collected before it are imported all the same.
    if as_json:
        echo_json({"crawl": counts, "import": summary.as_dict()})
    else:
        click.echo(f"imported {summary.inserted} ratings collected before the stop")
    if result.walled:
        click.echo(BOT_WALL_MESSAGE, err=True)
        sys.exit(EXIT_BOT_WALL)
    raise click.ClickException(
        f"IMDb does not know the persisted reviews query ({counts['graphql_error']}): set "
        "NEXTSHOW_IMDB_REVIEWS_QUERY_HASH to the current hash, or turn "
        "NEXTSHOW_IMDB_GRAPHQL_PERSISTED off to send nextshow's own query"
    )


COMMANDS = (collect_group,)
