"""Test-suite speed-ups for the one thing tests do that production doesn't: build a fresh app per test.

Each app compiles, afresh, what depends only on the code: Werkzeug's two URL builder functions per rule
(``ast`` + ``compile``, ~240 ms of CPU per app for our ~100 rules, once the biggest fixed cost of a test)
and Jinja's templates. Both are shared here across the session's apps, keyed by what they are compiled
from: a builder by its rule (text, parts, defaults and converters' kinds; it is bound to its rule when
called), a template by Jinja's own bytecode-cache key and source checksum. Production builds its app once
and is untouched; the whole suite exercises url_for and every template through these caches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.routing.rules import Rule

_compile_builder = Rule._compile_builder
_builders: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


def _cached_compile_builder(self: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
    converters = tuple((name, type(conv).__qualname__) for name, conv in self._converters.items())
    defaults = repr(sorted((self.defaults or {}).items()))
    key = (self.rule, self.subdomain, self.host, tuple(self._trace), converters, defaults, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


class _SessionBytecode(BytecodeCache):
    """Jinja's compiled templates, kept in memory for the session (Jinja checks each one's source checksum)."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_templates = _SessionBytecode()


def install() -> None:
    """Share URL builders among every app of the session (call once, before the first app is made)."""
    Rule._compile_builder = _cached_compile_builder  # type: ignore[method-assign]


def share_templates(app: Flask) -> None:
    """Let ``app`` reuse the templates other apps of the session have compiled."""
    app.jinja_env.bytecode_cache = _templates
