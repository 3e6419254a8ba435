"""Offline evaluation: data, splits, metrics, tuning and the comparison report.

The CLI (``nextshow evaluate``), the quality benchmark and the training pipeline all run the same
protocol through :func:`run_evaluation`.
"""

from nextshow.evaluation.dataset import Interactions, build_interactions, load_interactions
from nextshow.evaluation.evaluate import ModelEvaluation, RunOptions, evaluate
from nextshow.evaluation.protocol import EvaluationResult, run_evaluation
from nextshow.evaluation.splits import Split, TemporalHoldout, validation_split

__all__ = [
    "EvaluationResult",
    "Interactions",
    "ModelEvaluation",
    "RunOptions",
    "Split",
    "TemporalHoldout",
    "build_interactions",
    "evaluate",
    "load_interactions",
    "run_evaluation",
    "validation_split",
]
