"""Research helper: score one model recipe on the validation split (and optionally test) quickly.

.venv/bin/python benchmarks/exp_ranker.py --split global-time --model ranker --params '{}'
"""

from __future__ import annotations

import argparse
import json
import logging
import time

from nextshow.evaluation.dataset import load_interactions
from nextshow.evaluation.evaluate import RunOptions, evaluate
from nextshow.evaluation.splits import make_holdout, validation_split


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="global-time")
    parser.add_argument("--model", default="ranker")
    parser.add_argument("--params", action="append", default=[])
    parser.add_argument("--test", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    data = load_interactions("demo")
    split = make_holdout(args.split, 5).split(data.likes, data.timestamps)
    validation = validation_split(split)
    options = RunOptions(measure_artifact=False)
    for text in args.params or ["{}"]:
        params = json.loads(text)
        for label, part in [("val", validation)] + ([("test", split)] if args.test else []):
            started = time.perf_counter()
            result = evaluate(args.model, params, part, metadata=data.metadata, options=options)
            m = result.metrics
            print(
                f"{args.split} {label} {args.model} {text}: ndcg {m['ndcg@10']:.4f} "
                f"cov {m['coverage@10']:.4f} ({time.perf_counter() - started:.0f}s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
