"""Catalogue commands: look shows up the way the web page and the API do."""

from __future__ import annotations

from typing import Any

import click

from nextshow.cli.common import AppContext, echo_json, json_option, pass_app


def _hit_line(hit: Any) -> str:
    return f"{hit.show_id:>7}  {hit.score:5.1f}  {hit.title} ({hit.start_year or '?'})"


@click.group()
def shows() -> None:
    """Look up shows in the catalogue; review user-submitted ones."""


@shows.command("search")
@click.argument("query")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@json_option()
@pass_app
def shows_search(app: AppContext, query: str, limit: int, as_json: bool) -> None:
    """Autocomplete-style search: prefix first, then fuzzy matches."""
    from nextshow.catalog.matching import load_title_index

    with app.sessions() as session:
        index = load_title_index(session)
    hits = index.search(query, limit=limit)
    if as_json:
        echo_json([hit.as_dict() for hit in hits])
        return
    for hit in hits:
        click.echo(_hit_line(hit))


@shows.command("match")
@click.argument("text")
@json_option()
@pass_app
def shows_match(app: AppContext, text: str, as_json: bool) -> None:
    """Resolve what a user typed (title, "Title (Year)" or IMDb id) to catalogue shows."""
    from nextshow.catalog.matching import load_title_index

    with app.sessions() as session:
        index = load_title_index(session)
    result = index.match(text)
    if as_json:
        echo_json(result.as_dict())
        return
    click.echo(f"{result.status}: {text!r}")
    for hit in result.candidates:
        click.echo(_hit_line(hit))


def _review(app: AppContext, action: str, show_id: int, **kwargs: Any) -> None:
    """Run one review action in a transaction; a wrong id or state is a one-line error."""
    from nextshow.catalog import review

    try:
        with app.sessions() as session, session.begin():
            show = getattr(review, action)(session, show_id, **kwargs)
            line = f"{action}: show {show_id} -> {show.id} {show.title!r} ({show.status})"
    except review.ReviewError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(line)


@shows.command("pending")
@click.option("-n", "--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@json_option()
@pass_app
def shows_pending(app: AppContext, limit: int, as_json: bool) -> None:
    """User-submitted titles waiting for review, oldest first, with their distinct likers."""
    from nextshow.catalog.review import pending_shows

    with app.sessions() as session:
        rows = [
            {"id": show.id, "title": show.title, "start_year": show.start_year, "likers": n}
            for show, n in pending_shows(session, limit=limit)
        ]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']:>7}  {row['likers']:>5} likers  {row['title']!r}")


@shows.command("approve")
@click.argument("show_id", type=int)
@pass_app
def shows_approve(app: AppContext, show_id: int) -> None:
    """Make a pending show searchable and recommendable."""
    _review(app, "approve", show_id)


@shows.command("reject")
@click.argument("show_id", type=int)
@pass_app
def shows_reject(app: AppContext, show_id: int) -> None:
    """Keep a pending show out of search and recommendations for good (its likes stay)."""
    _review(app, "reject", show_id)


@shows.command("merge")
@click.argument("show_id", type=int)
@click.argument("into", type=int)
@pass_app
def shows_merge(app: AppContext, show_id: int, into: int) -> None:
    """Move a pending show's likes to the catalogue show INTO and delete it."""
    _review(app, "merge", show_id, into=into)


COMMANDS = (shows,)
