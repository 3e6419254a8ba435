"""Progress bars move during the long steps: per model and per tuning trial, in train and evaluate.

tqdm redraws at most every 0.1 s; ``TQDM_MININTERVAL=0`` makes it draw every update, so each
step's count shows in stderr (the bars' carriage returns are split into lines here).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.conftest import run_cli
from tests.pipeline.conftest import seed_ratings


def _env(base: dict[str, str]) -> dict[str, str]:
    return {**base, "NEXTSHOW_PROGRESS": "true", "TQDM_MININTERVAL": "0"}


def _counts(stderr: str, desc: str) -> list[tuple[int, int]]:
    """Every ``n/total`` the bar called ``desc`` showed, in order."""
    found = []
    for line in re.split(r"[\r\n]", stderr):
        m = re.search(rf"{re.escape(desc)}:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)", line)
        if m:
            found.append((int(m[1]), int(m[2])))
    return found


def _steps(stderr: str, desc: str) -> tuple[list[int], int]:
    counts = _counts(stderr, desc)
    assert counts, f"no {desc!r} bar in:\n{stderr[-2000:]}"
    total = counts[0][1]
    return sorted({n for n, t in counts if t == total}), total


def test_evaluate_bars_advance_per_model_and_per_trial(tmp_path: Path) -> None:
    lines = ["user_id,show,rating,timestamp"]
    for user in range(12):
        for show in range(8):
            if (user + show) % 3:
                stamp = 1_365_000_000 + user * 10 + show
                lines.append(f"{user},tt{show:07d},{8 + (user * show) % 3},{stamp}")
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = _env({**os.environ, "NEXTSHOW_HOME": str(tmp_path / "home")})
    args = ("evaluate", "--data", str(ratings), "--models", "popularity,itemknn", "--json")
    result = run_cli(*args, env=env, check=True)
    steps, total = _steps(result.stderr, "models")
    assert total == 2 and steps == [0, 1, 2]
    steps, total = _steps(result.stderr, "tune itemknn")
    assert total > 1 and steps == list(range(total + 1))  # one step per grid point


def test_train_bar_moves_inside_the_evaluate_stage(store) -> None:
    seed_ratings(store)
    env = store.env()
    run_cli("snapshot", env=env, check=True)
    result = run_cli("train", "--model", "itemknn", env=_env(env), check=True)
    steps, total = _steps(result.stderr, "train")
    assert total == 5 and steps == [0, 1, 2, 3, 4, 5]
    # The evaluate stage (most of the time) has bars of its own: each tuning trial is a step.
    steps, total = _steps(result.stderr, "tune itemknn")
    assert total > 1 and steps == list(range(total + 1))
