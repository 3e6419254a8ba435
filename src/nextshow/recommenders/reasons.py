"""Reasons that explain: which liked shows led to a recommendation, or that popularity did.

The rules (issue 12):

- "because you liked …" names the one to three liked shows that contributed most to the score,
  largest contribution first, and never a liked show that contributed nothing (the models'
  ``because`` already holds only positive contributions, in that order).
- When popularity is most of a score (``popularity_share >= POPULAR_SHARE``) the reason says so:
  "popular this month with people who like X", X being the largest contributor when there is one.
- When nothing the person typed is known, the list is the most popular shows and says so plainly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_NAMED = 3
POPULAR_SHARE = 0.5  # popularity's share of a score from which the reason names popularity
BECAUSE, POPULAR, MOST_POPULAR = "because", "popular", "most-popular"


@dataclass(frozen=True)
class Reason:
    """Why one show was recommended: a kind and the liked shows (indices or ids) it names."""

    kind: str  # BECAUSE, POPULAR or MOST_POPULAR
    shows: tuple[int, ...] = ()
    words: str = ""  # a model's own words for a BECAUSE tie ("created by …, like Breaking Bad")

    def text(self, titles: Mapping[int, str], *, recent: bool = True) -> str:
        """The sentence a card shows; ``recent``: the model's popularity is recent likes."""
        names = [titles[s] for s in self.shows if s in titles]
        if self.kind == MOST_POPULAR:
            return "One of the most popular shows: none of the shows you typed is known yet."
        if self.kind == POPULAR:
            lead = "Popular this month" if recent else "Popular"
            return f"{lead} with people who like {names[0]}." if names else f"{lead}."
        if self.words:  # the concrete tie a content model knows says more than the titles alone
            return f"{self.words[:1].upper()}{self.words[1:]}."
        return f"Because you liked {_join(names)}." if names else "Popular."


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def reason_for(because: Sequence[int], popularity_share: float, *, words: str = "") -> Reason:
    """The reason for one recommendation from its contributors and popularity's share, in the
    model's own ``words`` when it has them and popularity does not carry the score."""
    if not 0.0 <= popularity_share <= 1.0:
        raise ValueError(f"popularity_share must be in [0, 1], got {popularity_share}")
    if popularity_share >= POPULAR_SHARE or not because:
        return Reason(POPULAR, tuple(because[:1]))
    return Reason(BECAUSE, tuple(because[:MAX_NAMED]), words)


def nothing_known() -> Reason:
    """The reason of every show on a list made without one known liked show."""
    return Reason(MOST_POPULAR)
