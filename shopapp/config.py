"""Configuration, read once from the environment when the app is created.

Every variable is documented in the README. ``load_config`` is a pure function of
an environment mapping so tests can exercise the production checks directly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

ENVIRONMENTS = ("development", "production", "testing")
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production!"  # noqa: S105 - refused in production
MIN_SECRET_BYTES = 32
# Upload limits unless MAX_UPLOAD_BYTES / MAX_IMAGE_PIXELS say otherwise (the API document names them too).
DEFAULT_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_IMAGE_PIXELS = 40_000_000
# The SQLAlchemy URL schemes ShopApp runs on (the app and the migrations are written for these two).
DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgres", "postgresql", "postgresql+psycopg")
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
# Mail (shopapp/mail/): the sender when MAIL_FROM is not set, and the ports of the two SMTP URL schemes.
DEFAULT_MAIL_FROM = "ShopApp <no-reply@localhost>"
MAIL_SCHEMES = {"smtp": 25, "smtps": 465}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_HOSTNAME = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")  # a name, an IPv4 or an IPv6 address
_ADDR_SPEC = re.compile(r"[^\s@<>()\[\],;:\\\"]+@[A-Za-z0-9.-]+")


class ConfigError(RuntimeError):
    """The environment does not describe a runnable app (raised at start-up)."""


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def check_database_url(url: str) -> str:
    """Refuse a database ShopApp does not run on, by name, before SQLAlchemy looks for its driver.

    Only the scheme is quoted back: the rest of the URL may hold a password.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in DATABASE_SCHEMES:
        given = f"a {scheme}:// URL" if scheme else "a URL without a scheme"
        raise ConfigError(
            f"DATABASE_URL must be a sqlite:/// or postgresql:// URL (ShopApp runs on SQLite and PostgreSQL only); "
            f"got {given}."
        )
    return url


class MailServer(NamedTuple):
    """Where ``MAIL_URL`` sends mail: ``smtp://[user[:password]@]host[:port][?starttls=1]`` or ``smtps://…``
    (TLS from the first byte, port 465 unless given); user and password are percent-decoded."""

    host: str
    port: int
    tls: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_mail_url(url: str) -> MailServer | None:
    """The SMTP server of ``MAIL_URL``; None when it is empty (mails are written to the log).

    A ConfigError names what is wrong in one line and never quotes the URL back (it may hold a password).
    """
    url = url.strip()
    if not url:
        return None
    example = "e.g. MAIL_URL=smtp://127.0.0.1:1025 or smtps://user:password@mail.example.com"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in MAIL_SCHEMES or "://" not in url:
        given = f"a {scheme}:// URL" if scheme and "://" in url else "a URL without a scheme"
        raise ConfigError(f"MAIL_URL must be an smtp:// or smtps:// URL ({example}); got {given}.")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"MAIL_URL has a port that is not a number from 1 to 65535 ({example}).") from None
    host = parts.hostname or ""
    if not _HOSTNAME.fullmatch(host):
        raise ConfigError(f"MAIL_URL names no valid mail server host ({example}).")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigError(f"MAIL_URL must not have a path or a fragment ({example}).")
    starttls = False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "starttls" or value.lower() not in _TRUE + _FALSE:
            raise ConfigError(f"MAIL_URL takes one option, starttls=1 or starttls=0 (for smtp://); got {key!r}.")
        starttls = value.lower() in _TRUE
    if starttls and scheme == "smtps":
        raise ConfigError("MAIL_URL: starttls=1 is for smtp:// URLs; smtps:// is TLS from the start.")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ConfigError(f"MAIL_URL has a password but no user name ({example}).")
    return MailServer(host, port or MAIL_SCHEMES[scheme], scheme == "smtps", starttls, username, password)


def sender_address(value: str) -> str | None:
    """The address of a ``From`` value with one address (and maybe a display name); None for anything else."""
    from email.errors import MessageError
    from email.headerregistry import AddressHeader, HeaderRegistry

    if any(ch in value for ch in "\r\n"):
        return None
    try:  # the parser of Python 3.11 can also fail with an IndexError on an address cut short
        header = HeaderRegistry()("From", value)
    except (MessageError, IndexError, ValueError):
        return None
    if not isinstance(header, AddressHeader) or len(header.addresses) != 1:
        return None
    if any(group.display_name is not None for group in header.groups):  # "Group: a@b.c;"
        return None
    address = header.addresses[0].addr_spec
    return address if _ADDR_SPEC.fullmatch(address) else None


