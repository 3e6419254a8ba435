"""``nextshow evaluate`` end to end on the bundled demo data, in a subprocess."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from nextshow.cli import cli
from nextshow.config import get_settings
from tests.conftest import run_cli


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "NEXTSHOW_HOME": str(home), "NEXTSHOW_PROGRESS": "false"}


@pytest.mark.slow
def test_evaluate_popularity_on_demo_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run_cli(
        "evaluate",
        "--data",
        "demo",
        "--models",
        "popularity",
        "--no-tune",
        "--split",
        "user-time",  # the original heuristic, so the figure matches the datasets README
        "--out",
        str(out),
        env=_env(tmp_path / "home"),
        check=True,
    )
    # the terminal table
    assert "ndcg@10" in result.stdout
    line = next(row for row in result.stdout.splitlines() if row.startswith("popularity"))
    # precision, recall, ndcg, hit, coverage: the datasets README measures popularity NDCG@10 0.080
    precision, recall, ndcg, hit, coverage = (float(v) for v in line.split()[1:6])
    assert ndcg == pytest.approx(0.0811, abs=0.002)
    assert precision == pytest.approx(0.0273, abs=0.001)
    assert 0 < coverage < 0.01  # one list for everybody: ~10 + a few shows out of 6,718
    assert 0 < recall < 1 and 0 < hit < 1
    # markdown, chart and JSON in the requested folder
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| popularity |" in markdown
    assert "2711 test users" in markdown
    assert (out / "ndcg.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["split"]["test_users"] == 2711
    assert data["models"][0]["metrics"]["ndcg@10"] == pytest.approx(ndcg, abs=1e-4)


def test_evaluate_csv_json_and_default_out_dir(tmp_path: Path, monkeypatch) -> None:
    """In-process on a small CSV: --json output, and the report lands under <home>/reports."""
    lines = ["user_id,show,rating,timestamp"]
    for user in range(12):
        for show in range(8):
            if (user + show) % 3:
                stamp = 1_365_000_000 + user * 10 + show  # inside the import window (>= 1990)
                lines.append(f"{user},tt{show:07d},{8 + (user * show) % 3},{stamp}")
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    home = tmp_path / "home"
    monkeypatch.setenv("NEXTSHOW_HOME", str(home))
    monkeypatch.setenv("NEXTSHOW_PROGRESS", "false")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli,
            ["evaluate", "--data", str(ratings), "--models", "popularity,itemknn", "--json"],
            catch_exceptions=False,
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["data"]["likes"] == len(lines) - 1
    assert [m["model"] for m in data["models"]] == ["popularity", "itemknn"]
    assert data["tuned"] is True
    assert data["split"]["rule"] == "global-time"  # auto: the CSV has timestamps
    assert data["selected"] in ("popularity", "itemknn")
    assert data["protocol"]["seed"] == 42
    assert {"novelty@10", "personalization@10", "longtail_ndcg@10"} <= set(
        data["models"][0]["metrics"]
    )
    report = Path(data["report"]["markdown"])
    assert report.parent.parent == home / "reports"
    assert report.parent.name.startswith("evaluation-")
    assert report.is_file()
    assert Path(data["report"]["chart"]).is_file()


def test_evaluate_refuses_unknown_model(tmp_path: Path) -> None:
    result = run_cli("evaluate", "--models", "nope", "--no-tune", env=_env(tmp_path))
    assert result.returncode == 2
    assert "unknown model(s) nope" in result.stderr


def test_evaluate_all_runs_to_the_end_without_timestamps(tmp_path: Path, monkeypatch) -> None:
    """A ratings file without times: time models are skipped with why, the split is random."""
    lines = ["user_id,show,rating"]
    for user in range(12):
        for show in range(8):
            if (user + show) % 3:
                lines.append(f"{user},tt{show:07d},{8 + (user * show) % 3}")
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("NEXTSHOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEXTSHOW_PROGRESS", "false")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli,
            ["evaluate", "--data", str(ratings), "--models", "all", "--no-tune", "--json"],
            catch_exceptions=False,
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["split"]["rule"] == "random"
    skipped = {s["model"]: s["reason"] for s in data["skipped"]}
    assert "timestamps" in skipped["time-aware"] and "timestamps" in skipped["recent-popularity"]
    assert data["selected"] in {m["model"] for m in data["models"]}
