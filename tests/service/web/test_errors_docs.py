"""Offline API docs and HTML error pages, in headless Chromium with the internet refused."""

from __future__ import annotations

from playwright.sync_api import expect


def test_docs_work_offline(site, tab):
    page = tab.page
    outside = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None
        ),
    )
    page.goto(site["app"] + "/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/api/shows/match")
    tab.shot("docs")
    assert not outside, f"the docs asked the internet for {outside}"


def _expected_error_statuses(tab) -> None:
    """Chromium logs every 4xx answer as a console error; here they are the point."""
    tab.errors[:] = [e for e in tab.errors if "server responded with a status of 4" not in e]


def test_html_error_pages_in_the_site_layout(site, tab):
    page = tab.page
    response = page.goto(site["app"] + "/no-such-page")
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the home page")).to_have_attribute("href", "/")
    tab.axe()
    tab.shot("error-404")

    response = page.goto(site["app"] + "/explore?show=abc")
    assert response.status == 422
    expect(page.get_by_role("heading", level=1)).to_have_text("That address is not quite right")
    expect(page.locator("main")).to_contain_text("show")
    tab.axe()
    tab.shot("error-422")

    # A show id that does not exist: the page says so instead of "Loading…".
    page.goto(site["app"] + "/explore?show=999999")
    expect(page.locator("#graph-title")).to_have_text("Show not found")
    expect(page.locator("#graph-message")).to_contain_text("999999")
    tab.axe()
    _expected_error_statuses(tab)


def test_api_keeps_problem_json_for_a_browser(site, tab):
    response = tab.page.goto(site["app"] + "/api/no-such-route")
    assert response.status == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    response = tab.page.goto(site["app"] + "/api/shows/abc")
    assert response.status == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    _expected_error_statuses(tab)
