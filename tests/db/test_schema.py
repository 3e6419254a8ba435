"""The schema: migrations apply on both databases, constraints hold, status reports counts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from nextshow.catalog.normalize import normalize_title
from nextshow.db.migrate import upgrade_locked
from nextshow.db.models import Rating, Show, User
from nextshow.db.session import current_revision, head_revision
from tests.conftest import run_cli


def test_migrations_create_tables_at_head(store):
    tables = set(inspect(store.engine).get_table_names())
    assert {"shows", "users", "ratings", "alembic_version"} <= tables
    assert current_revision(store.engine) == head_revision()
    assert upgrade_locked(store.engine) == (head_revision(), head_revision())  # idempotent
    assert current_revision(store.engine) == head_revision()


def _show(**kw) -> Show:
    title = kw.pop("title", "The Wire")
    return Show(title=title, normalized_title=normalize_title(title), source="imdb", **kw)


def test_rating_is_one_row_per_user_and_show(store):
    with store.sessions() as s, s.begin():
        show = _show(imdb_id="tt0306414")
        user = User(external_id="1", source="test")
        s.add_all([show, user])
        s.flush()
        s.add(Rating(user_id=user.id, show_id=show.id, rating=9, liked=True, source="test"))
    with pytest.raises(IntegrityError), store.sessions() as s, s.begin():
        s.add(Rating(user_id=user.id, show_id=show.id, rating=3, liked=False, source="test"))
    with store.sessions() as s:
        assert s.scalars(select(Rating.rating)).all() == [9]


def test_rating_outside_scale_is_refused_by_the_database(store):
    with store.sessions() as s, s.begin():
        show = _show()
        user = User(external_id="1", source="test")
        s.add_all([show, user])
    with pytest.raises(IntegrityError), store.sessions() as s, s.begin():
        s.add(Rating(user_id=user.id, show_id=show.id, rating=11, liked=True, source="test"))


def test_rating_needs_existing_user_and_show(store):
    with pytest.raises(IntegrityError), store.sessions() as s, s.begin():
        s.add(Rating(user_id=999, show_id=999, rating=5, liked=False, source="test"))


def test_imdb_id_is_unique(store):
    with store.sessions() as s, s.begin():
        s.add(_show(imdb_id="tt1"))
    with pytest.raises(IntegrityError), store.sessions() as s, s.begin():
        s.add(_show(imdb_id="tt1", title="Other"))


def test_status_json_counts_and_hides_password(store):
    with store.sessions() as s, s.begin():
        show = _show()
        users = [User(external_id=str(i), source="test") for i in range(3)]
        s.add(show)
        s.add_all(users)
        s.flush()
        s.add_all(
            Rating(user_id=u.id, show_id=show.id, rating=r, liked=r >= 8, source="test")
            for u, r in zip(users, [9, 8, 2], strict=True)
        )
    env = store.env()
    if store.backend == "postgresql":
        env["NEXTSHOW_DATABASE_URL"] = store.url.replace("postgres@", "postgres:s3cret@")
    result = run_cli("status", "--json", env=env, check=True)
    info = json.loads(result.stdout)
    assert (info["shows"], info["users"], info["ratings"], info["likes"]) == (1, 3, 3, 2)
    assert "s3cret" not in result.stdout
    assert info["production_model"] is None


def test_sqlite_default_uses_wal_and_foreign_keys(sqlite_store):
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_default_database_is_sqlite_under_home(tmp_path):
    from nextshow.config import Settings

    settings = Settings(home=tmp_path)
    assert settings.db_url == f"sqlite:///{tmp_path / 'nextshow.db'}"
    assert settings.like_threshold == 8.0


def test_every_subcommand_has_help():
    import click

    from nextshow.cli import cli

    def walk(group: click.Group, prefix: list[str]):
        for name, command in group.commands.items():
            yield [*prefix, name]
            if isinstance(command, click.Group):
                yield from walk(command, [*prefix, name])

    from click.testing import CliRunner

    runner = CliRunner()
    paths = list(walk(cli, []))
    assert ["import", "ratings"] in paths and ["status"] in paths
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_head_read_from_the_migration_files_is_alembics():
    """The quick reading of the files (no Alembic import at start) agrees with Alembic."""
    from nextshow.db.session import _alembic_head, head_revision

    assert head_revision() == _alembic_head() is not None
