"""The JSON API v1 under /api/v1: bearer tokens only, problem+json errors, an OpenAPI 3.1 document.

It calls the same services as the pages; this package only parses, authenticates and serialises.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from shopapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register_api(app: Flask) -> None:
    from shopapp.api.errors import refuse_long_urls, unrouted_api_request

    # Browsers never attach a bearer token on their own, so there is nothing for CSRF to ride on.
    csrf.exempt(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_long_urls)  # before CSRF reads a body
    app.before_request(unrouted_api_request)
    app.register_blueprint(bp)


# The modules below add their routes and handlers to ``bp``.
from shopapp.api import carts, categories, errors, openapi, orders, products, shops, users  # noqa: E402, F401
