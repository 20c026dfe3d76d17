"""Helpers for API tests: a client that speaks JSON and carries a user's bearer token."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shopapp.auth.models import User
from shopapp.auth.tokens import issue_access_token
from shopapp.extensions import db

PREFIX = "/api/v1"


class Api:
    """``api.post("/shops", as_=user, json={...})``: the path is relative to /api/v1."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, user: User) -> str:
        """A token for ``user`` as the database has them now (a logout since bumped their token version)."""
        with self.client.application.app_context():
            return issue_access_token(db.session.get(User, user.id)).access_token

    def auth(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    def call(
        self, method: str, path: str, *, as_: User | None = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> TestResponse:
        all_headers = {**(self.auth(as_) if as_ is not None else {}), **(headers or {})}
        return self.client.open(PREFIX + path, method=method, headers=all_headers, **kw)

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> TestResponse:
        return self.call("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> TestResponse:
        return self.call("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> TestResponse:
        return self.call("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> TestResponse:
        return self.call("DELETE", path, **kw)


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


def assert_problem(response: TestResponse, status: int, *fields: str) -> dict[str, Any]:
    """An RFC 9457 body with this status; for 422, naming exactly ``fields`` (in any order)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status == 422:
        assert sorted(e["field"] for e in body["errors"]) == sorted(fields), body
        assert all(e["message"] for e in body["errors"])
    return body


@pytest.fixture
def owner(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user(email="owner@example.com")


@pytest.fixture
def other(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user(email="other@example.com")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many cases schemathesis sent, when its tests ran (tests/api/test_openapi.py)."""
    fuzz = sys.modules.get("tests.api.test_openapi")
    for line in fuzz.cases_summary() if fuzz is not None else []:
        terminalreporter.write_line(line)
