"""The browser's refresh token: an HttpOnly cookie on /api/auth, a readable CSRF cookie, and the checks a cookie
call must pass (CSRF double submit and Origin) before the cookie is believed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, request
from flask_jwt_extended import get_csrf_token, get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import CSRFError, NoAuthorizationError

from backend.api.context import db
from backend.errors import Forbidden, Unauthorized
from backend.extensions import get_state
from backend.services.instance_settings import public_url

REFRESH_COOKIE = "spendwatch_refresh"
CSRF_COOKIE = "spendwatch_csrf"
CSRF_HEADER = "X-CSRF-Token"
# Refresh and logout live under this path, so only they (and the other /api/auth calls) ever receive the cookie.
REFRESH_PATH = "/api/auth"
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}

JWT_COOKIE_CONFIG = {
    "JWT_REFRESH_COOKIE_NAME": REFRESH_COOKIE,
    "JWT_REFRESH_CSRF_HEADER_NAME": CSRF_HEADER,
    "JWT_COOKIE_CSRF_PROTECT": True,  # every refresh token carries a random "csrf" claim the header must repeat
    "JWT_CSRF_CHECK_FORM": False,  # the header only: a cross-site form can send fields, never headers
}


def _secure() -> bool:
    """Mark cookies Secure over HTTPS, and on a loopback host (browsers treat http://127.0.0.1 as a secure
    context and keep Secure cookies there). Elsewhere on plain HTTP a browser would drop a Secure cookie."""
    return request.is_secure or (urlsplit(request.host_url).hostname or "") in _LOOPBACK


def set_session_cookies(response: Response, refresh_token: str, max_age: int) -> None:
    """Hand REFRESH_TOKEN to the browser as an HttpOnly cookie, with its CSRF value in a cookie scripts can read."""
    secure = _secure()
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=max_age,
        path=REFRESH_PATH,
        secure=secure,
        httponly=True,
        samesite="Strict",
    )
    # Path=/ so the page's script can read it anywhere in the app; it is no credential on its own.
    response.set_cookie(
        CSRF_COOKIE, get_csrf_token(refresh_token), max_age=max_age, path="/", secure=secure, samesite="Strict"
    )


def clear_session_cookies(response: Response) -> None:
    """Delete both session cookies (sign-out)."""
    secure = _secure()
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, secure=secure, httponly=True, samesite="Strict")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="Strict")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin() -> None:
    """Refuse a cookie call sent from another site. Browsers send Origin on every POST (our Referrer-Policy keeps
    it); programs without one are no CSRF vector. Ours: this host, BASE_URL, the CORS origins and the admin's public
    address setting."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    settings = get_state(current_app).settings
    allowed = {_origin(request.host_url), _origin(settings.base_url), *(_origin(o) for o in settings.cors_origins)}
    if origin.lower() in allowed:
        return
    # The admin's public address (instance setting) may differ from BASE_URL: read it only when needed.
    if origin.lower() != _origin(public_url(session=db(), default=settings.base_url)):
        raise Forbidden("This request came from another site.", code="cross_site_request")


def verify_refresh_cookie() -> dict[str, Any]:
    """The claims of the refresh cookie, after the Origin and CSRF checks; 401/403 otherwise."""
    check_origin()
    try:
        verify_jwt_in_request(refresh=True, locations=["cookies"])
    except CSRFError:
        raise Forbidden(
            f"The {CSRF_HEADER} header is missing or does not match the session cookie.", code="csrf_failed"
        ) from None
    except NoAuthorizationError:
        raise Unauthorized("No session cookie: sign in again.", code="unauthorized") from None
    return get_jwt()


def has_refresh_cookie() -> bool:
    return REFRESH_COOKIE in request.cookies