def check_mail_from(value: str) -> str:
    """``MAIL_FROM``: one address, with or without a display name (``ShopApp <no-reply@example.com>``)."""
    value = value.strip() or DEFAULT_MAIL_FROM
    if sender_address(value) is None:
        raise ConfigError(
            f'MAIL_FROM must be one mail address, e.g. MAIL_FROM="ShopApp <no-reply@example.com>"; got {value!r}.'
        )
    return value


def number(env: Mapping[str, str], name: str, default: str, unit: str, *, whole: bool = True, minimum: int = 0) -> Any:
    """The variable ``name`` as a whole (int) or decimal (float) number of ``unit``, at least ``minimum``.

    Only plain ASCII digits are taken (``int()`` would also take ``1_000`` or Arabic-Indic digits, ``float()``
    ``inf`` and ``nan``); anything else is a ConfigError that names the variable and what it must be.
    """
    raw = env.get(name, default).strip()
    pattern = _WHOLE if whole else _DECIMAL
    value = (int if whole else float)(raw) if pattern.fullmatch(raw) else None
    if value is None or value < minimum:
        kind = "a whole number" if whole else "a number"
        bound = f" (at least {minimum})" if minimum else ""
        raise ConfigError(f"{name} must be {kind} of {unit}{bound}, e.g. {name}={default}; got {raw!r}.")
    return value


def _positive(value: float, name: str) -> float:
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0 seconds, e.g. {name}=10; got {value:g}.")
    return value


def _checked_mail_url(url: str) -> str:
    parse_mail_url(url)
    return url.strip()


def _storage_options(storage_uri: str) -> dict[str, Any]:
    if storage_uri.split(":", 1)[0] in ("redis", "rediss", "redis+unix"):
        return {"socket_connect_timeout": 1, "socket_timeout": 1}
    return {}


