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
        response = app.process_response(render("errors/error.html", "_flashes.html", title="T", message="M", code=200))
        body = response.get_data(as_text=True)
        assert ("<html" in body) is not fragment
        assert "HX-Request" in response.headers["Vary"]


def test_every_answer_that_chooses_page_or_fragment_says_it_varies(client, make_user, make_product, auth):
    """Not only ``render``'s: the row, the quick edit, the login redirect and error fragments choose too."""
    product = make_product()
    quick, row = f"/dashboard/products/{product.id}/quick", f"/dashboard/products/{product.id}/row"
    anonymous = {url: client.get(url, headers={"HX-Request": "true"}) for url in (quick, "/dashboard/no-such-page")}
    assert anonymous[quick].status_code == 401 and "HX-Redirect" in anonymous[quick].headers
    auth.login(product.shop.owner)
    answers = {
        **{f"anonymous {url}": response for url, response in anonymous.items()},
        "row as page": client.get(row),
        "row as fragment": client.get(row, headers={"HX-Request": "true"}),
        "quick edit as page": client.get(quick),
        "quick edit as fragment": client.get(quick, headers={"HX-Request": "true"}),
        "missing row as fragment": client.get("/dashboard/products/999999/row", headers={"HX-Request": "true"}),
    }
    assert answers["row as page"].status_code == 302 and answers["row as fragment"].status_code == 200
    assert answers["missing row as fragment"].status_code == 404
    missing = [name for name, response in answers.items() if "HX-Request" not in response.headers.get("Vary", "")]
    assert not missing, missing
