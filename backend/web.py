"""Serves the web UI: the built React app from frontend/dist when present, else the built-in starter page."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, send_from_directory

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"
STARTER_DIR = Path(__file__).resolve().parent / "static" / "web"

# Paths the UI must never swallow: the API, its docs and the operational endpoints answer for themselves.
_RESERVED = ("api/", "healthz", "readyz", "metrics")


def init_app(app: Flask) -> None:
    """Register the catch-all route that serves the single-page app and its assets."""
    root = FRONTEND_DIST if (FRONTEND_DIST / "index.html").is_file() else STARTER_DIR

    def serve(path: str = "") -> Response:
        if path.startswith(_RESERVED):
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