def load_config(environ: Mapping[str, str] | None = None, instance_path: str | Path = "instance") -> dict[str, Any]:
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "development").strip().lower()
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}; got {app_env!r}.")
    production = app_env == "production"
    instance = Path(instance_path)

    secret = env.get("SECRET_KEY", "")
    if not secret:
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production ShopApp refuses to start without a random secret of at "
                "least 32 bytes, e.g. SECRET_KEY=\"$(python -c 'import secrets; print(secrets.token_urlsafe(48))')\"."
            )
        secret = DEV_SECRET_KEY
    elif production and (len(secret.encode()) < MIN_SECRET_BYTES or secret == DEV_SECRET_KEY):
        raise ConfigError(
            f"SECRET_KEY is too weak for production: it must be at least {MIN_SECRET_BYTES} bytes of random data "
            "and not the development default."
        )

    storage_uri = env.get("RATELIMIT_STORAGE_URI", "").strip()
    if not storage_uri:
        if production:
            raise ConfigError(
                "RATELIMIT_STORAGE_URI is not set. In production ShopApp refuses to start without a shared store for "
                "the login throttle (each process would count in its own memory), e.g. "
                "RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0."
            )
        storage_uri = "memory://"

    database_url = env.get("DATABASE_URL") or f"sqlite:///{(instance / 'shopapp.db').resolve()}"
    media_root = env.get("MEDIA_ROOT") or str((instance / "media").resolve())

    return {
        "APP_ENV": app_env,
        "TESTING": app_env == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(check_database_url(database_url)),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Bounds on waiting for PostgreSQL (shopapp/core/db_timeouts.py): connecting, taking a pooled
        # connection and checking it answer within DATABASE_TIMEOUT_S; the server cancels a statement
        # after DATABASE_STATEMENT_TIMEOUT_MS (0: never), and the client gives up one second later.
        "DATABASE_TIMEOUT_S": number(env, "DATABASE_TIMEOUT_S", "2", "seconds", whole=False),
        "DATABASE_STATEMENT_TIMEOUT_MS": number(env, "DATABASE_STATEMENT_TIMEOUT_MS", "3000", "milliseconds"),
        "MEDIA_ROOT": media_root,
        "RATELIMIT_STORAGE_URI": storage_uri,
        # A Redis that is away answers at once or within a second; the login throttle then counts in memory.
        "RATELIMIT_STORAGE_OPTIONS": _storage_options(storage_uri),
        "LOGIN_THROTTLE_RETRY_SECONDS": number(env, "LOGIN_THROTTLE_RETRY_SECONDS", "5", "seconds", whole=False),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Limits per client address (shopapp/core/client_limits.py), shared by the page and API endpoints of
        # each action; every other POST/PUT/PATCH/DELETE is a write. Empty: no limit.
        "RATELIMIT_LOGIN": env.get("RATELIMIT_LOGIN", "30/minute;300/hour"),
        "RATELIMIT_REGISTER": env.get("RATELIMIT_REGISTER", "20/hour"),
        "RATELIMIT_PASSWORD": env.get("RATELIMIT_PASSWORD", "10/minute;60/hour"),
        "RATELIMIT_UPLOAD": env.get("RATELIMIT_UPLOAD", "200/hour"),
        "RATELIMIT_SEARCH": env.get("RATELIMIT_SEARCH", "300/minute"),
        "RATELIMIT_WRITE": env.get("RATELIMIT_WRITE", "300/minute"),
        # The shared cache of anonymous catalog reads (shopapp/core/cache/): off without a Redis URL.
        "CACHE_URL": env.get("CACHE_URL", ""),
        # The job queue (shopapp/jobs/): RQ on this Redis, run by `flask worker`. Empty: jobs run in the request.
        "QUEUE_URL": env.get("QUEUE_URL", ""),
        "CACHE_TTL": number(env, "CACHE_TTL", "60", "seconds", minimum=1),
        # How long a write waits for the cache to take its bump (a Redis write stall) before it is refused.
        "CACHE_BUMP_TIMEOUT_S": number(env, "CACHE_BUMP_TIMEOUT_S", "3", "seconds", whole=False),
        # Mail (shopapp/mail/, docs/mail.md): the SMTP server (empty: mails are written to the log, right after
        # the commit that queued them); the sender; how long one SMTP conversation may wait; retries back off
        # from MAIL_RETRY_BASE_S, doubling, to at most MAIL_RETRY_MAX_S.
        "MAIL_URL": _checked_mail_url(env.get("MAIL_URL", "")),
        "MAIL_FROM": check_mail_from(env.get("MAIL_FROM", "")),
        "MAIL_TIMEOUT_S": _positive(number(env, "MAIL_TIMEOUT_S", "10", "seconds", whole=False), "MAIL_TIMEOUT_S"),
        "MAIL_RETRY_BASE_S": number(env, "MAIL_RETRY_BASE_S", "30", "seconds", whole=False),
        "MAIL_RETRY_MAX_S": number(env, "MAIL_RETRY_MAX_S", "3600", "seconds", whole=False),
        # Addresses in one sitemap file (shopapp/seo/sitemap.py); past it /sitemap.xml is an index of files.
        "SITEMAP_URLS_PER_FILE": number(env, "SITEMAP_URLS_PER_FILE", "50000", "addresses", minimum=1),
        "CURRENCY": env.get("CURRENCY", "EUR").upper(),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        # Request size limits; uploads have their own, stricter limits below.
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "MAX_UPLOAD_BYTES": number(env, "MAX_UPLOAD_BYTES", str(DEFAULT_UPLOAD_BYTES), "bytes", minimum=1),
        "MAX_IMAGE_PIXELS": number(env, "MAX_IMAGE_PIXELS", str(DEFAULT_IMAGE_PIXELS), "pixels", minimum=1),
        # Memory the image decodes of one process may hold together (shopapp/media/decode_gate.py).
        "IMAGE_DECODE_BUDGET_MB": number(env, "IMAGE_DECODE_BUDGET_MB", "192", "megabytes", minimum=1),
        # A text part may hold this much. Werkzeug applies it to its parse buffer, file parts included
        # (a 64 KiB read chunk plus a boundary's length): at 64 KiB it refused most photographs.
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "MAX_FORM_PARTS": 50,
        # Sessions and cookies.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        # API access tokens.
        "JWT_ACCESS_TOKEN_TTL": timedelta(seconds=number(env, "JWT_ACCESS_TOKEN_TTL", "3600", "seconds", minimum=1)),
        # argon2id, OWASP's minimum: m = 19 MiB, t = 2, p = 1.
        "PASSWORD_HASH_MEMORY_KIB": 19 * 1024,
        "PASSWORD_HASH_TIME_COST": 2,
        "PASSWORD_HASH_PARALLELISM": 1,
        # Reverse proxies in front of the app (X-Forwarded-For hops trusted by ProxyFix).
        "PROXY_FIX_HOPS": number(env, "PROXY_FIX_HOPS", "0", "proxies"),
    }
