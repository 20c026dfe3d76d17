"""A long URL under gunicorn with the README's flags: the app's 414 (problem+json under /api/v1), not gunicorn's."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from shopapp.api.fields import QUERY_TEXT_MAX
from shopapp.core.routing import MAX_URL_LENGTH
from tests.ops.serve import gunicorn, production_env

pytestmark = pytest.mark.postgres_only
README_FLAGS = ("--workers", "1", "--limit-request-line", "8190")


def test_a_url_over_the_apps_limit_is_its_own_414_under_gunicorn(database_url: str, tmp_path: Path, app):
    assert "--limit-request-line 8190" in (Path(__file__).parents[2] / "README.md").read_text()
    with gunicorn(production_env(database_url, tmp_path / "media"), *README_FLAGS) as [(url, _)]:
        for length in (MAX_URL_LENGTH + 1, 6000, 8000):
            response = requests.get(f"{url}/api/v1/products?q=" + "a" * length, timeout=10)
            assert response.status_code == 414, (length, response.text[:200])
            assert response.headers["Content-Type"] == "application/problem+json"
            assert response.json()["status"] == 414
            page = requests.get(f"{url}/?q=" + "a" * length, timeout=10)
            assert page.status_code == 414 and "text/html" in page.headers["Content-Type"]
        # Long, within the app's limit, and q at its longest (QUERY_TEXT_MAX): 2 400 characters, all served.
        emoji = "%F0%9F%98%80" * QUERY_TEXT_MAX
        assert requests.get(f"{url}/api/v1/products?q={emoji}", timeout=10).status_code == 200
