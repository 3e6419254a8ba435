"""One-line definitions of the reported metrics, shared by the evaluation report and the pages.

Plain text only (no imports), so the web pages can show them without loading evaluation code.
``{k}`` is the cut-off; keys are metric names without ``@k``.
"""

from __future__ import annotations

DEFINITIONS = {
    "precision": "share of the top {k} that the user liked later",
    "recall": "share of the user's held-out likes found in the top {k}",
    "ndcg": "normalised discounted gain of held-out likes in the top {k} (1 = all first)",
    "hit": "share of users with at least one held-out like in the top {k}",
    "coverage": "distinct shows in anyone's top {k}, as a share of all shows",
    "novelty": "1 - mean popularity percentile of the recommended shows (higher: less popular)",
    "personalization": "1 - mean share of top-{k} shows two random users have in common",
    "longtail_ndcg": "NDCG@{k} on held-out likes outside the 10 % most-liked shows only",
}


def definition(key: str) -> str:
    """The definition of a reported key like ``ndcg@10`` ("" for an unknown name)."""
    name, _, k = key.partition("@")
    text = DEFINITIONS.get(name, "")
    return text.format(k=k or "k")
