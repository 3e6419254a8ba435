"""Title matching and autocomplete against a small real catalogue, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from nextshow.catalog.matching import (
    Hit,
    MatchResult,
    ShowRow,
    TitleIndex,
    get_or_create_user_show,
    load_title_index,
    resolve_or_create,
    user_external_id,
)
from nextshow.catalog.normalize import normalize_title
from nextshow.db.models import Show

# (title, start, end, imdb id, votes, original title)
CATALOGUE = [
    ("Breaking Bad", 2008, 2013, "tt0903747", 2_200_000, None),
    ("Bread", 1986, 1991, "tt0090390", 1_200, None),
    ("Breakout Kings", 2011, 2012, "tt1590961", 15_000, None),
    ("Game of Thrones", 2011, 2019, "tt0944947", 2_300_000, None),
    ("The Office", 2005, 2013, "tt0386676", 750_000, None),
    ("The Office", 2001, 2003, "tt0290978", 140_000, None),
    ("Law & Order", 1990, 2010, "tt0098844", 60_000, None),
    ("Marvel's Agents of S.H.I.E.L.D.", 2013, 2020, "tt2364582", 230_000, None),
    ("The Sopranos", 1999, 2007, "tt0141842", 500_000, None),
    ("Money Heist", 2017, 2021, "tt6468322", 520_000, "La casa de papel"),
    ("Dark", 2017, 2020, "tt5753856", 450_000, None),
    ("Dark Matter", 2015, 2017, "tt4159076", 70_000, None),
    ("Café Americano", 2009, 2011, None, 300, None),
]


def _add_catalogue(store) -> dict[str, int]:
    """Insert the catalogue with plain SQLAlchemy; returns ``"Title (year)"`` -> show id."""
    ids = {}
    with store.sessions() as s, s.begin():
        for title, start, end, imdb_id, votes, original in CATALOGUE:
            show = Show(
                title=title,
                original_title=original,
                normalized_title=normalize_title(title),
                start_year=start,
                end_year=end,
                imdb_id=imdb_id,
                imdb_votes=votes,
                genres="Drama,Crime",
                source="imdb",
                external_id=imdb_id or title,
            )
            s.add(show)
            s.flush()
            ids[f"{title} ({start})"] = show.id
    return ids


@pytest.fixture
def catalogue(store):
    """(store, ids, index): the catalogue stored and indexed."""
    ids = _add_catalogue(store)
    with store.sessions() as s:
        index = load_title_index(s)
    return store, ids, index


def _ids(hits: list[Hit]) -> list[int]:
    return [hit.show_id for hit in hits]


def test_index_holds_every_show(catalogue):
    _, ids, index = catalogue
    assert len(index) == len(CATALOGUE)
    assert all(show_id in index for show_id in ids.values())


# -- match -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Breaking Bad", "Breaking Bad (2008)"),
        ("  BREAKING   bad!! ", "Breaking Bad (2008)"),
        ("Law and Order", "Law & Order (1990)"),
        ("law & order", "Law & Order (1990)"),
        ("marvels agents of shield", "Marvel's Agents of S.H.I.E.L.D. (2013)"),
        ("Cafe Americano", "Café Americano (2009)"),
        ("La Casa de Papel", "Money Heist (2017)"),  # by original title
        ("Dark", "Dark (2017)"),
    ],
)
def test_exact_match_after_normalisation(catalogue, text, expected):
    _, ids, index = catalogue
    result = index.match(text)
    assert result.status == "matched"
    assert result.show_id == ids[expected]
    assert [(c.show_id, c.score, c.match) for c in result.candidates] == [
        (ids[expected], 100.0, "exact")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Office (2005)", "The Office (2005)"),
        ("the office (2001)", "The Office (2001)"),
        ("The Office [2001–2003]", "The Office (2001)"),
        ("The Office (2002)", "The Office (2001)"),  # the UK one was running in 2002
        ("The Office (2004)", "The Office (2005)"),  # one year off the US start
    ],
)
def test_year_picks_one_of_several_shows_with_the_title(catalogue, text, expected):
    _, ids, index = catalogue
    result = index.match(text)
    assert (result.status, result.show_id) == ("matched", ids[expected])


def test_title_shared_by_two_shows_is_ambiguous_most_voted_first(catalogue):
    _, ids, index = catalogue
    result = index.match("the office")
    assert result.status == "ambiguous"
    assert result.show_id is None
    assert _ids(result.candidates) == [ids["The Office (2005)"], ids["The Office (2001)"]]
    assert [c.start_year for c in result.candidates] == [2005, 2001]


def test_year_that_fits_no_show_with_the_title_is_ambiguous(catalogue):
    _, ids, index = catalogue
    result = index.match("The Office (1970)")
    assert result.status == "ambiguous"
    assert result.year == 1970
    assert set(_ids(result.candidates)) == {ids["The Office (2005)"], ids["The Office (2001)"]}


@pytest.mark.parametrize(
    "text", ["tt0141842", "TT0141842", " tt0141842 ", "https://www.imdb.com/title/tt0141842/"]
)
def test_imdb_id_resolves_directly(catalogue, text):
    _, ids, index = catalogue
    result = index.match(text)
    assert (result.status, result.show_id) == ("matched", ids["The Sopranos (1999)"])
    assert result.candidates[0].match == "imdb"
    assert result.candidates[0].imdb_id == "tt0141842"


def test_unknown_imdb_id_is_not_found(catalogue):
    _, _, index = catalogue
    result = index.match("tt9999999")
    assert (result.status, result.show_id, result.candidates) == ("not_found", None, [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("breaking bda", "Breaking Bad (2008)"),
        ("braeking bad", "Breaking Bad (2008)"),
        ("gam of thrones", "Game of Thrones (2011)"),
        ("game of throne", "Game of Thrones (2011)"),
        ("the sopranoes", "The Sopranos (1999)"),
    ],
)
def test_typos_give_fuzzy_candidates_best_first(catalogue, text, expected):
    _, ids, index = catalogue
    result = index.match(text)
    assert result.status == "fuzzy"
    assert result.show_id is None  # a guess: the caller asks the user
    assert result.candidates[0].show_id == ids[expected]
    assert result.candidates[0].match == "fuzzy"
    assert 80 <= result.candidates[0].score < 100
    scores = [c.score for c in result.candidates]
    assert len(set(_ids(result.candidates))) == len(scores)


def test_nothing_close_is_not_found(catalogue):
    _, _, index = catalogue
    result = index.match("Zyxwv Quorble")
    assert (result.status, result.candidates, result.show_id) == ("not_found", [], None)
    assert result.normalized == "zyxwv quorble"


def test_match_result_as_dict_is_plain_data(catalogue):
    _, ids, index = catalogue
    data = index.match("the office").as_dict()
    assert data["status"] == "ambiguous"
    assert data["candidates"][0] == {
        "show_id": ids["The Office (2005)"],
        "title": "The Office",
        "start_year": 2005,
        "end_year": 2013,
        "imdb_id": "tt0386676",
        "score": 100.0,
        "match": "exact",
        "original_title": None,
        "imdb_votes": 750_000,
        "genres": ["Drama", "Crime"],
        "title_type": None,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \t ", "empty"),
        ("x" * 201, "201 characters"),
        ("?!?", "no letters or digits"),
    ],
)
def test_match_refuses_bad_input(catalogue, text, message):
    _, _, index = catalogue
    with pytest.raises(ValueError, match=message):
        index.match(text)


def test_match_accepts_exactly_200_characters(catalogue):
    _, _, index = catalogue
    assert index.match("a" * 200).status == "not_found"


# -- search ------------------------------------------------------------------------------------


def test_prefix_ranks_most_voted_show_first(catalogue):
    _, ids, index = catalogue
    hits = index.search("brea")
    assert hits[0].show_id == ids["Breaking Bad (2008)"]
    assert hits[0].match == "prefix"
    assert set(_ids(hits[:3])) == {
        ids["Breaking Bad (2008)"],
        ids["Bread (1986)"],
        ids["Breakout Kings (2011)"],
    }
    # Bread is more fully typed (higher score) but far less voted: it still comes after.
    bread = next(h for h in hits if h.show_id == ids["Bread (1986)"])
    assert bread.score > hits[0].score


def test_exact_title_comes_before_longer_titles_it_starts(catalogue):
    _, ids, index = catalogue
    hits = index.search("dark")
    assert _ids(hits[:2]) == [ids["Dark (2017)"], ids["Dark Matter (2015)"]]
    assert [h.match for h in hits[:2]] == ["exact", "prefix"]


def test_search_finds_word_starts_and_original_titles(catalogue):
    _, ids, index = catalogue
    hits = index.search("thron")
    assert hits[0].show_id == ids["Game of Thrones (2011)"]
    assert hits[0].match == "word"
    assert index.search("casa de")[0].show_id == ids["Money Heist (2017)"]
    assert index.search("agents of s.h")[0].show_id == ids["Marvel's Agents of S.H.I.E.L.D. (2013)"]


def test_search_leading_article_and_year(catalogue):
    _, ids, index = catalogue
    assert _ids(index.search("the office")[:2]) == [
        ids["The Office (2005)"],
        ids["The Office (2001)"],
    ]
    assert index.search("The Office (2001)")[0].show_id == ids["The Office (2001)"]
    assert index.search("the off")[0].show_id == ids["The Office (2005)"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("breaking bda", "Breaking Bad (2008)"),
        ("gam of thrones", "Game of Thrones (2011)"),
        ("braeking", "Breaking Bad (2008)"),  # a typo in a prefix
    ],
)
def test_search_falls_back_to_fuzzy_for_typos(catalogue, query, expected):
    _, ids, index = catalogue
    hits = index.search(query)
    assert hits[0].show_id == ids[expected]
    assert hits[0].match == "fuzzy"


def test_search_by_imdb_id(catalogue):
    _, ids, index = catalogue
    assert _ids(index.search("tt0141842")) == [ids["The Sopranos (1999)"]]
    assert index.search("tt0000001") == []


def test_search_empty_query_and_bad_input(catalogue):
    _, _, index = catalogue
    assert index.search("") == []
    assert index.search("   ") == []
    assert index.search("!!") == []
    with pytest.raises(ValueError, match="201 characters"):
        index.search("b" * 201)
    with pytest.raises(ValueError, match="limit"):
        index.search("brea", limit=0)


def test_search_limit_and_deterministic_ties(store):
    """Five shows with one title and equal votes: tie broken by show id, always the same."""
    with store.sessions() as s, s.begin():
        shows = [
            Show(
                title="Twin Peaks Tribute",
                normalized_title=normalize_title("Twin Peaks Tribute"),
                start_year=2000 + i,
                imdb_votes=100,
                source="test",
                external_id=str(i),
            )
            for i in range(5)
        ]
        s.add_all(shows)
    expected = sorted(show.id for show in shows)
    with store.sessions() as s:
        index = load_title_index(s)
    for query in ["twin", "twin peaks tribute"]:
        assert _ids(index.search(query)) == expected
        assert _ids(index.search(query, limit=3)) == expected[:3]
    rebuilt = TitleIndex(reversed([ShowRow.from_show(show) for show in shows]))
    assert _ids(rebuilt.search("twin")) == expected


def test_search_returns_no_show_twice(catalogue):
    _, _, index = catalogue
    for query in ["bad", "o", "office", "dark matte", "breaking bda"]:
        found = _ids(index.search(query, limit=50))
        assert len(found) == len(set(found)), query


def test_added_show_is_searchable_at_once(catalogue):
    _, _, index = catalogue
    index.add(ShowRow(id=10_000, title="Brand New Show", imdb_votes=10))
    assert index.search("brand new")[0].show_id == 10_000
    assert index.match("Brand New Show").show_id == 10_000
    # Re-adding with a changed title replaces the old entry.
    index.add(ShowRow(id=10_000, title="Renamed Show", imdb_votes=10))
    assert index.match("Renamed Show").show_id == 10_000
    assert index.match("Brand New Show").status != "matched"
    assert len(index) == len(CATALOGUE) + 1


# -- create on request -------------------------------------------------------------------------


def _user_shows(store) -> list[Show]:
    with store.sessions() as s:
        return list(s.scalars(select(Show).where(Show.source == "user")))


def test_unknown_title_creates_a_user_show_once(catalogue):
    store, _, index = catalogue
    with store.sessions() as s, s.begin():
        created = resolve_or_create(s, index, "My Cousin's Podcast: The Show (2023)")
    assert created.status == "created"
    assert created.show_id is not None
    assert created.candidates[0].match == "created"

    [show] = _user_shows(store)
    assert show.id == created.show_id
    assert show.user_submitted is True
    assert show.title == "My Cousin's Podcast: The Show"
    assert show.start_year == 2023
    assert show.normalized_title == "my cousins podcast the show"
    assert show.external_id == "my cousins podcast the show (2023)"

    assert show.status == "pending"
    # Pending: nobody else is offered it, but typing it again finds the row (likes are kept).
    assert created.show_id not in index
    assert index.match("my cousins podcast the show (2023)").status == "not_found"
    with store.sessions() as s, s.begin():
        repeat = resolve_or_create(s, index, "My Cousin's Podcast: The Show (2023)")
    assert (repeat.status, repeat.show_id) == ("matched", created.show_id)
    assert len(_user_shows(store)) == 1


def test_recreation_with_a_stale_index_finds_the_existing_row(catalogue):
    """A second web process whose index predates the creation must not make a duplicate."""
    store, _, index = catalogue
    with store.sessions() as s:
        stale = load_title_index(s)
    with store.sessions() as s, s.begin():
        first = resolve_or_create(s, index, "Totally Unknown Serial")
    with store.sessions() as s, s.begin():
        second = resolve_or_create(s, stale, "totally unknown serial!")
    assert first.status == "created"
    assert (second.status, second.show_id) == ("matched", first.show_id)
    assert len(_user_shows(store)) == 1


def test_same_title_twice_in_one_transaction_is_one_show(catalogue):
    store, _, index = catalogue
    with store.sessions() as s, s.begin():
        first = resolve_or_create(s, index, "Unaired Pilot Thing")
        second = resolve_or_create(s, index, "Unaired Pilot Thing")
    assert (first.status, second.status) == ("created", "matched")
    assert first.show_id == second.show_id
    assert first.show_id not in index  # pending: never findable by others


def test_rolled_back_creation_never_reaches_the_index(catalogue):
    store, _, index = catalogue
    with store.sessions() as s:
        created = resolve_or_create(s, index, "Never Committed Show")
        s.rollback()
    assert created.status == "created"
    assert created.show_id not in index
    assert _user_shows(store) == []
    with store.sessions() as s, s.begin():
        assert resolve_or_create(s, index, "Never Committed Show").status == "created"
    assert len(_user_shows(store)) == 1


def test_create_after_a_concurrent_commit_reuses_the_row(store):
    """The insert that loses to the unique constraint reads the winner's row."""
    with store.sessions() as a, store.sessions() as b:
        show_a, created_a = get_or_create_user_show(a, title="Race Condition", year=2020)
        a.commit()
        # b's own insert is refused by uq_shows_source_external_id: it falls back to a's row.
        show_b, created_b = get_or_create_user_show(b, title="race  condition", year=2020)
        b.commit()
    assert (created_a, created_b) == (True, False)
    assert show_a.id == show_b.id
    assert len(_user_shows(store)) == 1


def test_concurrent_creation_from_threads_makes_one_row(store):
    barrier = threading.Barrier(4)
    results: list[MatchResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with store.sessions() as s:
                index = load_title_index(s)
            barrier.wait(timeout=10)
            with store.sessions() as s, s.begin():
                results.append(resolve_or_create(s, index, "Contested Title (2024)"))
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({r.show_id for r in results}) == 1
    assert sorted(r.status for r in results).count("created") == 1
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Show)) == 1


def test_unknown_imdb_id_is_not_created(catalogue):
    store, _, index = catalogue
    with store.sessions() as s, s.begin():
        result = resolve_or_create(s, index, "tt7654321")
    assert result.status == "not_found"
    assert _user_shows(store) == []


def test_create_refuses_bad_input(catalogue):
    store, _, index = catalogue
    with store.sessions() as s:
        for text in ["", "   ", "y" * 201, "...", "Bad\x00Show", "Red \x1b[31mText", "A\u202eB"]:
            with pytest.raises(ValueError):
                resolve_or_create(s, index, text)
    assert _user_shows(store) == []


def test_long_titles_get_a_bounded_unique_external_id():
    long_a = "a" * 70
    long_b = "a" * 69 + "b"
    assert len(user_external_id(long_a, 2020)) == 64
    assert user_external_id(long_a, 2020) != user_external_id(long_b, 2020)
    assert user_external_id(long_a, 2020) == user_external_id(long_a, 2020)
    assert user_external_id("short", None) == "short"


