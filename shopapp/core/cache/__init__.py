"""A cache, shared by every app process, of what visitors read of the catalog.

The catalog's public pages and API reads answer every visitor alike but for the layout's personal parts
(account menu, cart count, messages, CSRF token: placeholders in a copy) and are most of the traffic;
building one costs 2 to 15 ms of Python and SQL, serving a stored copy a Redis round trip.
Copies live in Redis (``CACHE_URL``; no URL, no cache) under a *generation* that every committed write
increments, and a copy made under an older generation is never served: a reader never gets an answer
older than the last write that had committed when its request began, in any process. ``CACHE_TTL``
bounds how long a copy lives, for changes made to the database outside the app.

Four parts: ``store`` keeps copies and the generation in Redis and bumps it (also through Redis write
stalls and outages); ``visitors`` says which requests are shared reads and how they are keyed;
``per_response`` swaps what differs in every answer (CSP nonce, CSRF token, the layout's personal parts) for
placeholders and back;
``invalidation`` bumps the generation around every commit that wrote. This module ties them to views.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g

from shopapp.core.cache import invalidation, per_response, visitors
from shopapp.core.cache.store import EXTENSION, SharedCache

__all__ = ["EXTENSION", "init_cache", "not_for_others", "shared"]
_NOT_FOR_OTHERS = "shopapp.cache.not_for_others"


def init_cache(app: Flask) -> None:
    """Turn the cache on when ``CACHE_URL`` names a Redis server."""
    url = app.config.get("CACHE_URL")
    if not url:
        return
    # One database, one set of copies, even when several deployments share a Redis server.
    prefix = app.config.get("CACHE_PREFIX") or (
        "shopapp:" + hashlib.sha256(app.config["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest()[:12] + ":"
    )
    app.extensions[EXTENSION] = SharedCache(url, app.config["CACHE_TTL"], prefix, app.config["CACHE_BUMP_TIMEOUT_S"])
    invalidation.listen_for_writes()


def not_for_others() -> None:
    """Said by a shared view whose answer shows this visitor what others may not see (an owner's inactive shop
    or product): it is answered, never stored."""
    setattr(g, _NOT_FOR_OTHERS, True)


def shared(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve ``view``'s answers to every reader from the shared cache (see the module's docstring)."""

    @functools.wraps(view)
    def cached_view(*args: Any, **kwargs: Any) -> Any:
        cache: SharedCache | None = current_app.extensions.get(EXTENSION)
        if cache is None:
            return view(*args, **kwargs)
        key, personal_key = visitors.key(), visitors.personal_key()
        found = cache.lookup(key, personal_key) if visitors.shared_read() else None
        if found is None:  # a token holder's or a write, or Redis failed
            g.cache = "bypass"
            return view(*args, **kwargs)
        generation, entry, parts = found.generation, found.entry, found.parts
        if entry is not None and (response := cache.stored_response(generation, entry)) is not None:
            g.cache = "hit"
        else:
            g.cache = "miss"
            with per_response.rendering_shared():
                response = current_app.make_response(view(*args, **kwargs))
            if response.is_streamed:
                return response
            if response.status_code == 200 and "Set-Cookie" not in response.headers and not g.get(_NOT_FOR_OTHERS):
                cache.store(key, generation, response)
        body = response.get_data()
        if per_response.has_personal_parts(body):
            if parts is None:
                parts = per_response.Parts.render()
                if personal_key is not None and found.visitors is not None:
                    cache.keep_personal(personal_key, found.visitors, parts)
            elif parts.user_id is not None:
                g.user_id = parts.user_id  # for the request log line: the user was not loaded
        filled = per_response.with_personal_parts(body, parts) if parts else per_response.from_placeholders(body)
        response.set_data(filled)
        return response

    return cached_view
