"""Serves the web UI: the built React app from frontend/dist when present, else the built-in starter page."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from functools import lru_cache
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
# Vite writes the app's code and styles under assets/ with a hash of their content in the file name: a browser may
# keep them for good. Everything else (index.html above all, which names the current assets) is revalidated.
ASSETS = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
_COMPRESSIBLE = {".js", ".css", ".svg", ".json", ".map", ".txt"}
_MIN_COMPRESS = 1024  # below this, gzip's header and the CPU are not worth it


def init_app(app: Flask, dist: Path = FRONTEND_DIST) -> None:
    """Register the catch-all route that serves the single-page app (built into DIST) and its assets."""
    root = dist if (dist / "index.html").is_file() else STARTER_DIR

    def serve(path: str = "") -> Response:
        if path == "api" or path.startswith(_RESERVED):
            allowed = _api_methods(app, "/" + path)
            if allowed:
                raise MethodNotAllowed(valid_methods=allowed)  # e.g. GET on the POST-only /api/auth/login
            abort(404)
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            if not path.startswith(ASSETS):
                return send_from_directory(root, path)
            return _asset(root, path, candidate)
        if path.startswith(ASSETS):  # a file of another build (a tab open across an upgrade): not the index
            abort(404)
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


def _asset(root: Path, path: str, file: Path) -> Response:
    """A hashed asset: cached for good by the browser, gzipped when the browser takes it and it is worth it."""
    stat = file.stat()
    if request.accept_encodings.quality("gzip") > 0 and file.suffix in _COMPRESSIBLE and stat.st_size >= _MIN_COMPRESS:
        body, etag = _gzipped(str(file), stat.st_mtime_ns, stat.st_size)
        response = Response(body, mimetype=mimetypes.guess_type(file.name)[0] or "application/octet-stream")
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(etag)
        response.make_conditional(request)  # a 304 for a matching If-None-Match (changes RESPONSE in place)
    else:
        response = send_from_directory(root, path)
    response.headers["Cache-Control"] = IMMUTABLE
    response.vary.add("Accept-Encoding")
    return response


@lru_cache(maxsize=256)
def _gzipped(path: str, mtime_ns: int, size: int) -> tuple[bytes, str]:
    """PATH gzipped once (the file's mtime and size are part of the key: a rebuild is compressed anew)."""
    body = gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)
    return body, hashlib.sha256(body).hexdigest()[:32] + "-gz"
