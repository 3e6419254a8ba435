"""The web pages in Debian's headless Chromium against real servers (see conftest.py).

Every test also checks that the browser console stayed free of errors (the ``tab`` fixture) and
runs axe-core on each page it visits; screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

RESULTS_URL = re.compile(r"/results/[0-9a-f-]{36}")


def _pick_by_keyboard(page, field: str, text: str, option_text: str) -> None:
    """Type into a show field, open its suggestions and choose ``option_text`` with the keys."""
    box = page.locator(f"#{field}")
    box.press_sequentially(text, delay=20)
    listbox = page.locator(f"#{field}-list")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    # The list is redrawn per typed character: wait for the answer to the last one.
    expect(options.filter(has_text=option_text).first).to_be_visible()
    # An option reads "Title (years) · type · IMDb rating".
    texts = [t.strip() for t in options.all_inner_texts()]
    index = next(i for i, t in enumerate(texts) if t.split(" · ")[0] == option_text)
    for _ in range(index + 1):
        box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    expect(page.locator(f"#{active}")).to_have_attribute("aria-selected", "true")


def test_type_autocomplete_submit_wait_results(site, tab):
    page = tab.page
    page.goto(site["app"] + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("What have you enjoyed watching?")
    tab.axe()

    # Escape closes the suggestions without choosing.
    page.locator("#show-1").press_sequentially("Show 1", delay=20)
    expect(page.locator("#show-1-list")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#show-1-list")).to_be_hidden()
    expect(page.locator("#show-1")).to_have_attribute("aria-expanded", "false")
    page.locator("#show-1").fill("")

    _pick_by_keyboard(page, "show-1", "Show 1", "Show 1 (2001–2004)")
    # Suggestions carry the IMDb rating.
    expect(page.locator("#show-1-list [aria-selected=true] .hit-meta")).to_contain_text("IMDb")
    tab.axe()  # with the listbox open
    tab.shot("home")
    page.keyboard.press("Enter")
    # The pick becomes a chip and the field is free for the next show.
    chips = page.locator("#chosen .chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("Show 1 (2001)")
    expect(page.locator("#show-1")).to_have_value("")

    # Typed without choosing: checked on submit.
    page.locator("#show-1").fill("Show 4")
    with page.expect_response(lambda r: r.url.endswith("/api/predictions")) as posted:
        page.get_by_role("button", name="Recommend shows").click()
    # Asked with Prefer: wait, the POST brought the answer (the worker runs): no waiting page.
    assert posted.value.request.headers["prefer"] == "wait=2"
    assert posted.value.status == 200, posted.value.text()
    page.wait_for_url(RESULTS_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recommendations")
    cards = page.locator(".cards > li")
    expect(cards).to_have_count(10)
    first = cards.first
    expect(first.locator("h2")).not_to_be_empty()
    expect(first.locator(".rating")).to_contain_text("IMDb")
    expect(first.locator(".votes")).to_contain_text("votes")
    expect(first.locator(".genres li").first).to_be_visible()
    expect(first.get_by_role("link", name=re.compile("on IMDb"))).to_have_attribute(
        "href", re.compile(r"imdb\.com/title/tt")
    )
    expect(first.locator(".because")).to_contain_text("Because you liked")
    expect(page.locator("#liked .chip > span")).to_have_text(
        ["Show 1 (2001)", re.compile("^Show 4")]
    )
    tab.axe()
    tab.shot("results")

    # The address is stable: loading it again shows the same results.
    url = page.url
    titles = cards.locator("h2").all_inner_texts()
    page.goto(url)
    assert page.locator(".cards > li h2").all_inner_texts() == titles
    expect(page.locator("#share-url")).to_have_value(url)
    page.get_by_role("link", name="Start over").click()
    expect(page).to_have_url(site["app"] + "/")


def test_ambiguous_title_asks_which_and_unknown_title_is_added(site, tab):
    page = tab.page
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/shows/match?" in r.url else None)
    page.goto(site["app"] + "/")
    box = page.locator("#show-1")
    status = page.locator("#show-1-status")
    box.fill("Shw 12")  # a typo: the server calls it fuzzy, adds nothing
    box.press("Enter")
    fuzzy = page.get_by_role("group", name="We do not know “Shw 12”. Did you mean one of these?")
    expect(fuzzy).to_be_visible()
    fuzzy.get_by_label("Show 12 (2012)").click()
    box.fill("Show 7 (1990)")  # a year that fits no Show 7: ask which
    box.press("Enter")
    expect(status).to_contain_text("Which “Show 7” do you mean?")
    status.get_by_label(re.compile(r"^Show 7 \(")).click()
    box.fill("Zqxv Unheard Serial")
    box.press("Enter")
    expect(page.locator("#chosen .chip")).to_have_count(3)
    expect(page.locator("#chosen")).to_contain_text("Zqxv Unheard Serial (new)")
    # The page asked the server about every typed title; it has no matching rules of its own.
    assert len([u for u in asked if "q=" in u]) >= 3
    box.fill("The Office")
    page.get_by_role("button", name="Recommend shows").click()
    group = page.get_by_role("group", name="Which “The Office” do you mean?")
    expect(group).to_be_visible()
    expect(page.locator("#form-message")).to_contain_text("choose which show")
    tab.axe()
    tab.shot("home-ambiguous")
    group.get_by_label("The Office (2005)").click()
    expect(page.locator("#chosen .chip")).to_have_count(4)
    page.get_by_role("button", name="Recommend shows").click()
    page.wait_for_url(RESULTS_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recommendations")
    expect(page.locator("#liked")).to_contain_text("The Office (2005)")
    expect(page.locator(".note")).to_contain_text("Zqxv Unheard Serial")


def test_worker_stopped_times_out_with_a_retry(site, tab):
    page = tab.page
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/api/predictions/" in r.url else None)
    page.goto(site["stopped"] + "/?timeout=3")
    page.locator("#show-1").fill("Show 7")
    page.get_by_role("button", name="Recommend shows").click()
    page.wait_for_url(re.compile(r"/results/[0-9a-f-]{36}\?timeout=3"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Finding shows for you…")
    expect(page.get_by_role("progressbar")).to_be_visible()
    tab.axe()
    tab.shot("waiting")
    alert = page.locator("#problem")
    expect(alert).to_be_visible(timeout=10_000)
    expect(alert).to_contain_text("taking longer than expected")
    retry = page.get_by_role("button", name="Keep waiting")
    expect(retry).to_be_focused()
    tab.axe()
    tab.shot("waiting-timeout")
    # Long-polls: the server held each request, so 3 s took one or two (not a dozen polls).
    assert polls and all("wait=" in url for url in polls), polls
    assert len(polls) <= 3, polls
    retry.click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(alert).to_be_hidden()


def test_models_page_shows_registry_and_chart(site, tab):
    page = tab.page
    page.goto(site["app"] + "/models")
    expect(page.locator("#serving-h + p")).to_contain_text("Version 1")
    expect(page.locator("#serving-h + p")).to_contain_text("in production since")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("production")
    expect(rows.nth(1)).to_contain_text("candidate")
    chart = page.locator("figure.chart img").first
    expect(chart).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle()
    )
    assert "ndcg@10" in chart.get_attribute("alt")
    tab.axe()
    tab.shot("models")


def test_explore_recentres_on_click(site, tab):
    page = tab.page
    page.goto(site["app"] + "/explore")
    root = page.locator("#explore")
    expect(root).not_to_have_attribute("data-centre", "")
    first_centre = root.get_attribute("data-centre")
    nodes = page.locator("#graph g.node.ring-1")
    expect(nodes.first).to_be_visible()
    assert 1 <= nodes.count() <= 8
    tab.axe()
    tab.shot("explore")
    target = nodes.nth(2)
    target_id = target.get_attribute("data-id")
    target_title = target.locator("title").text_content()
    target.click()
    expect(root).to_have_attribute("data-centre", target_id)
    assert target_id != first_centre
    expect(page.locator("#graph-title")).to_have_text(target_title)
    expect(page).to_have_url(re.compile(rf"/explore\?show={target_id}$"))
    # Keyboard: the neighbour list re-centres too, and Back returns to the previous centre.
    page.locator("#neighbour-list button").first.press("Enter")
    expect(root).not_to_have_attribute("data-centre", target_id)
    page.go_back()
    expect(root).to_have_attribute("data-centre", target_id)
    tab.shot("explore-recentred")


def test_about_page_credits_the_data(site, tab):
    page = tab.page
    page.goto(site["app"] + "/about")
    sources = page.locator("#sources + ul")
    expect(sources).to_contain_text("MovieTweetings")
    expect(sources).to_contain_text("Simon Dooms")
    expect(sources).to_contain_text("MIT")
    expect(sources).to_contain_text("IMDb")
    tab.axe()
    tab.shot("about")


def _fits(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} scrolls sideways at phone width ({width} px)"


def test_phone_width(site, phone):
    page = phone.page
    page.goto(site["app"] + "/")
    _fits(page)
    _pick_by_keyboard(page, "show-1", "Show 2", "Show 2 (2002–2005)")
    page.keyboard.press("Enter")
    phone.shot("home-phone")
    page.get_by_role("button", name="Recommend shows").tap()
    page.wait_for_url(RESULTS_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recommendations")
    _fits(page)
    phone.axe()
    phone.shot("results-phone")
    for path, name in (
        ("/models", "models-phone"),
        ("/explore", "explore-phone"),
        ("/about", "about-phone"),
    ):
        page.goto(site["app"] + path)
        if path == "/explore":
            expect(page.locator("#graph g.node.ring-1").first).to_be_visible()
            page.locator("#graph g.node.ring-1").first.tap()
            expect(page).to_have_url(re.compile(r"/explore\?show=\d+$"))
        _fits(page)
        phone.axe()
        phone.shot(name)
