"""Sessions beyond the basics in test_auth_pages.py: the login throttle on the HTML form, remember-me,
production cookie flags, deactivation, and which client address the app believes (ProxyFix)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import request

from tests.api.conftest import Api
from tests.conftest import DEFAULT_PASSWORD
from tests.pages.conftest import post, text

STRONG_SECRET = "a-production-secret-" + "x" * 40


@pytest.fixture
def api(client):  # type: ignore[no-untyped-def]
    """The API through the page tests' client (tests/api/conftest.py's fixture lives in another package)."""
    return Api(client)


def test_eleventh_failed_page_login_is_throttled_whatever_the_ip(client, make_user):
    """The form shares the API's per-account throttle, so it is no side door for guessing passwords."""
    user = make_user(email="me@example.com")
    for attempt in range(10):
        response = post(
            client,
            "/login",
            {"email": user.email, "password": "wrong password"},
            headers={"X-Forwarded-For": f"10.0.0.{attempt}"},
        )
        assert response.status_code == 422
    # Another spelling, another "client" and even the right password: still refused, and not logged in.
    response = post(
        client,
        "/login",
        {"email": " ME@example.com", "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.99"},
    )
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Too many failed sign-in attempts" in text(response)
    assert response.mimetype == "text/html"
    assert client.get("/account").status_code == 302


def test_page_and_api_failures_count_towards_one_throttle(client, api, make_user):
    user = make_user(email="me@example.com")
    for _ in range(5):
        assert api.post("/users/login", json={"email": user.email, "password": "nope"}).status_code == 401
    for _ in range(5):
        assert post(client, "/login", {"email": user.email, "password": "nope"}).status_code == 422
    assert post(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 429
    assert api.post("/users/login", json={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 429


def _cookie(response, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def test_production_cookies_are_secure_httponly_lax_and_remember_me_lasts_30_days_at_most(
    app_config, make_app, make_user
):
    """The real Set-Cookie headers of a production app, not just its configuration."""
    user = make_user()
    app = make_app({**app_config, "APP_ENV": "production", "SECRET_KEY": STRONG_SECRET, "TESTING": False})
    https = app.test_client()
    login_page = https.get("/login", base_url="https://shop.example")
    token = text(login_page).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = https.post(
        "/login",
        base_url="https://shop.example",
        headers={"Referer": "https://shop.example/login"},  # Flask-WTF's HTTPS referrer check
        data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD, "remember": "y"},
    )
    assert response.status_code == 302, text(response)
    for name in ("session", "remember_token"):
        attributes = [part.strip().lower() for part in _cookie(response, name).split(";")]
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(attributes), attributes
    expires = next(p for p in _cookie(response, "remember_token").split("; ") if p.startswith("Expires="))
    lasts = parsedate_to_datetime(expires.removeprefix("Expires=")) - datetime.now(UTC)
    assert timedelta(days=29) < lasts <= timedelta(days=30)


def test_remember_me_is_optional_and_dies_with_logout(app, client, make_user, auth):
    user = make_user()
    post(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert client.get_cookie("remember_token") is None  # not asked for, not given

    laptop = app.test_client()
    post(laptop, "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "remember": "y"})
    remembered = laptop.get_cookie("remember_token").value
    laptop.delete_cookie("session")  # the browser was closed
    assert laptop.get("/account").status_code == 200  # the remember cookie logs back in

    auth.logout()  # from the other device: logout ends every session, remembered ones too
    thief = app.test_client()
    thief.set_cookie("remember_token", remembered)
    assert thief.get("/account").status_code == 302


def test_logout_deletes_the_remember_cookie(client, make_user):
    user = make_user()
    post(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None
    post(client, "/logout")
    assert client.get_cookie("remember_token") is None


def test_deactivation_ends_every_session_and_token(app, client, owner, api, runner):
    token = api.auth(owner)
    assert client.get("/account").status_code == 200
    assert api.get("/users/me", headers=token).status_code == 200

    done = runner.invoke(args=["deactivate-user", owner.email])
    assert done.exit_code == 0 and f"Deactivated user {owner.id} <{owner.email}>." in done.output

    assert client.get("/account").status_code == 302
    assert api.get("/users/me", headers=token).status_code == 401
    back = runner.invoke(args=["deactivate-user", owner.email, "--reactivate"])
    assert back.exit_code == 0 and "Reactivated" in back.output
    assert api.get("/users/me", headers=api.auth(owner)).json["email"] == owner.email  # type: ignore[index]
    unknown = runner.invoke(args=["deactivate-user", "nobody@example.com"])
    assert unknown.exit_code != 0 and "No account has this email." in unknown.output


@pytest.mark.parametrize(
    ("hops", "seen"),
    [(0, "127.0.0.1"), (1, "203.0.113.7")],
    ids=["no proxy: the header is ignored", "one proxy: its address for the client"],
)
def test_x_forwarded_for_is_trusted_only_per_proxy_hops(app_config, make_app, hops, seen):
    """Only the address the last trusted proxy saw counts; anything the client wrote before it is ignored."""
    app = make_app({**app_config, "PROXY_FIX_HOPS": hops})
    addresses: list[str | None] = []
    app.before_request(lambda: addresses.append(request.remote_addr))
    app.test_client().get("/healthz", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    assert addresses == [seen]
