"""The dashboard as the API app serves it: the page, its assets, and the API untouched beside them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from conveyor.ui import ASSETS, STATIC_DIR

from .conftest import MakeApp


def test_the_page_is_served_at_the_root(client: TestClient) -> None:
    page = client.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Conveyor</title>" in page.text
    assert 'id="rows"' in page.text and 'id="start-form"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert client.head("/").status_code == 200


def test_assets_are_served_with_their_content_types(client: TestClient) -> None:
    js = client.get("/ui/app.js")
    css = client.get("/ui/style.css")

    assert js.status_code == 200 and js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert css.status_code == 200 and css.headers["content-type"] == "text/css; charset=utf-8"
    assert js.text == (STATIC_DIR / "app.js").read_text()
    assert css.text == (STATIC_DIR / "style.css").read_text()
    assert js.headers["x-content-type-options"] == "nosniff"
    assert js.headers["cache-control"] == "no-cache"


def test_every_asset_the_page_names_exists(client: TestClient) -> None:
    page = client.get("/").text
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    local = [r for r in refs if not r.startswith("data:")]

    assert sorted(local) == ["ui/app.js", "ui/style.css"]  # relative: works behind a path prefix too
    for ref in local:
        assert client.get("/" + ref).status_code == 200, ref
    assert not [r for r in refs if r.startswith(("http:", "https:", "//"))], (
        "no asset may come from elsewhere"
    )


def test_only_known_assets_are_served(client: TestClient) -> None:
    for path in ("/ui/nope.js", "/ui/index.html", "/ui/..%2F__init__.py", "/ui/%2e%2e/__init__.py", "/ui/"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found", path
    assert set(ASSETS) == {"app.js", "style.css"}


def test_the_api_still_answers_beside_the_dashboard(client: TestClient) -> None:
    health = client.get("/api/v1/health")
    started = client.post("/api/v1/executions", json={"workflow": "demo.count", "parameters": {"n": 3}})
    listed = client.get("/api/v1/executions", params={"limit": 50, "sort": "-created_at"})
    count = client.get("/api/v1/executions/count", params={"status": "pending"})
    unknown = client.get("/api/v1/nothing-here")

    assert health.json() == {"status": "ok", "version": "9.9.9", "database": "sqlite"}
    assert started.status_code == 201
    assert [e["id"] for e in listed.json()["items"]] == [started.json()["id"]]
    assert count.json() == {"count": 1}
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_the_dashboard_stays_out_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert paths, "the API document lists the API"
    assert all(p.startswith("/api/v1/") for p in paths)


def test_the_page_needs_no_token_but_the_data_does(make_app: MakeApp) -> None:
    with TestClient(make_app("required")) as client:
        assert client.get("/").status_code == 200
        assert client.get("/ui/app.js").status_code == 200
        refused = client.get("/api/v1/executions")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


def test_the_script_never_writes_markup() -> None:
    """Values reach the DOM through textContent and properties only (a cheap guard against XSS)."""
    script = (STATIC_DIR / "app.js").read_text()

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink
