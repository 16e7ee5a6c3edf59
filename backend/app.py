"""The application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Response, abort, g
from flask_cors import CORS
from flask_openapi3 import Info, OpenAPI
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import limits, security_headers, web
from backend.api import register_api, session_cookie
from backend.api.context import close_db, db
from backend.api.responses import COMMON_ERRORS
from backend.config import Settings, load_settings
from backend.crypto import Keyring, configure_keyring
from backend.db import Database
from backend.errors import error_response, register_error_handlers, validation_error_response
from backend.extensions import STATE_KEY, AppState, jwt, limiter
from backend.metrics import init_metrics
from backend.migrate import head_revisions
from backend.services import auth
from backend.services.statement_parser import StatementParser

API_VERSION = "0.1.0"
DOCS_TEMPLATE = Path(__file__).resolve().parent / "templates" / "docs" / "api_docs.html"


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> OpenAPI:
    """Build the Flask app: config, database, keyring, auth, rate limits, API, metrics and the web UI."""
    settings = settings or load_settings()
    app = OpenAPI(
        __name__,
        info=Info(
            title="Spendwatch API",
            version=API_VERSION,
            description="Self-hosted spend monitor. Authenticate with `Authorization: Bearer <access token>`; "
            "pick a workspace with the `X-Workspace-Id` header (default: your first workspace).",
        ),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        responses=COMMON_ERRORS,
        # A string on purpose: flask-openapi3 looks the status up among string keys when it documents
        # validation errors, and an int would make it overwrite our envelope with its own schema.
        validation_error_status="422",
        validation_error_callback=validation_error_response,
        doc_prefix="/api/docs",
        doc_url="/openapi.json",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        JWT_SECRET_KEY=settings.secret_key,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ALGORITHM="HS256",
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        AUTH_RATE_LIMIT=settings.auth_rate_limit,
        REFRESH_RATE_LIMIT=settings.refresh_rate_limit,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_HEADERS_ENABLED=True,
        # A moving window: a fixed one lets twice the limit through across a window boundary.
        RATELIMIT_STRATEGY="moving-window",
        JSON_SORT_KEYS=False,
        MIGRATION_HEADS=head_revisions(),
        **session_cookie.JWT_COOKIE_CONFIG,
    )
    app.config.update(overrides or {})

    keyring = Keyring(settings.encryption_keys)
    configure_keyring(keyring)
    # Sized for the sync pool plus the request threads of `spendwatch run`, so no thread waits for a connection.
    database = Database(
        settings.database_url,
        pool_size=settings.sync.max_workers + 8,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    app.extensions[STATE_KEY] = AppState(settings=settings, db=database, statements=StatementParser(settings.imports))
    app.teardown_appcontext(close_db)

    if settings.trusted_proxies:
        # Behind N reverse proxies, the client address (rate limits, logs) comes from X-Forwarded-For.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    security_headers.init_app(app)
    register_error_handlers(app)
    _init_jwt(app)
    # Registered before the limiter's own after-request hook, so it runs after it (Flask runs them in reverse).
    app.after_request(_keep_retry_after_meaningful)
    limiter.init_app(app)
    if settings.cors_origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": list(settings.cors_origins)}},
            expose_headers=["Retry-After"],
        )
    register_api(app)
    limits.init_app(app, json_bytes=settings.max_json_bytes, upload_bytes=settings.max_request_bytes)
    app.add_url_rule("/api/openapi.json", "openapi_json", lambda: app.api_doc)
    _init_docs(app)
    app.extensions[STATE_KEY].metrics = init_metrics(app)
    web.init_app(app)
    return app


def _init_docs(app: OpenAPI) -> None:
    """Our own API docs page at /api/docs/ (and /api/docs/swagger): flask-openapi3's pages run inline scripts,
    which the Content-Security-Policy forbids; ours loads Swagger UI and its init script from files."""
    page = DOCS_TEMPLATE.read_text(encoding="utf-8")
    app.config["OPENAPI_HTML_STRING"] = page
    app.config["SWAGGER_HTML_STRING"] = page
    # Swagger UI's OAuth2 redirect page is all inline script, and no Spendwatch sign-in uses OAuth2.
    app.view_functions["swagger.oauth2-redirect"] = lambda: abort(404)


def _keep_retry_after_meaningful(response: Response) -> Response:
    """Retry-After only on a refusal, with the wait that refusal named.

    flask-limiter (headers on) writes its window's reset as Retry-After on every response of a limited route, and
    over a shorter Retry-After of our own (a throttled sign-in): put ours back, and drop it where nothing was
    refused, so the header neither varies with the clock on a 401 nor tells a throttled client to wait too long.
    """
    own = g.get("retry_after")
    if own is not None:
        response.headers["Retry-After"] = own
    elif response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _init_jwt(app: OpenAPI) -> None:
    """flask-jwt-extended with our error envelope and session revocation."""
    jwt.init_app(app)

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        try:
            user_id = int(payload["sub"])
        except (KeyError, TypeError, ValueError):
            return True
        return not auth.session_is_active(session=db(), session_id=payload.get("sid"), user_id=user_id)

    @jwt.token_verification_loader
    def _has_expiry(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        # PyJWT checks exp only when present: a token signed without one would never expire.
        return isinstance(payload.get("exp"), int | float)

    @jwt.unauthorized_loader
    def _missing(reason: str) -> Response:
        return error_response(401, "unauthorized", "Sign in first: this needs a Bearer token.")

    @jwt.invalid_token_loader
    def _invalid(reason: str) -> Response:
        return error_response(401, "invalid_token", "The token is not valid.")

    @jwt.expired_token_loader
    def _expired(_header: dict[str, Any], payload: dict[str, Any]) -> Response:
        kind = "refresh" if payload.get("type") == "refresh" else "access"
        return error_response(401, "token_expired", f"The {kind} token has expired.")

    @jwt.revoked_token_loader
    def _revoked_response(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return error_response(401, "session_revoked", "This session has ended; sign in again.")

    @jwt.token_verification_failed_loader
    def _failed(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return error_response(401, "invalid_token", "The token is not valid.")
