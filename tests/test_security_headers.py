import re

import pytest


@pytest.mark.parametrize("path", ["/", "/no/such/page"])
def test_pages_carry_a_strict_csp_with_a_fresh_nonce(client, path):
    first, second = client.get(path), client.get(path)
    policy = first.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert len(nonce) >= 16
    assert nonce != re.search(r"'nonce-([^']+)'", second.headers["Content-Security-Policy"]).group(1)
    for response in (first, second):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client, make_product):
    """Scripts come from this server; the only inline ones are JSON-LD data blocks, which carry the nonce."""
    mug = make_product(name="Mug")
    for path in ("/", f"/products/{mug.id}-mug"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]
        for script in re.findall(r"<script\b[^>]*>", page):
            data_block = script == f'<script type="application/ld+json" nonce="{nonce}">'
            assert "src=" in script or data_block, script
        assert "<style" not in page
        assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"
        assert not re.search(r'\sstyle\s*=\s*"', page), "inline style attribute"


def test_json_responses_get_a_locked_down_policy(client):
    response = client.get("/healthz")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_in_production(make_app, app_config):
    prod = make_app({**app_config, "APP_ENV": "production", "SECRET_KEY": "k" * 40})
    assert "max-age=31536000" in prod.test_client().get("/healthz").headers["Strict-Transport-Security"]
    dev = make_app(app_config)
    assert "Strict-Transport-Security" not in dev.test_client().get("/healthz").headers
