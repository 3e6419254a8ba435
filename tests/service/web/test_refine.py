"""Refining in place, chips, remembered shows, back/forward and the phone layout, in Chromium.

The results page's "more like this", "not for me" and chips are links to ``/recommend``; with
JavaScript they swap the list in place (a marker set on ``window`` survives, so no page load
happened), without it they are plain pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import expect

from tests.service.web.conftest import _tab
from tests.service.web.test_pages import RESULTS_URL, _fits

PHONE_HEIGHT = 812


def _recommend(site, *shows: str) -> str:
    return site["app"] + "/recommend?" + urlencode([("show", s) for s in shows])


def _add(page, text: str) -> None:
    """Type a show into the home field and press Enter: the server settles it into a chip."""
    before = page.locator("#chosen .chip").count()
    page.locator("#show-1").fill(text)
    page.locator("#show-1").press("Enter")
    expect(page.locator("#show-1")).to_have_value("")
    assert page.locator("#chosen .chip").count() in (before, before + 1)


def _named(action: str, title: str) -> re.Pattern[str]:
    """A card button's accessible name: the action, then the (visually hidden) show title."""
    return re.compile(rf"^{action}\W+{re.escape(title)}$")


def _titles(page) -> list[str]:
    return page.locator(".cards > li h2").all_inner_texts()


def _chips(page, where: str = "#liked") -> list[str]:
    return page.locator(f"{where} .chip > span").all_inner_texts()


def _small_targets(page) -> list[str]:
    """Visible controls under 44 x 44 px (a checkbox or radio counts by its label)."""
    return page.evaluate(
        """() => {
          const sel = 'button, .button, input:not([type=hidden]), select, nav a, a.chip-remove, '
            + '[role=option], .choice label, .remember label';
          return Array.from(document.querySelectorAll(sel)).filter((el) => {
            if (el.type === 'checkbox' || el.type === 'radio') return false;
            const r = el.getBoundingClientRect();
            if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') return false;
            return r.height < 44 || r.width < 44;
          }).map((el) => `${el.tagName} "${(el.textContent || el.id).trim().slice(0, 30)}" `
            + `${Math.round(el.getBoundingClientRect().width)}x`
            + `${Math.round(el.getBoundingClientRect().height)}`);
        }"""
    )


def _in_view(locator) -> None:
    box = locator.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= PHONE_HEIGHT, box


def test_refine_in_place_with_back_and_forward(site, tab):
    page = tab.page
    page.goto(_recommend(site, "Show 1", "Show 4"))
    cards = page.locator(".cards > li")
    expect(cards).to_have_count(10)
    assert _chips(page) == ["Show 1 (2001)", "Show 4 (2004)"]
    page.evaluate("window.stayed = true")
    start = page.url

    # Not for me: gone from the list, the next show moves up, the address says so.
    dropped_id = cards.first.get_attribute("data-id")
    dropped = cards.first.locator("h2").inner_text()
    cards.first.get_by_role("link", name=_named("Not for me", dropped)).click()
    expect(page).to_have_url(re.compile(rf"exclude={dropped_id}"))
    expect(page.locator("#refine-status")).to_contain_text("List updated")
    expect(cards).to_have_count(10)
    assert dropped not in _titles(page)

    # More like this: the show joins the liked chips and leaves the list.
    liked = cards.nth(1).locator("h2").inner_text()
    cards.nth(1).get_by_role("link", name=_named("More like this", liked)).click()
    expect(page.locator("#liked .chip")).to_have_count(3)
    assert _chips(page)[-1].startswith(liked + " (")
    assert liked not in _titles(page) and dropped not in _titles(page)
    tab.axe()
    tab.shot("results-refined")

    # Removing a chip makes the list again without it.
    page.get_by_role("link", name="Remove Show 1 (2001)").click()
    expect(page.locator("#liked .chip")).to_have_count(2)
    assert "Show 1 (2001)" not in _chips(page)
    assert page.evaluate("window.stayed") is True  # all of it in place: no page load

    # Back and forward step through the refinements, still in place.
    page.go_back()
    expect(page.locator("#liked .chip")).to_have_count(3)
    page.go_back()
    expect(page.locator("#liked .chip")).to_have_count(2)
    expect(page).to_have_url(re.compile(rf"exclude={dropped_id}"))
    page.go_back()
    expect(page).to_have_url(start)
    expect(page.locator(".cards > li h2").first).to_have_text(dropped)
    page.go_forward()
    expect(page.locator(".cards > li h2").first).not_to_have_text(dropped)
    assert page.evaluate("window.stayed") is True
    # The share field follows the address.
    expect(page.locator("#share-url")).to_have_value(page.url)


