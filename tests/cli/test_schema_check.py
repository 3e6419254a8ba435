"""Start-up on a schema that is not at head: refused with the command to run, or created."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect

from nextshow.db.session import current_revision, head_revision
from tests.cli.conftest import OLD_REVISION
from tests.conftest import run_cli

EXIT_SCHEMA = 4


@pytest.mark.parametrize(
    "args",
    [("status",), ("serve", "--port", "0"), ("worker",), ("scheduler", "--once"), ("models",)],
    ids=lambda args: args[0],
)
def test_processes_refuse_an_old_schema_naming_the_upgrade_command(old_store, args):
    result = run_cli(*args, env=old_store.env(), timeout=120)
    assert result.returncode == EXIT_SCHEMA, result.stdout + result.stderr
    assert "nextshow db upgrade" in result.stderr
    assert f"revision {OLD_REVISION}" in result.stderr
    assert "Traceback" not in result.stderr
    # Refusing means not touching: the schema is still the old one.
    assert current_revision(old_store.engine) == OLD_REVISION


def test_db_upgrade_migrates_an_old_schema_then_commands_run(old_store):
    env = old_store.env()
    upgraded = run_cli("db", "upgrade", env=env, check=True)
    assert f"from revision {OLD_REVISION} to {head_revision()}" in upgraded.stdout
    assert current_revision(old_store.engine) == head_revision()
    again = run_cli("db", "upgrade", env=env, check=True)
    assert "nothing to do" in again.stdout
    status = run_cli("status", "--json", env=env, check=True)
    assert json.loads(status.stdout)["production_model"] is None


def test_status_creates_an_empty_database_at_head(empty_store):
    assert inspect(empty_store.engine).get_table_names() == []
    result = run_cli("status", "--json", env=empty_store.env(), check=True)
    assert json.loads(result.stdout)["shows"] == 0
    assert current_revision(empty_store.engine) == head_revision()


def test_serve_does_not_create_an_empty_database(empty_store):
    """Only one-shot commands create: a server on an empty database asks for the upgrade."""
    result = run_cli("worker", env=empty_store.env(), timeout=120)
    assert result.returncode == EXIT_SCHEMA and "nextshow db upgrade" in result.stderr
    assert inspect(empty_store.engine).get_table_names() == []


def test_the_api_refuses_an_old_schema(old_store):
    from fastapi.testclient import TestClient

    from nextshow.db.migrate import SchemaOutdated
    from nextshow.service.app import create_app

    with (
        pytest.raises(SchemaOutdated, match="nextshow db upgrade"),
        TestClient(create_app(old_store.settings)),
    ):
        pass
    assert current_revision(old_store.engine) == OLD_REVISION
