"""Content: recommend shows that share people, genres, era and type with the liked ones.

Needs no likes at all, only show metadata (``ShowMetadata``: genres, start years, title types and,
for an IMDb TV catalogue, ``credits``): show-show similarity is the IDF-weighted cosine of
:mod:`~nextshow.recommenders.content_features` (people by role and billing, genres, era, type),
cut to each show's ``k`` nearest. A user's scores are ``liked @ S`` plus a weak prior from IMDb's
votes and rating, which also orders shows that nothing liked is similar to. Content-based
filtering as in Pazzani & Billsus, "Content-based recommendation systems" (The Adaptive Web,
2007). Its reasons name the concrete tie: "created by Vince Gilligan, like Breaking Bad".
Cost: O(credits) to build features, O(shows^2 / chunk) products in row chunks, shows x k stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from nextshow.recommenders import content_features as cf
from nextshow.recommenders.base import Recommender, ShowMetadata, State, top_contributors
from nextshow.recommenders.item_similarity import contributions, dense_scores
from nextshow.recommenders.kinds import register
from nextshow.recommenders.params import Param

# Genres read as nouns go last in a phrase: "crime drama", not "drama crime".
_NOUN_GENRES = ("Drama", "Comedy", "Thriller", "Documentary", "Western", "Musical")


def encode_strings(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 byte array plus offsets (fixed-width unicode arrays would pad every
    name to the longest one)."""
    data = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d) for d in data])
    return np.frombuffer(b"".join(data), dtype=np.uint8).copy(), offsets


def decode_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = np.asarray(blob, dtype=np.uint8).tobytes()
    bounds = np.asarray(offsets, dtype=np.int64).tolist()
    return [raw[a:b].decode("utf-8") for a, b in pairwise(bounds)]


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def genre_phrase(genres: list[str]) -> str:
    """``["Crime", "Drama", "Thriller"]`` -> ``"crime drama"``: one qualifier, then one noun."""
    nouns = [g for g in genres if g in _NOUN_GENRES]
    others = [g for g in genres if g not in _NOUN_GENRES]
    words = others[:1] + nouns[:1] if nouns else others[:2]
    return " ".join(g.lower() for g in words)


