from datetime import timedelta

import pytest

from shopapp import create_app
from shopapp.config import DEV_SECRET_KEY, ConfigError, load_config, normalize_database_url


def test_development_uses_defaults_under_instance(tmp_path):
    cfg = load_config({}, tmp_path)
    assert cfg["APP_ENV"] == "development"
    assert cfg["SECRET_KEY"] == DEV_SECRET_KEY
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{(tmp_path / 'shopapp.db').resolve()}"
    assert cfg["MEDIA_ROOT"] == str((tmp_path / "media").resolve())
    assert cfg["RATELIMIT_STORAGE_URI"] == "memory://"
    assert cfg["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("secret", [None, "", "short-secret", DEV_SECRET_KEY, "x" * 31])
def test_production_refuses_a_missing_or_weak_secret(tmp_path, secret):
    env = {"APP_ENV": "production"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env, tmp_path)


def test_production_app_refuses_to_start_without_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        create_app()


def test_production_with_strong_secret_has_secure_cookies(tmp_path):
    cfg = load_config(
        {"APP_ENV": "production", "SECRET_KEY": "s" * 48, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}, tmp_path
    )
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["SESSION_COOKIE_HTTPONLY"]
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["REMEMBER_COOKIE_SECURE"]
    assert cfg["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    assert cfg["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_unknown_app_env_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config({"APP_ENV": "staging"}, tmp_path)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg3(given, expected):
    assert normalize_database_url(given) == expected


def test_environment_variables_are_read(tmp_path):
    cfg = load_config(
        {"DATABASE_URL": "postgresql://p@127.0.0.1/x", "MEDIA_ROOT": "/srv/media", "APP_ENV": "testing"}, tmp_path
    )
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://p@127.0.0.1/x"
    assert cfg["MEDIA_ROOT"] == "/srv/media"
    assert cfg["TESTING"] is True


@pytest.mark.parametrize("storage", [None, "", "  "])
def test_production_refuses_an_unset_rate_limit_store(tmp_path, storage):
    """Per-process memory counts would give each worker its own login throttle (issue 12 item 16)."""
    env = {"APP_ENV": "production", "SECRET_KEY": "s" * 48}
    if storage is not None:
        env["RATELIMIT_STORAGE_URI"] = storage
    with pytest.raises(ConfigError, match=r"^RATELIMIT_STORAGE_URI is not set\. .*redis://") as refused:
        load_config(env, tmp_path)
    assert "\n" not in str(refused.value)


def test_production_app_refuses_to_start_without_a_rate_limit_store(monkeypatch):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI is not set"):
        create_app()


def test_development_and_testing_default_to_memory_counts(tmp_path):
    for app_env in ("development", "testing"):
        assert load_config({"APP_ENV": app_env}, tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"


def test_a_redis_store_answers_within_a_second_or_counts_as_away(tmp_path):
    cfg = load_config({"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}, tmp_path)
    assert cfg["RATELIMIT_STORAGE_OPTIONS"] == {"socket_connect_timeout": 1, "socket_timeout": 1}
    assert load_config({}, tmp_path)["RATELIMIT_STORAGE_OPTIONS"] == {}


@pytest.mark.parametrize("value", ["sixty", "1_000", "٦٠", "-5", "", "0", "6e1", "60s"])
def test_a_whole_number_setting_names_the_variable_and_what_it_must_be(tmp_path, value):
    """int() took '1_000' and Arabic-Indic digits; anything else was a ValueError traceback (issue 13)."""
    expected = r"^CACHE_TTL must be a whole number of seconds \(at least 1\), e\.g\. CACHE_TTL=60; got '.*'\.$"
    with pytest.raises(ConfigError, match=expected):
        load_config({"CACHE_TTL": value}, tmp_path)


@pytest.mark.parametrize("value", ["inf", "nan", "1e3", "-0.5", "0,5", "five"])
def test_a_decimal_setting_takes_plain_decimals_only(tmp_path, value):
    expected = r"^LOGIN_THROTTLE_RETRY_SECONDS must be a number of seconds, e\.g\. LOGIN_THROTTLE_RETRY_SECONDS=5;"
    with pytest.raises(ConfigError, match=expected):
        load_config({"LOGIN_THROTTLE_RETRY_SECONDS": value}, tmp_path)


def test_number_settings_are_read(tmp_path):
    cfg = load_config(
        {"CACHE_TTL": " 30 ", "DATABASE_TIMEOUT_S": "0.5", "PROXY_FIX_HOPS": "2", "JWT_ACCESS_TOKEN_TTL": "60"},
        tmp_path,
    )
    assert (cfg["CACHE_TTL"], cfg["DATABASE_TIMEOUT_S"], cfg["PROXY_FIX_HOPS"]) == (30, 0.5, 2)
    assert cfg["JWT_ACCESS_TOKEN_TTL"] == timedelta(seconds=60)
    assert load_config({}, tmp_path)["DATABASE_STATEMENT_TIMEOUT_MS"] == 3000


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("mysql://shop:s3cret@127.0.0.1/shop", "a mysql:// URL"),
        ("mariadb+pymysql://shop:s3cret@db/shop", "a mariadb+pymysql:// URL"),
        ("shop:s3cret@db/shop", "a URL without a scheme"),
    ],
)
def test_a_database_shopapp_does_not_run_on_is_refused_by_name(tmp_path, url, named):
    with pytest.raises(ConfigError) as refused:
        load_config({"DATABASE_URL": url}, tmp_path)
    assert str(refused.value) == (
        "DATABASE_URL must be a sqlite:/// or postgresql:// URL (ShopApp runs on SQLite and PostgreSQL only); "
        f"got {named}."
    )
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    "url", ["sqlite:///x.db", "sqlite+pysqlite:///x.db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"]
)
def test_sqlite_and_postgresql_urls_are_taken(tmp_path, url):
    assert load_config({"DATABASE_URL": url}, tmp_path)["SQLALCHEMY_DATABASE_URI"] == normalize_database_url(url)
