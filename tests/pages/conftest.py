"""Helpers for page tests: CSRF tokens read from the HTML, and logging in through the real form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import DEFAULT_PASSWORD

_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
HTMX = {"HX-Request": "true"}


def csrf_token(client: FlaskClient, url: str = "/") -> str:
    """The session's CSRF token, as the page at ``url`` gives it to htmx (and to every form)."""
    match = _TOKEN.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, *, token: str | None = None, **kwargs: Any
) -> TestResponse:
    """POST like a browser would: with the token the site handed out (read from a page, unless ``token`` is given:
    reading it shows, and so takes, the messages waiting in the session)."""
    return client.post(url, data={"csrf_token": token or csrf_token(client), **(data or {})}, **kwargs)


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


class Auth:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: Any, password: str = DEFAULT_PASSWORD) -> TestResponse:
        response = post(self.client, "/login", {"email": user.email, "password": password})
        assert response.status_code == 302, text(response)
        return response

    def logout(self) -> TestResponse:
        return post(self.client, "/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def owner(make_user, auth):  # type: ignore[no-untyped-def]
    """A signed-in shop owner (the ``client`` is theirs)."""
    user = make_user(email="owner@example.com", name="Olga Owner")
    auth.login(user)
    return user