@register
class Content(Recommender):
    """IMDb-metadata similarity (see module docstring); needs ``metadata`` in ``fit``."""

    name: ClassVar[str] = "content"
    # The pipeline gives content models every catalogue show as a column, liked or not.
    uses_catalogue: ClassVar[bool] = True
    PARAMS = (
        Param("people", float, 2.0, low=0.0, doc="weight of shared people"),
        Param("genres", float, 1.0, low=0.0, doc="weight of shared genres"),
        Param("era", float, 0.5, low=0.0, doc="weight of close start years"),
        Param("type", float, 0.25, low=0.0, doc="weight of the same title type"),
        Param("prior", float, 0.05, low=0.0, doc="weight of IMDb votes x rating"),
        Param("k", int, 100, low=1, doc="neighbours kept per show"),
    )
    people: float
    genres: float
    era: float
    type: float
    prior: float
    k: int

    similarity_: sp.csr_matrix
    prior_: np.ndarray
    credit_weight_: sp.csr_matrix  # shows x people: strongest role's weight (before IDF)
    credit_role_: sp.csr_matrix  # shows x people, same sparsity: that role's code + 1
    person_idf_: np.ndarray
    person_names_: list[str]
    titles_: list[str]
    genre_matrix_: sp.csr_matrix  # shows x genres, 0/1
    genre_names_: list[str]
    years_: np.ndarray

    def _fit(
        self, likes: sp.csr_matrix, metadata: ShowMetadata | None, timestamps: sp.csr_matrix | None
    ) -> None:
        if metadata is None:
            raise ValueError(f"{self!r} needs show metadata (genres, years, credits) to fit")
        n = likes.shape[1]
        genres = metadata.genres or [() for _ in range(n)]
        years = metadata.start_year if metadata.start_year is not None else np.zeros(n, np.int32)
        types = metadata.title_types or ["" for _ in range(n)]
        genre_x, self.genre_names_ = cf.genre_block(genres)
        credits = metadata.credits
        if credits is None:
            credits = cf.ShowCredits(*(np.zeros(0, np.int64) for _ in range(4)), names=[])
        weights, self.credit_role_ = cf.strongest_credits(credits, n, cf.RoleWeights())
        self.person_idf_ = cf.people_idf(weights)
        self.person_names_ = list(credits.names)
        self.credit_weight_ = weights
        people = sp.csr_matrix(weights @ sp.diags(self.person_idf_))
        shared = self.person_idf_[self.person_idf_ > 0]
        # A show's people count fully once they weigh as much as one top-billed actor of typical
        # rarity; fewer or weaker credits (one extra billed tenth) tie it less.
        floor = cf.RoleWeights().actor * float(np.median(shared)) if len(shared) else 0.0
        blocks = [
            cf.normalise_rows(people, self.people, floor),
            cf.normalise_rows(genre_x, self.genres),
            cf.normalise_rows(cf.era_block(years), self.era),
            cf.normalise_rows(cf.type_block(types), self.type),
        ]
        self.similarity_ = cf.content_similarity(sp.hstack(blocks, format="csr"), self.k)
        self.prior_ = cf.prior_scores(metadata.imdb_rating, metadata.imdb_votes, n)
        self.titles_ = list(metadata.titles) if metadata.titles else [""] * n
        self.genre_matrix_ = sp.csr_matrix((genre_x > 0).astype(np.float64))
        self.years_ = np.asarray(years, dtype=np.int32)

    def _scores(self, liked: np.ndarray) -> np.ndarray:
        scores = np.asarray(self.similarity_[liked].sum(axis=0), dtype=np.float64).ravel()
        return scores + self.prior * self.prior_

    def _scores_batch(self, rows: sp.csr_matrix) -> np.ndarray:
        return dense_scores(rows, self.similarity_) + self.prior * self.prior_[np.newaxis, :]

    def _because(self, liked: np.ndarray, shows: np.ndarray) -> list[tuple[int, ...]]:
        return top_contributors(contributions(self.similarity_, liked, shows), liked)

    def _reasons(
        self, liked: np.ndarray, shows: np.ndarray, because: list[tuple[int, ...]]
    ) -> list[str]:
        return [self.reason(b[0], int(s)) if b else "" for s, b in zip(shows, because, strict=True)]

    def reason(self, liked: int, show: int) -> str:
        """The strongest tie between a liked show and a recommended one, in words."""
        like = self.titles_[liked]
        people = self._shared_people(liked, show)
        for code, verb in (
            (cf.CREATOR, "created by"),
            (cf.ACTOR, "with"),
            (cf.DIRECTOR, "directed by"),
            (cf.WRITER, "written by"),
        ):
            names = [self.person_names_[p] for p, role in people if role == code][:2]
            if names:
                return f"{verb} {_names(names)}, like {like}"
        genres = self._shared_genres(liked, show)
        close = bool(self.years_[liked] and self.years_[show]) and (
            abs(int(self.years_[liked]) - int(self.years_[show])) <= cf.ERA_YEARS
        )
        if genres and close:
            return f"{genre_phrase(genres)} of the same years as {like}"
        if genres:
            return f"{genre_phrase(genres)}, like {like}"
        return f"of the same years as {like}" if close else ""

    def _shared_people(self, a: int, b: int) -> list[tuple[int, int]]:
        """(person, role code on ``b``) shared by shows a and b, strongest tie first."""
        W, R = self.credit_weight_, self.credit_role_
        span = slice(W.indptr[a], W.indptr[a + 1])
        pa = dict(zip(W.indices[span].tolist(), W.data[span].tolist(), strict=True))
        out = []
        for j in range(W.indptr[b], W.indptr[b + 1]):
            p = int(W.indices[j])
            if p in pa:  # rarer people first: IDF squared, as in the similarity itself
                tie = pa[p] * W.data[j] * self.person_idf_[p] ** 2
                out.append((tie, p, int(R.data[j]) - 1))
        out.sort(key=lambda t: (-t[0], t[1]))
        return [(p, role) for _, p, role in out]

    def _shared_genres(self, a: int, b: int) -> list[str]:
        G = self.genre_matrix_
        ga = set(G.indices[G.indptr[a] : G.indptr[a + 1]].tolist())
        gb = G.indices[G.indptr[b] : G.indptr[b + 1]].tolist()
        return [self.genre_names_[g] for g in gb if g in ga]

    def _state(self) -> State:
        names, name_offsets = encode_strings(self.person_names_)
        titles, title_offsets = encode_strings(self.titles_)
        genres, genre_offsets = encode_strings(self.genre_names_)
        return {
            "similarity": self.similarity_,
            "prior": self.prior_,
            "credit_weight": self.credit_weight_,
            "credit_role": self.credit_role_,
            "person_idf": self.person_idf_,
            "names": names,
            "name_offsets": name_offsets,
            "titles": titles,
            "title_offsets": title_offsets,
            "genre_matrix": self.genre_matrix_,
            "genres": genres,
            "genre_offsets": genre_offsets,
            "years": self.years_,
        }

    def _set_state(self, arrays: Mapping[str, Any]) -> None:
        self.similarity_ = sp.csr_matrix(arrays["similarity"])
        self.prior_ = np.asarray(arrays["prior"], dtype=np.float64)
        self.credit_weight_ = sp.csr_matrix(arrays["credit_weight"])
        self.credit_role_ = sp.csr_matrix(arrays["credit_role"])
        self.person_idf_ = np.asarray(arrays["person_idf"], dtype=np.float64)
        self.person_names_ = decode_strings(arrays["names"], arrays["name_offsets"])
        self.titles_ = decode_strings(arrays["titles"], arrays["title_offsets"])
        self.genre_matrix_ = sp.csr_matrix(arrays["genre_matrix"])
        self.genre_names_ = decode_strings(arrays["genres"], arrays["genre_offsets"])
        self.years_ = np.asarray(arrays["years"], dtype=np.int32)
