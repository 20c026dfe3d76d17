"""The one helper that decides page or fragment."""

import pytest

from shopapp.core.htmx import render, wants_fragment


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    ],
)
def test_fragment_only_for_plain_htmx_requests(app, headers, fragment):
    with app.test_request_context("/", headers=headers):
        assert wants_fragment() is fragment
        response = render("errors/error.html", "_flashes.html", title="T", message="M", code=200)
        body = response.get_data(as_text=True)
        assert ("<html" in body) is not fragment
        assert "HX-Request" in response.headers["Vary"]
