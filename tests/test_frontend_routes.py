"""The web app's API client is checked against the OpenAPI document.

frontend/src/api/routes.json lists every (method, path) the client calls; the client builds its URLs
only from that list, so each entry must be an operation the API documents, spelled as in its `paths`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROUTES_FILE = Path(__file__).resolve().parent.parent / "frontend" / "src" / "api" / "routes.json"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _routes() -> list[dict[str, str]]:
    routes = json.loads(ROUTES_FILE.read_text(encoding="utf-8"))
    assert isinstance(routes, list)
    return routes


def test_routes_file_is_well_formed() -> None:
    routes = _routes()
    assert routes, "routes.json lists no routes"
    seen = set()
    for route in routes:
        assert set(route) == {"method", "path"}, route
        assert route["method"] in METHODS, route
        assert route["path"].startswith("/api/"), route
        key = (route["method"], route["path"])
        assert key not in seen, f"duplicate entry {key}"
        seen.add(key)


@pytest.mark.parametrize("route", _routes(), ids=lambda r: f"{r['method']} {r['path']}")
def test_route_is_in_the_openapi_document(app: Any, route: dict[str, str]) -> None:
    paths = app.api_doc["paths"]
    assert route["path"] in paths, f"{route['path']} is not a path of /api/openapi.json"
    methods = {m.upper() for m in paths[route["path"]]}
    assert route["method"] in methods, f"{route['method']} {route['path']}: the API documents only {sorted(methods)}"


def test_served_openapi_document_matches(client: Any) -> None:
    """The document the app serves has the same operations (what a client generator would read)."""
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    paths = answer.get_json()["paths"]
    missing = [r for r in _routes() if r["method"].lower() not in paths.get(r["path"], {})]
    assert missing == []
