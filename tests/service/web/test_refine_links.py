"""The refine links of the results page (no browser: refine.py is plain functions)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from nextshow.schemas.common import MAX_EXCLUDE
from nextshow.schemas.shows import ShowPublic, ShowRef
from nextshow.service.web.refine import recommend_url, refine_context, show_ref, unique_shows


def _query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert parts.path == "/recommend"
    return parse_qs(parts.query)


def _show(i: int, imdb: bool = True) -> ShowPublic:
    return ShowPublic(
        id=i, title=f"Show {i}", start_year=2000 + i, imdb_id=f"tt{i:07d}" if imdb else None
    )


def test_refs_name_a_show_exactly():
    assert show_ref(_show(1)) == "tt0000001"
    assert show_ref(_show(2, imdb=False)) == "Show 2 (2002)"
    assert show_ref(ShowRef(id=3, title="Untimed")) == "Untimed"


def test_more_like_this_drops_the_oldest_beyond_five_and_not_for_me_excludes():
    liked = [_show(i) for i in range(1, 6)]
    context = refine_context(liked, [_show(9)], exclude=[7])
    action = context["actions"][9]
    assert _query(action["more_url"])["show"] == [show_ref(s) for s in liked[1:]] + ["tt0000009"]
    assert _query(action["more_url"])["exclude"] == ["7"]
    assert _query(action["drop_url"])["exclude"] == ["7", "9"]
    assert context["can_add"] is False
    chip = context["chips"][0]
    assert chip["label"] == "Show 1 (2001)"
    assert "tt0000001" not in _query(chip["remove_url"])["show"]


def test_exclusions_keep_the_newest_and_duplicates_collapse():
    url = recommend_url(["a"], [*range(1, MAX_EXCLUDE + 10), 3])
    kept = _query(url)["exclude"]
    assert len(kept) == MAX_EXCLUDE and kept[-2:] == [str(MAX_EXCLUDE + 9), "3"]  # newest kept
    assert recommend_url([], [1]) == "/"
    assert [s.id for s in unique_shows([_show(1), _show(2), _show(1)])] == [1, 2]
