"""Security headers on every response, and a per-response CSP nonce for the pages' own scripts.

The policy allows no inline script or style and no eval: htmx runs under it because it is
loaded from this origin, its indicator styles are turned off (``htmx-config`` meta tag in
base.html) and no template uses ``hx-on`` or inline event handlers. The pages' only inline scripts are
JSON-LD data blocks (never run; ``json_ld`` in templates/macros/products.html), which carry the nonce all the same.
"""

from __future__ import annotations

import secrets

from flask import Flask, g
from flask.wrappers import Response

PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


def csp_nonce() -> str:
    return g.get("csp_nonce", "")


def register_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    production = app.config["APP_ENV"] == "production"

    @app.before_request
    def _new_nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(18)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if response.mimetype == "text/html":
            headers["Content-Security-Policy"] = PAGE_POLICY.format(nonce=csp_nonce())
        else:
            headers.setdefault("Content-Security-Policy", OTHER_POLICY)
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
