"""Security headers on every response: the UI, the API (errors included), the API docs and static files."""

from __future__ import annotations

from flask import Flask, Response, request

# No inline script or style anywhere (the API docs page loads its init script from a file); images may be data:
# URIs (Swagger UI's stylesheet draws its icons with them). React and Chart.js set styles through the CSSOM, which
# style-src does not govern, so 'self' is enough for them too.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Voice input (a later issue) will want the microphone for this origin only; everything else is off.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(self), midi=(), payment=(), publickey-credentials-get=(), usb=(), xr-spatial-tracking=()"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Invitation and mute links carry their token in the path: another site only ever learns our origin. (Not
    # no-referrer: under it a same-origin POST would send "Origin: null", and the refresh call checks Origin.)
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Only over HTTPS (a browser ignores it on plain HTTP anyway). Behind a TLS proxy, request.is_secure is true only when
# TRUSTED_PROXIES makes us believe its X-Forwarded-Proto. No includeSubDomains: a self-hosted instance often shares
# its parent domain with hosts it does not control.
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    """Register the after_request hook that sets the headers."""
    app.after_request(_add_headers)


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
