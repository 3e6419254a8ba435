"""The comparison report: table, markdown, chart and JSON from an EvaluationResult value."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from nextshow.evaluation.evaluate import ModelEvaluation
from nextshow.evaluation.protocol import EvaluationResult
from nextshow.evaluation.report import (
    default_out_dir,
    human_bytes,
    markdown_report,
    text_report,
    write_report,
)


def _result() -> EvaluationResult:
    def model(name: str, ndcg: float, params: dict) -> ModelEvaluation:
        metrics = {"precision@10": 0.03, "recall@10": 0.15, "ndcg@10": ndcg, "hit@10": 0.25}
        metrics["coverage@10"] = 0.1
        return ModelEvaluation(name, params, metrics, 100, 1.5, 0.2, 2048, chosen=params)

    return EvaluationResult(
        models=[model("popularity", 0.08, {}), model("ease", 0.09, {"l2": 100.0})],
        k=10,
        seed=42,
        min_likes=5,
        tuned=True,
        data={"ratings": 10, "likes": 8, "users": 3, "shows": 4, "like_threshold": 8.0},
        split={"test_users": 2, "test_likes": 2, "train_likes": 6, "test_fraction": 0.2},
        validation={"test_users": 1},
    )


def test_tables_name_every_model_and_metric() -> None:
    result = _result()
    text = text_report(result)
    assert "ndcg@10" in text and "best params" in text
    assert any(line.startswith("ease") and "l2=100" in line for line in text.splitlines())
    markdown = markdown_report(result)
    assert (
        "| ease | 0.0300 | 0.1500 | 0.0900 | 0.2500 | 0.1000 | - | - | - | 1.50 | 2.0 KB | l2=100 |"
        in markdown
    )
    assert "validation split carved from the training part only" in markdown
    assert result.best().model == "ease"


def test_write_report(tmp_path: Path) -> None:
    paths = write_report(_result(), tmp_path / "out")
    assert paths["chart"].read_bytes()[:4] == b"\x89PNG"
    assert "ndcg.png" in paths["markdown"].read_text(encoding="utf-8")
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["models"][1]["model"] == "ease"


def test_default_out_dir_and_sizes() -> None:
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert default_out_dir(Path("/r"), now) == Path("/r/evaluation-20240506T070809Z")
    assert human_bytes(None) == "-"
    assert human_bytes(512) == "512 B"
    assert human_bytes(3 * 1024 * 1024) == "3.0 MB"
