"""The "Watching together" page in headless Chromium (fixtures: conftest.py): reached from home,
people added and removed with the keyboard, one list with every person's reason, refined in
place, a person with no known show named, and the phone layout."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.service.web.test_pages import _fits, _pick_by_keyboard


def _ask(page) -> None:
    page.get_by_role("button", name="Recommend for all of us").click()


def test_together_from_home_by_keyboard_and_refine_in_place(site, tab):
    page = tab.page
    page.goto(site["app"] + "/")
    page.get_by_role("link", name="Watch together: one list for 2–4 people").click()
    expect(page).to_have_url(site["app"] + "/together")
    expect(page.get_by_role("heading", level=1)).to_have_text("Watching together")
    tab.axe()

    page.locator("#m1-name").fill("Sam")
    _pick_by_keyboard(page, "m1-show-1", "Show 4", "Show 4 (2004–2007)")  # same autocomplete
    page.keyboard.press("Enter")
    expect(page.locator("#m1-show-1")).to_have_value("Show 4 (2004)")
    page.locator("#m2-name").fill("Alex")
    page.locator("#m2-show-1").fill("Show 5")  # typed, checked on submit

    # A third person, added and removed with the keyboard only.
    page.locator("#add-member").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#m3-name")).to_be_focused()
    page.keyboard.type("Kim")
    page.get_by_role("button", name="Remove person 3").focus()
    page.keyboard.press("Enter")
    expect(page.locator("fieldset[data-member='3']")).to_be_hidden()
    expect(page.locator("#add-member")).to_be_focused()

    page.locator("#submit").focus()
    page.keyboard.press("Enter")
    cards = page.locator("#group-results .cards > li")
    expect(cards).to_have_count(10)
    expect(page.locator("#group-summary")).to_have_text("10 shows for Sam, Alex.")
    first = cards.first
    reasons = first.locator(".member-reasons li")
    expect(reasons).to_have_count(2)
    expect(reasons.nth(0)).to_contain_text("Sam: ")
    expect(reasons.nth(1)).to_contain_text("Alex: ")
    expect(reasons.nth(0)).to_contain_text("% ")
    expect(
        page.locator(".member-reasons li", has_text="Sam: because you liked Show 4").first
    ).to_be_visible()
    expect(
        page.locator(".member-reasons li", has_text="Alex: because you liked Show 5").first
    ).to_be_visible()
    tab.axe()
    tab.shot("together")

    # Refine in place: the same page, another strategy and a changed show; new cards.
    before = cards.locator("h3").all_inner_texts()
    url = page.url
    page.locator("#m2-show-1").fill("Show 6")
    page.locator("#strategy").select_option("least-misery")
    _ask(page)
    expect(
        page.locator(".member-reasons li", has_text="Alex: because you liked Show 6").first
    ).to_be_visible()
    assert page.url == url
    assert cards.locator("h3").all_inner_texts() != before
    titles = set(cards.locator("h3").all_inner_texts())
    assert not titles & {"Show 4", "Show 6"}


def test_a_person_without_known_shows_is_named(site, tab):
    page = tab.page
    page.goto(site["app"] + "/together")
    page.locator("#m1-show-1").fill("Show 1")
    _ask(page)
    expect(page.locator("#form-message")).to_have_text("Type at least one show Person 2 enjoyed.")
    expect(page.locator("#m2-show-1")).to_be_focused()
    page.locator("#m2-name").fill("Alex")
    page.locator("#m2-show-1").fill("tt9999999")
    _ask(page)  # the field's check says so before anything is sent
    expect(page.locator("#m2-show-1-status")).to_contain_text(
        "Nothing in the catalogue matches “tt9999999”"
    )
    expect(page.locator("#form-message")).to_have_text(
        "Please choose which show you mean, then ask again."
    )
    # A title nobody knows passes the check (the home page would add it); the group route
    # creates no shows, so its 422 names the person, and their first show gets the focus.
    page.locator("#m2-show-1").fill("Qwxz Plonkety")
    _ask(page)
    expect(page.locator("#form-message")).to_contain_text(
        "none of Alex's shows could be identified"
    )
    expect(page.locator("#m2-show-1")).to_be_focused()
    page.locator("#m2-show-1").fill("Show 2")
    _ask(page)
    expect(page.locator("#group-results .cards > li")).to_have_count(10)
    tab.axe()
    # Chromium logs every non-2xx fetch; the 422 above is an answer the page handles. Console
    # events arrive in order, so it has been delivered by the time the later answer is drawn.
    assert tab.errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    tab.errors.clear()


def test_together_at_phone_width(site, phone):
    page = phone.page
    page.goto(site["app"] + "/together")
    _fits(page)
    page.locator("#m1-show-1").fill("Show 0")
    page.locator("#m2-show-1").fill("Show 1")
    page.get_by_role("button", name="Add a person").tap()
    page.locator("#m3-show-1").fill("Show 2")
    page.get_by_role("button", name="Recommend for all of us").tap()
    expect(page.locator("#group-results .cards > li")).to_have_count(10)
    expect(
        page.locator("#group-results .cards > li").first.locator(".member-reasons li")
    ).to_have_count(3)
    _fits(page)
    phone.axe()
    phone.shot("together-phone")
