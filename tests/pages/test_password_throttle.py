"""Wrong current passwords on the password change count like wrong logins (issue 12 item 8).

25 wrong current passwords on /account/password were all 422: a stolen session could guess the password
at full speed. They now count towards the account's login throttle: ten, then 429 with Retry-After.
(The API has no password change.)
"""

from __future__ import annotations

from tests.conftest import DEFAULT_PASSWORD
from tests.pages.conftest import post, text


def _change(client, current: str):  # type: ignore[no-untyped-def]
    return post(client, "/account/password", {"current_password": current, "new_password": "a brand new password"})


def test_ten_wrong_current_passwords_then_429_with_retry_after(client, owner):
    codes = [_change(client, f"wrong password {n}").status_code for n in range(10)]
    assert codes == [422] * 10
    refused = _change(client, DEFAULT_PASSWORD)  # even the right one, while blocked
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.mimetype == "text/html"
    assert "Too many wrong current passwords for this account" in text(refused)
    # The password is unchanged and the session still works.
    assert client.get("/account").status_code == 200


def test_password_change_and_login_share_one_count(client, owner, app):
    for _ in range(5):
        assert _change(client, "wrong password").status_code == 422
    other = app.test_client()
    for _ in range(5):
        response = other.post("/api/v1/users/login", json={"email": owner.email, "password": "nope"})
        assert response.status_code == 401
    right = {"email": owner.email, "password": DEFAULT_PASSWORD}
    assert other.post("/api/v1/users/login", json=right).status_code == 429
    assert _change(client, DEFAULT_PASSWORD).status_code == 429


def test_a_right_current_password_does_not_count(client, owner):
    for n in range(12):
        new, current = f"new password {n}", DEFAULT_PASSWORD if n == 0 else f"new password {n - 1}"
        response = post(client, "/account/password", {"current_password": current, "new_password": new})
        assert response.status_code == 302, text(response)
