"""`nextshow models`: the same model-version bodies as the API and the pages, and its table."""

from __future__ import annotations

import json

from nextshow.registry.versions import list_versions
from nextshow.schemas.models import ModelEventPublic, ModelVersionPublic
from tests.conftest import run_cli
from tests.pipeline.conftest import seed_ratings
from tests.service.conftest import train_and_promote


def test_models_json_uses_the_response_schemas(sqlite_store):
    seed_ratings(sqlite_store)
    version = train_and_promote(sqlite_store, "itemknn", k=20)
    env = sqlite_store.env()
    listing = json.loads(run_cli("models", "--json", env=env, check=True).stdout)
    with sqlite_store.sessions() as session:
        (row,) = list_versions(session)
        expected = ModelVersionPublic.model_validate(row).model_dump(mode="json")
    assert listing["versions"] == [expected]
    assert listing["versions"][0]["stage"] == "production"
    assert set(listing["events"][0]) == set(ModelEventPublic.model_fields)
    assert [e["action"] for e in listing["events"]] == ["register", "promote"]

    text = run_cli("models", "--events", env=env, check=True).stdout.splitlines()
    assert text[0].split()[:3] == [str(version), "production", "itemknn"]
    assert any(f"promote  v{version}" in line for line in text[1:])