def test_long_user_title_is_stored_on_both_databases(catalogue):
    store, _, index = catalogue
    title = "An Extremely Long Fan Made Web Series Title That Goes On And On Forever (2019)"
    with store.sessions() as s, s.begin():
        result = resolve_or_create(s, index, title)
    [show] = _user_shows(store)
    assert (result.status, show.id) == ("created", result.show_id)
    assert len(show.external_id) <= 64


def test_fuzzy_result_creates_only_when_the_user_rejected_the_candidates(catalogue):
    store, ids, index = catalogue
    with store.sessions() as s, s.begin():
        first = resolve_or_create(s, index, "Breaking Bud")
        assert (first.status, first.candidates[0].show_id) == ("fuzzy", ids["Breaking Bad (2008)"])
        forced = resolve_or_create(s, index, "Breaking Bud", create_when_fuzzy=True)
        exact = resolve_or_create(s, index, "Breaking Bad", create_when_fuzzy=True)
    assert forced.status == "created"
    assert (exact.status, exact.show_id) == ("matched", ids["Breaking Bad (2008)"])
    assert [show.title for show in _user_shows(store)] == ["Breaking Bud"]


@pytest.mark.parametrize("text", ["Dark Web", "Office Space", "Breaking News"])
def test_new_titles_containing_known_ones_are_not_fuzzy_matches(catalogue, text):
    """A longer title that merely contains a catalogue title is a different show."""
    _, _, index = catalogue
    assert index.match(text).status == "not_found"


def test_typed_titles_never_reach_anyone_elses_autocomplete(catalogue):
    """Attack: one request with a made-up title made it a suggestion for every visitor."""
    store, _, index = catalogue
    with store.sessions() as s, s.begin():
        resolve_or_create(s, index, "Zqxv Blorp Nine")
    assert index.search("Zqxv") == []
    with store.sessions() as s:
        fresh = load_title_index(s)  # a restarted process reads the table: still not offered
        [show] = _user_shows(store)
    assert show.status == "pending"
    assert fresh.search("Zqxv Blorp") == []
    assert show.id not in fresh


def test_a_typed_title_is_deduplicated_against_the_catalogue(store):
    """Attack: "Breaking Bad (?)" from the web and "Breaking Bad (2008)" from an import coexisted.

    A web process whose index predates the import must find the imported show by its
    normalised title and year instead of creating a second one.
    """
    with store.sessions() as s:
        stale = load_title_index(s)  # loaded before the import below
    ids = _add_catalogue(store)
    with store.sessions() as s, s.begin():
        result = resolve_or_create(s, stale, "Breaking Bad (?)")
    assert result.show_id == ids["Breaking Bad (2008)"]
    assert _user_shows(store) == []