def test_a_show_turned_down_stays_out_for_the_visit(site, tab):
    page = tab.page
    page.goto(_recommend(site, "Show 1", "Show 4"))
    first = page.locator(".cards > li").first
    dropped = first.locator("h2").inner_text()
    first.get_by_role("link", name=_named("Not for me", dropped)).click()
    expect(page.locator(".cards > li h2").first).not_to_have_text(dropped)

    # A new request from the home page, with the same shows: the answer is made without it.
    page.goto(site["app"] + "/")
    _add(page, "Show 1")
    _add(page, "Show 4")
    page.get_by_role("button", name="Recommend shows").click()
    page.wait_for_url(re.compile(r"/recommend\?.*exclude="))
    expect(page.locator(".cards > li")).to_have_count(10)
    assert dropped not in _titles(page)


def test_duplicate_inputs_collapse(site, tab):
    page = tab.page
    page.goto(site["app"] + "/")
    _add(page, "Show 3")
    _add(page, "show 3")
    _add(page, "SHOW 3 (2003)")
    expect(page.locator("#chosen .chip")).to_have_count(1)
    page.goto(_recommend(site, "Show 3", "show 3", "SHOW 3"))
    assert _chips(page) == ["Show 3 (2003)"]
    # The reason names the show once, however many ways it was typed.
    expect(page.locator(".cards > li").first.locator(".because")).to_have_text(
        re.compile(r"^Because you liked Show 3\b(?!.*Show 3)")
    )


def test_five_chips_at_most_and_removable(site, tab):
    page = tab.page
    page.goto(site["app"] + "/")
    for n in (1, 2, 3, 4, 5):
        _add(page, f"Show {n}")
    expect(page.locator("#chosen .chip")).to_have_count(5)
    expect(page.locator("#show-1")).to_be_disabled()
    tab.axe()
    tab.shot("home-five-chips")
    page.get_by_role("button", name="Remove Show 3 (2003)").click()
    expect(page.locator("#chosen .chip")).to_have_count(4)
    expect(page.locator("#show-1")).to_be_enabled()


def test_remembered_shows_start_the_next_visit(site, tab):
    page = tab.page
    page.goto(site["app"] + "/")
    expect(page.get_by_label("Remember my shows on this device")).not_to_be_checked()
    _add(page, "Show 2")
    _add(page, "Show 5")
    page.get_by_label("Remember my shows on this device").check()
    page.goto(site["app"] + "/about")
    page.goto(site["app"] + "/")  # a new visit to the home page: it starts from them
    assert _chips(page, "#chosen") == ["Show 2 (2002)", "Show 5 (2005)"]
    expect(page.get_by_label("Remember my shows on this device")).to_be_checked()

    # Refining the results keeps the remembered list current.
    page.get_by_role("button", name="Recommend shows").click()
    page.wait_for_url(RESULTS_URL)
    liked = page.locator(".cards > li h2").first.inner_text()
    page.locator(".cards > li").first.get_by_role("link", name=re.compile("^More like")).click()
    expect(page.locator("#liked .chip")).to_have_count(3)
    page.goto(site["app"] + "/")
    expect(page.locator("#chosen .chip")).to_have_count(3)
    assert _chips(page, "#chosen")[-1].startswith(liked)

    # Unticked: forgotten.
    page.get_by_label("Remember my shows on this device").uncheck()
    page.goto(site["app"] + "/about")
    page.goto(site["app"] + "/")
    expect(page.locator("#chosen .chip")).to_have_count(0)
    expect(page.get_by_label("Remember my shows on this device")).not_to_be_checked()


def test_back_from_results_finds_the_chips(site, tab):
    page = tab.page
    page.goto(site["app"] + "/")
    _add(page, "Show 2")
    _add(page, "Show 6")
    page.get_by_role("button", name="Recommend shows").click()
    page.wait_for_url(RESULTS_URL)
    # The answer (straight from the POST, or the waiting page replacing itself with it): Back is
    # pressed on the answer, as a person would (pressed during a replace, the replace lands on
    # the page Back went to).
    expect(page.locator(".cards > li")).to_have_count(10, timeout=15_000)
    results = page.url
    page.go_back(wait_until="load")
    expect(page).to_have_url(site["app"] + "/")
    # A loaded machine can take a while to run the page's script after Back.
    expect(page.locator("#chosen .chip")).to_have_count(2, timeout=15_000)
    assert _chips(page, "#chosen") == ["Show 2 (2002)", "Show 6 (2006)"]
    page.go_forward()
    expect(page).to_have_url(results)
    expect(page.locator(".cards > li")).to_have_count(10)


