"""Research helper: score one model recipe on the validation split (and optionally test) quickly.

.venv/bin/python benchmarks/exp_ranker.py --split global-time --model ranker --params '{}'
.venv/bin/python benchmarks/exp_ranker.py --origins --model ranker --params '{"prior": 0.0}'

``--origins`` scores on five validation splits instead of one, all inside the test split's
training part: the bench's validation split (v1), the same 10 % of likes earlier (v1b), the
validation split of v1 (v2), v2 10 % earlier (v2b) and the validation split of v2 (v3). One
leak-free validation split is one moment in time; a recipe that wins at most of them is less
likely to have won by that moment's luck.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

from nextshow.evaluation.dataset import load_interactions
from nextshow.evaluation.evaluate import RunOptions, evaluate
from nextshow.evaluation.splits import Split, make_holdout, validation_split

EARLIER = 0.1  # v1b / v2b: the origin moved back by this share of the likes


def earlier(split: Split, shift: float = EARLIER) -> Split:
    """``validation_split(split)`` with its origin moved back: the last ``shift`` of the training
    likes (by the split's own rule) are dropped first."""
    shifted = make_holdout(split.rule, split.min_likes, shift).split(
        split.train, split.train_timestamps
    )
    return validation_split(shifted, make_holdout(split.rule, split.min_likes, split.test_fraction))


def origins(split: Split) -> dict[str, Split]:
    """The five validation splits of ``--origins`` (see module docstring)."""
    v1 = validation_split(split)
    v2 = validation_split(v1)
    return {
        "v1": v1,
        "v1b": earlier(split),
        "v2": v2,
        "v2b": earlier(v1),
        "v3": validation_split(v2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="global-time")
    parser.add_argument("--model", default="ranker")
    parser.add_argument("--params", action="append", default=[])
    parser.add_argument("--test", action="store_true")
    parser.add_argument("--origins", action="store_true", help="five validation origins")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    data = load_interactions("demo")
    split = make_holdout(args.split, 5).split(data.likes, data.timestamps)
    parts = origins(split) if args.origins else {"val": validation_split(split)}
    if args.test:
        parts["test"] = split
    options = RunOptions(measure_artifact=False)
    for text in args.params or ["{}"]:
        params = json.loads(text)
        scores = []
        for label, part in parts.items():
            started = time.perf_counter()
            result = evaluate(args.model, params, part, metadata=data.metadata, options=options)
            m = result.metrics
            if label != "test":
                scores.append(m["ndcg@10"])
            print(
                f"{args.split} {label} {args.model} {text}: ndcg {m['ndcg@10']:.4f} "
                f"cov {m['coverage@10']:.4f} ({time.perf_counter() - started:.0f}s)",
                flush=True,
            )
        if len(scores) > 1:
            mean = sum(scores) / len(scores)
            print(f"{args.split} mean of {len(scores)} origins: ndcg {mean:.4f}", flush=True)


if __name__ == "__main__":
    main()
