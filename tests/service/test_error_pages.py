"""Which errors are pages and which are problem documents (the choice, without a browser)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.conftest import service_settings

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_pages_get_html_and_the_api_json(trained, make_client):
    client = make_client(service_settings(trained))

    def boom() -> None:
        raise RuntimeError("a bug")

    client.app.add_api_route("/boom", boom)
    client.app.add_api_route("/api/boom", boom)
    quiet = TestClient(client.app, raise_server_exceptions=False)

    page = quiet.get("/boom", headers=HTML)
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and "a bug" not in page.text
    api = quiet.get("/api/boom", headers=HTML)
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"

    for path, status in (("/nowhere", 404), ("/explore?show=abc", 422), ("/results/x", 404)):
        page = client.get(path, headers=HTML)
        assert page.status_code == status, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert '<nav aria-label="Main">' in page.text
        # The pages' own fetch calls ask for JSON and get problem documents.
        assert client.get(path, headers={"Accept": "application/json"}).status_code == status
    graph = client.get("/explore/graph?show=999999", headers={"Accept": "application/json"})
    assert graph.status_code == 404
    assert graph.headers["content-type"] == "application/problem+json"


def test_docs_assets_are_served_by_the_app(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert asset in docs.text
        response = client.get(f"/static-offline-docs/{asset}")
        assert response.status_code == 200 and len(response.content) > 10_000, asset
