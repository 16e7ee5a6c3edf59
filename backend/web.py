"""Serves the web UI: the built React app from frontend/dist when present, else the built-in starter page."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, request, send_from_directory
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from backend.errors import error_response, http_error_response

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"
STARTER_DIR = Path(__file__).resolve().parent / "static" / "web"

# Paths the UI must never swallow: the API, its docs and the operational endpoints answer for themselves.
_RESERVED = ("api/", "healthz", "readyz", "metrics")
_UI_ENDPOINTS = ("web_index", "web_path")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def init_app(app: Flask) -> None:
    """Register the catch-all route that serves the single-page app and its assets."""
    root = FRONTEND_DIST if (FRONTEND_DIST / "index.html").is_file() else STARTER_DIR

    def serve(path: str = "") -> Response:
        if path == "api" or path.startswith(_RESERVED):
            allowed = _api_methods(app, "/" + path)
            if allowed:
                raise MethodNotAllowed(valid_methods=allowed)  # e.g. GET on the POST-only /api/auth/login
            abort(404)
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return send_from_directory(root, path)
        # Unknown paths are client-side routes (e.g. /invite/<token>): the app's index handles them.
        response = send_from_directory(root, "index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.add_url_rule("/", "web_index", serve)
    app.add_url_rule("/<path:path>", "web_path", serve)

    @app.errorhandler(405)
    def _api_path_not_found(exc: HTTPException) -> Response:
        # A write to an API path that no API rule matches (e.g. DELETE /api/accounts/abc) only "matches" the
        # GET-only UI catch-all, which would make it a 405; for the client it is an unknown resource: 404.
        if request.path.startswith("/api/") and _only_ui_matches(app, request.path):
            return error_response(404, "not_found", "The requested URL was not found on the server.")
        return http_error_response(exc)


def _api_methods(app: Flask, path: str) -> list[str]:
    """The methods for which a rule other than the UI catch-all matches PATH."""
    adapter = app.url_map.bind("localhost")
    allowed = []
    for method in _METHODS:
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint not in _UI_ENDPOINTS:
            allowed.append(method)
    return allowed


def _only_ui_matches(app: Flask, path: str) -> bool:
    """True when no API rule matches PATH with any method (only the UI catch-all does)."""
    return not _api_methods(app, path)
