"""Content and hybrid models: the maths on hand-worked inputs, the fixture's spin-off, reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from nextshow.catalog.imdb_tv import role_of
from nextshow.recommenders import ShowMetadata, create, load_artifact
from nextshow.recommenders import content_features as cf
from nextshow.recommenders.content import decode_strings, encode_strings, genre_phrase
from nextshow.recommenders.hybrid import evidence_weights
from tests import imdb_tv_fixture as fx


def fixture_metadata() -> ShowMetadata:
    """The fixture's kept series with their principals, as the pipeline would hand them over."""
    series = [s for s in fx.SERIES if s[1] != "movie" and s[4] == 0 and s[9] >= fx.MIN_VOTES]
    index = {s[0]: i for i, s in enumerate(series)}
    people = sorted({n for rows in fx.PRINCIPALS.values() for n, _, _ in rows})
    person = {n: i for i, n in enumerate(people)}
    rows = [
        (index[t], person[n], cf.ROLE_CODES.index(role_of(cat, job)), order)
        for t, credits in fx.PRINCIPALS.items()
        if t in index
        for order, (n, cat, job) in enumerate(credits, 1)
    ]
    show, who, role, order = (np.array(col) for col in zip(*rows, strict=True))
    return ShowMetadata(
        show_ids=np.arange(len(series), dtype=np.int64),
        titles=[s[2] for s in series],
        start_year=np.array([s[5] for s in series], dtype=np.int32),
        imdb_rating=np.array([s[8] for s in series], dtype=np.float32),
        imdb_votes=np.array([s[9] for s in series], dtype=np.int64),
        genres=[tuple(s[7].split(",")) for s in series],
        title_types=[s[1] for s in series],
        credits=cf.ShowCredits(show, who, role, order, [fx.PEOPLE.get(n, n) for n in people]),
    )


def _title_index(md: ShowMetadata, title: str, year: int) -> int:
    return next(
        i
        for i, (t, y) in enumerate(zip(md.titles, md.start_year, strict=True))
        if t == title and y == year
    )


def test_idf_and_strongest_role() -> None:
    assert cf.idf(np.array([1, 2, 4, 0]), 4).tolist() == pytest.approx([np.log(4), np.log(2), 0, 0])
    # person 0 is creator (3.0) and writer (1.0) of show 0: one entry, the creator's weight;
    # person 1 is billed 4th as an actor: 1.5 / sqrt(4) = 0.75.
    credits = cf.ShowCredits(
        show=np.array([0, 0, 0, 1]),
        person=np.array([0, 0, 1, 0]),
        role=np.array([cf.WRITER, cf.CREATOR, cf.ACTOR, cf.DIRECTOR]),
        ordering=np.array([0, 0, 4, 0]),
        names=["A", "B"],
    )
    W, R = cf.strongest_credits(credits, 2, cf.RoleWeights())
    assert W.toarray().tolist() == [[3.0, 0.75], [1.0, 0.0]]
    assert R.toarray().tolist() == [[cf.CREATOR + 1, cf.ACTOR + 1], [cf.DIRECTOR + 1, 0]]
    assert cf.people_idf(W).tolist() == [0.0, 0.0]  # person 1 is on one show only


def test_era_block_is_a_triangular_kernel() -> None:
    X = cf.era_block(np.array([2000, 2004, 2005, 2012, 0, 2020])).toarray()
    sim = X @ X.T
    # same bucket (2000, 2004): 0.25 + 1 + 0.25; next bucket: 0.5 + 0.5; two apart: 0.25; none: 0
    assert sim[0, 1] == pytest.approx(1.5)
    assert sim[0, 2] == pytest.approx(1.0)
    assert sim[0, 3] == pytest.approx(0.25)
    assert sim[0, 5] == 0.0 and sim[4].sum() == 0.0


def test_similarity_is_the_weighted_sum_of_block_cosines() -> None:
    people = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]))
    genres = sp.csr_matrix(np.array([[1.0], [1.0], [0.0]]))
    X = sp.hstack([cf.normalise_rows(people, 2.0), cf.normalise_rows(genres, 1.0)], format="csr")
    S = cf.content_similarity(X, k=5, chunk=2).toarray()
    assert np.diag(S).tolist() == [0.0, 0.0, 0.0]
    assert S[0, 1] == pytest.approx(2.0 / np.sqrt(2) + 1.0)
    assert S[0, 2] == 0.0 and S[1, 2] == pytest.approx(2.0 / np.sqrt(2))
    assert cf.content_similarity(X, k=1).getnnz(axis=1).tolist() == [1, 1, 1]


def test_phrases_and_string_arrays() -> None:
    assert genre_phrase(["Crime", "Drama", "Thriller"]) == "crime drama"
    assert genre_phrase(["Comedy"]) == "comedy"
    assert genre_phrase(["Sci-Fi", "Action"]) == "sci-fi action"
    names = ["Álex Pina", "", "Stellan Skarsgård"]
    assert decode_strings(*encode_strings(names)) == names


def test_spin_off_is_first_with_its_creator_named() -> None:
    md = fixture_metadata()
    model = create("content").fit(sp.csr_matrix((0, md.n_shows)), md)  # zero likes
    bad = _title_index(md, "Breaking Bad", 2008)
    saul = _title_index(md, "Better Call Saul", 2015)
    first = model.recommend([bad], n=3)[0]
    assert first.show == saul and first.because == (bad,)
    assert first.reason.startswith("created by Vince Gilligan")
    assert first.reason.endswith("like Breaking Bad")
    # the remake shares its creators with the original; Parks and Recreation shares Greg Daniels
    office = _title_index(md, "The Office", 2005)
    recs = model.recommend([office], n=2)
    assert [md.titles[r.show] for r in recs] == ["The Office", "Parks and Recreation"]
    assert "Ricky Gervais" in recs[0].reason and "Greg Daniels" in recs[1].reason


def test_cast_reason_when_no_creator_is_shared() -> None:
    md = fixture_metadata()
    credits = md.credits
    assert credits is not None
    keep = credits.role != cf.CREATOR  # drop every creator: the shared cast must be named
    md = ShowMetadata(
        **{
            **md.__dict__,
            "credits": cf.ShowCredits(
                credits.show[keep],
                credits.person[keep],
                credits.role[keep],
                credits.ordering[keep],
                credits.names,
            ),
        }
    )
    model = create("content").fit(sp.csr_matrix((0, md.n_shows)), md)
    bad = _title_index(md, "Breaking Bad", 2008)
    first = model.recommend([bad], n=1)[0]
    assert md.titles[first.show] == "Better Call Saul"
    assert first.reason == "with Bob Odenkirk and Jonathan Banks, like Breaking Bad"


def test_artifact_round_trip_keeps_reasons(tmp_path: Path) -> None:
    md = fixture_metadata()
    model = create("hybrid").fit(sp.csr_matrix((0, md.n_shows)), md)
    model.save(tmp_path / "m")
    loaded = load_artifact(tmp_path / "m")
    assert loaded.recommend([0, 5], n=6) == model.recommend([0, 5], n=6)


def test_hybrid_weighs_each_show_by_its_evidence() -> None:
    likes = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0]], dtype=float))
    assert evidence_weights(likes, 2.0).tolist() == pytest.approx([3 / 5, 2 / 4, 0.0])

    md = fixture_metadata()
    n = md.n_shows
    bad = _title_index(md, "Breaking Bad", 2008)
    friends = _title_index(md, "Friends", 1994)
    saul = _title_index(md, "Better Call Saul", 2015)
    # 40 people liked Breaking Bad and Friends together; nobody liked Better Call Saul yet.
    rows = np.repeat(np.arange(40), 2)
    cols = np.tile([bad, friends], 40)
    likes = sp.csr_matrix((np.ones(80), (rows, cols)), shape=(40, n))
    hybrid = create("hybrid", evidence=5.0).fit(likes, md)
    content = create("content").fit(likes, md)
    # well-liked Friends is ranked by co-likes (content alone puts it far down); unliked
    # Better Call Saul is still recommended, by content, with its reason
    recs = {r.show: r for r in hybrid.recommend([bad], n=2)}
    assert set(recs) == {friends, saul}
    assert recs[friends].reason == "" and recs[saul].reason.startswith("created by Vince")
    assert friends not in [r.show for r in content.recommend([bad], n=3)]
    assert content.recommend([bad], n=1)[0].show == saul
    # a user whose shows nobody co-liked gets content alone
    chernobyl = _title_index(md, "Chernobyl", 2019)
    assert [r.show for r in hybrid.recommend([chernobyl], n=3)] == [
        r.show for r in content.recommend([chernobyl], n=3)
    ]
