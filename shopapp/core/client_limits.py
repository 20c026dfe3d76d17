"""Limits per client address: how often one IP may sign in, register, change a password, upload, search and write.

Each action has a limit string in the config (``RATELIMIT_LOGIN``, ``RATELIMIT_REGISTER``, ``RATELIMIT_PASSWORD``,
``RATELIMIT_UPLOAD``, ``RATELIMIT_SEARCH``, ``RATELIMIT_WRITE``; the ``limits`` notation, several separated by
``;``, e.g. ``"30/minute;300/hour"``; empty: no limit). The page and API endpoints of one action share one count
(``ACTIONS``): ten sign-ins on ``/login`` and ten on ``/api/v1/users/login`` are twenty for that address. Every
other POST, PUT, PATCH or DELETE counts as a write, so a new endpoint is limited without being listed.

The client is ``request.remote_addr`` (Flask-Limiter's ``get_remote_address``): behind ``PROXY_FIX_HOPS``
trusted proxies, ProxyFix has put the client's address there from ``X-Forwarded-For``; without it the header is
ignored, so a spoofed one earns nothing. Counts live in the limiter's store (``RATELIMIT_STORAGE_URI``), shared
by every process; while it does not answer, they go to the per-process fallback
(``core/limit_store.py``). Beyond a limit the request is refused before its view runs: 429 with ``Retry-After``,
problem+json under /api/v1, the site's error page elsewhere. The per-account login throttle
(``auth/throttle.py``) still applies on top.
"""

from __future__ import annotations

import functools
import math
import time

from flask import Flask, current_app, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from shopapp.core.limit_store import limit_store
from shopapp.extensions import limiter

# action: (config key, endpoints). Login, register, password and upload count their non-GET requests, search its
# GET requests; write is every other non-GET request.
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "login": ("RATELIMIT_LOGIN", frozenset({"auth.login", "api.login"})),
    "register": ("RATELIMIT_REGISTER", frozenset({"auth.register", "api.register"})),
    "password": ("RATELIMIT_PASSWORD", frozenset({"auth.change_password"})),
    "upload": (
        "RATELIMIT_UPLOAD",
        frozenset({"media_manage.upload", "api.upload_images", "api.upload_image"}),
    ),
    "search": (
        "RATELIMIT_SEARCH",
        frozenset(
            {
                "catalog.index",
                "catalog.category",
                "catalog.shop",
                "catalog.shops",
                "api.list_products",
                "api.list_shops",
                "api.list_categories",
            }
        ),
    ),
    "write": ("RATELIMIT_WRITE", frozenset()),
}
TOO_MANY = "Too many requests from your address. Please wait {seconds} s and try again."
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_KEY_PREFIX = "client-limit"


def action_of(endpoint: str | None, method: str) -> str | None:
    """The action a request counts towards, or None (reads other than searches, static files, health checks)."""
    if endpoint is None:
        return None
    safe = method in _SAFE_METHODS
    for action, (_, endpoints) in ACTIONS.items():
        if endpoint in endpoints and (action == "search") == safe:
            return action
    return None if safe else "write"


def limits_of(app: Flask, action: str) -> list[RateLimitItem]:
    """The limits of ``action`` in ``app``'s config, parsed once."""
    cache: dict[str, list[RateLimitItem]] = app.extensions.setdefault("client_limits", {})
    if action not in cache:
        value = (app.config.get(ACTIONS[action][0]) or "").strip()
        cache[action] = parse_many(value) if value else []
    return cache[action]


def check_client_limits() -> None:
    """``before_request``: count this request for its action and client; 429 beyond the action's limit."""
    if not limiter.enabled or request.routing_exception is not None:
        return
    action = action_of(request.endpoint, request.method)
    if action is None:
        return
    items = limits_of(current_app._get_current_object(), action)  # type: ignore[attr-defined]
    if not items:
        return
    client = get_remote_address() or "unknown"
    for item in items:
        allowed, storage = limit_store().run(functools.partial(_hit, item=item, action=action, client=client))
        if not allowed:
            try:
                stats = FixedWindowRateLimiter(storage).get_window_stats(item, _KEY_PREFIX, action, client)
                reset_at = stats.reset_time
            except Exception:
                reset_at = time.time() + item.get_expiry()
            seconds = max(1, math.ceil(reset_at - time.time()))
            raise TooManyRequests(TOO_MANY.format(seconds=seconds), retry_after=seconds)


def _hit(store: Storage, item: RateLimitItem, action: str, client: str) -> bool:
    return FixedWindowRateLimiter(store).hit(item, _KEY_PREFIX, action, client)


def init_client_limits(app: Flask) -> None:
    """Parse the limits (one that does not parse stops the app at start, not at a request) and check them
    first of the ``before_request`` functions, before a body is parsed."""
    for action in ACTIONS:
        limits_of(app, action)
    app.before_request_funcs.setdefault(None, []).insert(0, check_client_limits)