@pytest.fixture
def nojs(browser: Any) -> Iterator[Any]:
    yield from _tab(browser, viewport={"width": 1280, "height": 900}, java_script_enabled=False)


def test_results_and_refining_work_without_javascript(site, nojs):
    page = nojs.page
    page.goto(site["app"] + "/")
    page.locator("#show-1").fill("Show 1")
    page.get_by_role("button", name="Recommend shows").click()
    page.wait_for_url(re.compile(r"/recommend\?show=Show\+1$"))
    cards = page.locator(".cards > li")
    expect(cards).to_have_count(10)
    dropped = cards.first.locator("h2").inner_text()
    cards.first.get_by_role("link", name=_named("Not for me", dropped)).click()
    page.wait_for_url(re.compile(r"exclude=\d+"))
    assert dropped not in _titles(page)
    page.get_by_label("Add a show").fill("Show 4")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#liked .chip")).to_have_count(2)
    assert dropped not in _titles(page)
    page.get_by_role("link", name="Remove Show 1 (2001)").click()
    assert _chips(page) == ["Show 4 (2004)"]


def test_phone_layout(site, phone):
    page = phone.page
    page.goto(site["app"] + "/")
    button = page.get_by_role("button", name="Recommend shows")
    _in_view(button)
    assert not _small_targets(page)
    for n in (1, 2, 3, 4, 5):
        _add(page, f"Show {n}")
    _fits(page)
    _in_view(button)  # five chips later, still on screen
    page.get_by_role("button", name="Remove Show 5 (2005)").tap()
    page.locator("#show-1").fill("The Office")
    page.locator("#show-1").press("Enter")
    expect(page.get_by_role("group", name="Which “The Office” do you mean?")).to_be_visible()
    _fits(page)
    assert not _small_targets(page), _small_targets(page)  # the "did you mean" choices too
    phone.axe()
    phone.shot("home-phone-chips")

    page.goto(_recommend(site, "Show 1", "Show 4"))
    _fits(page)
    assert not _small_targets(page), _small_targets(page)
    page.locator(".cards > li").first.get_by_role("link", name=re.compile("^Not for me")).tap()
    expect(page).to_have_url(re.compile(r"exclude="))
    _fits(page)

    # The explore graph zooms in on the centre and its neighbours: labels of 12 px or more.
    page.goto(site["app"] + "/explore")
    labels = page.locator("#graph g.node text")
    expect(labels.first).to_be_visible()
    expect(page.locator("#graph g.node.ring-2")).to_have_count(0)
    heights = [box["height"] for box in (t.bounding_box() for t in labels.all()) if box]
    assert heights and min(heights) >= 12, heights
    for node in page.locator("#graph g.node.ring-1").all():
        box = node.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, box
    assert not _small_targets(page), _small_targets(page)


PAGES = {
    "home": "/",
    "recommend": "/recommend?show=Show+1&show=Show+4",
    "models": "/models",
    "explore": "/explore",
    "about": "/about",
    "together": "/together",
    "not-found": "/no-such-page",
    "docs": "/docs",
}


@pytest.mark.parametrize("device", ["tab", "phone"])
def test_screenshot_every_page(site, device, request):
    """Every page at 1280 px and at 375 px, under test-artifacts/screenshots/."""
    shown = request.getfixturevalue(device)
    page = shown.page
    width = 1280 if device == "tab" else 375
    pending = httpx.post(site["stopped"] + "/api/predictions", json={"shows": ["Show 3"]})
    urls = {**{k: site["app"] + v for k, v in PAGES.items()}}
    urls["waiting"] = site["stopped"] + f"/results/{pending.json()['prediction_id']}?timeout=600"
    for name, url in urls.items():
        page.goto(url)
        # The waiting page keeps a long-poll open by design: its network is never idle.
        page.wait_for_load_state("load" if name == "waiting" else "networkidle")
        if name == "waiting":
            expect(page.get_by_role("progressbar")).to_be_visible()
        if name == "explore":
            expect(page.locator("#graph g.node").first).to_be_visible()
        if device == "phone" and name != "docs":  # Swagger UI is not ours to lay out
            _fits(page)
        shown.shot(f"{name}-{width}")
    # Chromium logs the 404 page's status as a console error: that one is the point.
    shown.errors[:] = [e for e in shown.errors if "status of 404" not in e]
