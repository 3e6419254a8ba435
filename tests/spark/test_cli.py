"""`nextshow train --engine spark` end to end, in-process (it reuses the test Spark session)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from nextshow.cli import cli
from nextshow.config import get_settings
from tests.pipeline.conftest import seed_ratings


def _invoke(args: list[str]):
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def cli_store(sqlite_store, monkeypatch):
    seed_ratings(sqlite_store)
    monkeypatch.setenv("NEXTSHOW_HOME", str(sqlite_store.home))
    monkeypatch.setenv("NEXTSHOW_DATABASE_URL", sqlite_store.url)
    monkeypatch.setenv("NEXTSHOW_PROGRESS", "false")
    monkeypatch.setenv("NEXTSHOW_SPARK_MASTER", "local[2]")
    return sqlite_store


def test_train_on_spark_registers_and_promotes(spark, cli_store) -> None:
    args = ["train", "--engine", "spark", "--model", "popularity", "--no-tune", "--json"]
    result = _invoke([*args, "--promote"])
    assert result.exit_code == 0, result.output
    trained = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert trained["engine"] == "spark" and trained["model"] == "popularity"
    assert "is now in production" in result.stdout
    listed = json.loads(_invoke(["models", "--json"]).stdout)
    [version] = listed["versions"]
    assert (version["engine"], version["stage"]) == ("spark", "production")


def test_train_on_spark_refuses_a_model_it_cannot_train(cli_store) -> None:
    result = _invoke(["train", "--engine", "spark", "--model", "ease", "--no-tune"])
    assert result.exit_code != 0
    assert "model 'ease' has no Spark engine" in result.output
    assert "itemknn" in result.output


def test_train_on_spark_without_a_model_chooses_among_the_candidates(
    spark, cli_store, monkeypatch
) -> None:
    monkeypatch.setenv("NEXTSHOW_CANDIDATE_MODELS", "popularity,ease,itemknn")
    result = _invoke(["train", "--engine", "spark", "--no-tune", "--json"])
    assert result.exit_code == 0, result.output
    trained = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert trained["engine"] == "spark" and trained["model"] in {"popularity", "itemknn"}
    assert trained["choice"]["selected"] == trained["model"]
    assert [s["model"] for s in trained["choice"]["skipped"]] == ["ease"]
