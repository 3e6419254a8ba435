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
    assert text[0].split()[:3] == ["version", "stage", "model"]  # a header row
    assert set(text[1]) == {"-", " "}
    assert text[2].split()[:3] == [str(version), "production", "itemknn"]
    # Columns line up: each header starts where its values start.
    assert text[2].index("production") == text[0].index("stage")
    assert any(line.split()[2:4] == ["promote", str(version)] for line in text[3:])

    status = run_cli("status", env=env, check=True).stdout
    assert f"production_model: version {version} (itemknn, snapshot" in status
    assert not set("{}[]'") & set(status)  # no Python reprs
    assert (
        json.loads(run_cli("status", "--json", env=env, check=True).stdout)["production_model"][
            "version"
        ]
        == version
    )
