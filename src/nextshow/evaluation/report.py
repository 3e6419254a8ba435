"""The comparison report: one row per model, as terminal text, markdown, JSON and a PNG chart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nextshow.evaluation.evaluate import ModelEvaluation
from nextshow.evaluation.metrics import metric_key
from nextshow.evaluation.protocol import EvaluationResult
from nextshow.metric_definitions import definition

TABLE_METRICS = (
    *("precision", "recall", "ndcg", "hit", "coverage"),
    *("novelty", "personalization", "longtail_ndcg"),
)
REPORT_NAMES = {"markdown": "report.md", "chart": "ndcg.png", "json": "results.json"}


def default_out_dir(reports_dir: Path, now: datetime | None = None) -> Path:
    """``<reports_dir>/evaluation-<UTC timestamp>``: one folder per run, never overwritten."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return reports_dir / f"evaluation-{stamp}"


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _format_params(params: dict[str, Any]) -> str:
    def fmt(value: Any) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{key}={fmt(value)}" for key, value in sorted(params.items())) or "-"


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"  # "-": a metric older runs did not have


def table_rows(
    models: Sequence[ModelEvaluation], k: int, tuned: bool = True
) -> tuple[list[str], list[list[str]]]:
    """Header and rows (strings) of the comparison table, in the order the models were run."""
    header = [
        "model",
        *(metric_key(m, k) for m in TABLE_METRICS),
        "fit s",
        "artifact",
        "best params" if tuned else "params",  # only those set; the JSON has every param
    ]
    rows = [
        [
            m.model,
            *(_cell(m.metrics.get(metric_key(name, k))) for name in TABLE_METRICS),
            f"{m.fit_seconds:.2f}",
            human_bytes(m.artifact_bytes),
            _format_params(m.chosen) if m.chosen else "defaults",
        ]
        for m in models
    ]
    return header, rows


def format_text_table(header: list[str], rows: list[list[str]]) -> str:
    """Aligned columns for the terminal (numbers right-aligned, names and params left)."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    left = {0, len(header) - 1}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def format_markdown_table(header: list[str], rows: list[list[str]]) -> str:
    align = ["---" if i in (0, len(header) - 1) else "---:" for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "| " + " | ".join(align) + " |", *(line(r) for r in rows)])


def describe_protocol(result: EvaluationResult) -> str:
    """A few lines saying what was measured, so a table is never read without its setup."""
    data, split = result.data, result.split
    lines = [
        f"Data: {data.get('ratings', '?')} ratings, {data.get('likes', '?')} likes "
        f"(rating >= {data.get('like_threshold', '?')}), {data.get('users', '?')} users, "
        f"{data.get('shows', '?')} shows.",
        (
            f"Split: users with >= {result.min_likes} likes ({split['test_users']} test users); "
            f"each user's likes in time order, last {split['test_fraction']:.0%} held out "
            f"({split['test_likes']} test likes, {split['train_likes']} train likes)."
        )
        if split.get("rule", "user-time") == "user-time"
        else (
            f"Split: one cut-off time for everyone at the {1 - split['test_fraction']:.0%} "
            f"quantile of like times; users with >= {result.min_likes} likes on both sides "
            f"({split['test_users']} test users) are scored on their likes after it "
            f"({split['test_likes']} test likes, {split['train_likes']} train likes, "
            f"{split['dropped_likes']} later likes of other users dropped)."
        ),
        f"Top-{result.k} recommendations from each test user's training likes; seed {result.seed}.",
    ]
    eligible = split.get("eligible_test_users", split["test_users"])
    if eligible != split["test_users"]:
        lines.append(
            f"Scored on a sample of {split['test_users']} of the {eligible} test users drawn "
            f"with seed {result.seed} (the protocol's max_test_users); training is unchanged."
        )
    keys = [metric_key(name, result.k) for name in TABLE_METRICS]
    lines.append("Metrics: " + "; ".join(f"{key}: {definition(key)}" for key in keys) + ".")
    if result.choice is not None:
        lines.append(f"Choice: {result.choice.explain()}.")
    for skipped in result.skipped:
        lines.append(f"Skipped {skipped.model}: {skipped.reason}.")
    if result.tuned and result.validation:
        lines.append(
            f"Parameters chosen by NDCG@{result.k} on a validation split carved from the training "
            f"part only ({result.validation['test_users']} validation users), then refit on the "
            "full training part."
        )
    else:
        lines.append("Default parameters (no tuning).")
    return "\n".join(lines)


def text_report(result: EvaluationResult) -> str:
    header, rows = table_rows(result.models, result.k, result.tuned)
    return describe_protocol(result) + "\n\n" + format_text_table(header, rows)


def markdown_report(result: EvaluationResult, title: str = "nextshow model comparison") -> str:
    header, rows = table_rows(result.models, result.k, result.tuned)
    return (
        f"# {title}\n\n{describe_protocol(result)}\n\n"
        f"{format_markdown_table(header, rows)}\n\n"
        f"![NDCG@{result.k} per model]({REPORT_NAMES['chart']})\n"
    )


def write_chart(
    labels: Sequence[str],
    values: Sequence[float],
    path: Path,
    *,
    title: str,
    xlabel: str,
    highlight: Sequence[str] = (),
) -> Path:
    """Horizontal bars, best at the top, each labelled with its value (PNG, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed: reports are written on servers and in CI
    import matplotlib.pyplot as plt

    order = sorted(range(len(values)), key=lambda i: values[i])
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(values) + 1.4), dpi=110)
    colors = ["#d1495b" if labels[i] in highlight else "#30638e" for i in order]
    bars = ax.barh([labels[i] for i in order], [values[i] for i in order], color=colors)
    ax.bar_label(bars, labels=[f"{values[i]:.4f}" for i in order], padding=3, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.set_xlim(0, max([*values, 1e-9]) * 1.18)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})  # no version stamp: same input, same bytes
    plt.close(fig)
    return path


def write_report(result: EvaluationResult, out_dir: Path) -> dict[str, Path]:
    """Write ``report.md``, ``ndcg.png`` and ``results.json`` into ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / name for kind, name in REPORT_NAMES.items()}
    paths["markdown"].write_text(markdown_report(result), encoding="utf-8")
    write_chart(
        [m.model for m in result.models],
        [m.metric("ndcg", result.k) for m in result.models],
        paths["chart"],
        title=f"NDCG@{result.k} on the held-out likes",
        xlabel=f"NDCG@{result.k} (higher is better)",
    )
    paths["json"].write_text(json.dumps(result.as_dict(), indent=2, default=str), encoding="utf-8")
    return paths
