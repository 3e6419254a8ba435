"""Catalogue commands: look shows up the way the web page and the API do."""

from __future__ import annotations

from typing import Any

import click

from nextshow.cli.common import AppContext, echo_json, json_option, pass_app


def _hit_line(hit: Any) -> str:
    return f"{hit.show_id:>7}  {hit.score:5.1f}  {hit.title} ({hit.start_year or '?'})"


@click.group()
def shows() -> None:
    """Look up shows in the catalogue."""


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


COMMANDS = (shows,)
