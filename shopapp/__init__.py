"""ShopApp: a marketplace catalog. ``create_app`` builds one configured app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from shopapp.config import load_config
from shopapp.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
_CHECKED_OVERRIDES = ("APP_ENV", "SECRET_KEY", "RATELIMIT_STORAGE_URI")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding it (tests pass their own)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # The overrides that decide whether the environment is acceptable are checked like the environment.
    environ = {**os.environ, **{k: str(v) for k, v in (config or {}).items() if k in _CHECKED_OVERRIDES}}
    app.config.from_mapping(load_config(environ, app.instance_path))
    if config:
        app.config.from_mapping(config)
    _engine_options(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _engine_options(app: Flask) -> None:
    """Fail fast when the database is away, so /readyz answers quickly and pages recover on their own.

    PostgreSQL's JIT compiler is off: it pays off on long analytic queries, while the catalog's are
    short, and compiling cost more than running them once an estimate crossed its threshold.
    Plans are always made for the actual parameters: psycopg prepares a statement run five times, and
    PostgreSQL's generic plan for a prepared search cannot know how common the searched word is (it ranked
    every match of a common word).
    The waits on the database are bounded (``shopapp/core/db_timeouts.py``): connecting and taking a
    connection from the pool within ``DATABASE_TIMEOUT_S``, a statement within ``DATABASE_STATEMENT_TIMEOUT_MS``.
    """
    from shopapp.core.db_timeouts import connect_args

    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        settings = "-c jit=off -c plan_cache_mode=force_custom_plan"
        args = connect_args(app.config)
        args["options"] = f"{settings} {args['options']}"
        options.setdefault("connect_args", args)
        options.setdefault("pool_timeout", float(app.config["DATABASE_TIMEOUT_S"]))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _bound_engines(app: Flask) -> None:
    from shopapp.core.db_timeouts import bound_engine

    with app.app_context():
        for engine in db.engines.values():
            bound_engine(engine, app.config)


def register_extensions(app: Flask) -> None:
    from shopapp.core.cache import init_cache
    from shopapp.core.client_limits import init_client_limits
    from shopapp.core.htmx import init_htmx
    from shopapp.core.logging import configure_logging
    from shopapp.core.messages import init_messages
    from shopapp.core.security import register_security_headers
    from shopapp.core.uploads import init_uploads
    from shopapp.mail import init_mail

    configure_logging(app)
    register_security_headers(app)
    db.init_app(app)
    _bound_engines(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    init_uploads(app)  # before CSRFProtect, whose before_request parses the body
    csrf.init_app(app)
    limiter.init_app(app)
    init_client_limits(app)
    init_cache(app)
    init_htmx(app)
    init_messages(app)

    from shopapp.auth import sessions  # noqa: F401  registers the user loader
    from shopapp.orders import models as _orders  # noqa: F401  carts and orders
    from shopapp.products import import_models as _imports  # noqa: F401  CSV imports

    init_mail(app)


def register_blueprints(app: Flask) -> None:
    from shopapp.api import register_api
    from shopapp.auth.views import bp as auth_bp
    from shopapp.catalog.views import bp as catalog_bp
    from shopapp.categories.manage import bp as categories_manage_bp
    from shopapp.core.health import bp as health_bp
    from shopapp.core.routing import ids_in_range
    from shopapp.core.templating import register_template_helpers
    from shopapp.media.manage import bp as media_manage_bp
    from shopapp.media.views import bp as media_bp
    from shopapp.orders.manage import bp as orders_manage_bp
    from shopapp.orders.views import bp as orders_bp
    from shopapp.products.import_manage import bp as product_imports_bp
    from shopapp.products.manage import bp as products_manage_bp
    from shopapp.seo.views import bp as seo_bp
    from shopapp.shops.manage import bp as shops_manage_bp

    register_template_helpers(app)
    app.url_value_preprocessor(ids_in_range)
    for blueprint in (
        health_bp,
        media_bp,
        catalog_bp,
        auth_bp,
        shops_manage_bp,
        products_manage_bp,
        product_imports_bp,
        categories_manage_bp,
        media_manage_bp,
        orders_bp,
        orders_manage_bp,
        seo_bp,
    ):
        app.register_blueprint(blueprint)
    register_api(app)


def register_error_handlers(app: Flask) -> None:
    from shopapp.core.error_pages import register_error_pages

    register_error_pages(app)


def register_cli(app: Flask) -> None:
    from shopapp.cli import register_commands

    register_commands(app)
