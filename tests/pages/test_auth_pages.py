"""Register, log in, log out, account: sessions that rotate and end for good."""

import pytest

from shopapp.auth.models import User
from shopapp.extensions import db
from tests.conftest import DEFAULT_PASSWORD
from tests.pages.conftest import csrf_token, post, text


def test_register_page_has_labelled_fields(client):
    body = text(client.get("/register"))
    for label in ("Name", "Email", "Password"):
        assert f">{label}</label>" in body
    assert 'value="Create account"' in body


def test_register_logs_the_new_user_in(client, app):
    response = post(client, "/register", {"name": "Ann", "email": "Ann@Example.com", "password": "long enough pw"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200
    assert "Welcome, Ann!" in text(dashboard)
    with app.app_context():
        assert db.session.scalar(db.select(User.email)) == "ann@example.com"


def test_register_errors_sit_next_to_their_fields_and_keep_the_email(client, make_user):
    make_user(email="taken@example.com")
    response = post(client, "/register", {"name": "Bob", "email": "taken@example.com", "password": "long enough pw"})
    assert response.status_code == 422
    body = text(response)
    assert 'id="email-error"' in body and "An account with this email already exists." in body
    assert 'value="taken@example.com"' in body
    assert 'aria-invalid="true"' in body

    response = post(client, "/register", {"name": "Bob", "email": "bob@example.com", "password": "short"})
    assert response.status_code == 422
    assert 'id="password-error"' in text(response) and "must be 8 to 128 characters" in text(response)


def test_login_failure_is_one_message_and_keeps_the_email(client, make_user):
    make_user(email="ann@example.com")
    wrong = post(client, "/login", {"email": "ann@example.com", "password": "wrong password"})
    unknown = post(client, "/login", {"email": "nobody@example.com", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 422
    assert "Invalid email or password." in text(wrong) and "Invalid email or password." in text(unknown)
    assert 'value="ann@example.com"' in text(wrong)
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "/\tevil", ""]
)
def test_login_never_redirects_off_site(client, make_user, target):
    user = make_user()
    page = text(client.get("/login", query_string={"next": target}))
    assert "<form" in page
    response = post(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


def test_login_follows_a_local_next(client, make_user):
    user = make_user()
    bounced = client.get("/dashboard/shops/new")
    assert bounced.status_code == 302 and "next=" in bounced.headers["Location"]
    login_page = text(client.get(bounced.headers["Location"]))
    assert 'name="next" type="hidden" value="/dashboard/shops/new"' in login_page
    response = post(
        client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD, "next": "/dashboard/shops/new"}
    )
    assert response.headers["Location"] == "/dashboard/shops/new"


def test_login_rotates_the_session_and_csrf_token(client, make_user):
    user = make_user()
    before = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    post(client, "/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
    assert csrf_token(client) != before


def test_logout_is_post_only_and_needs_the_token(client, owner):
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_a_copied_session_cookie_dies_at_logout(app, client, owner, auth):
    cookie = client.get_cookie("session").value
    auth.logout()
    assert client.get("/account").status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_nav_shows_account_links_only_when_signed_in(client, make_user, auth):
    anonymous = text(client.get("/"))
    assert "Log in" in anonymous and "Register" in anonymous and "Dashboard" not in anonymous
    auth.login(make_user())
    signed_in = text(client.get("/"))
    assert "Dashboard" in signed_in and "Account" in signed_in and "Log out" in signed_in
    assert 'action="/logout"' in signed_in


def test_account_page_needs_login(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_profile_name_is_editable(client, owner, fresh):
    assert 'value="Olga Owner"' in text(client.get("/account"))
    response = post(client, "/account/profile", {"name": "  Olga   Smith "}, follow_redirects=True)
    assert "Your profile is saved." in text(response)
    assert fresh(User, owner.id).name == "Olga Smith"
    refused = post(client, "/account/profile", {"name": "   "})
    assert refused.status_code == 422


def test_password_change_ends_other_sessions_only(app, client, owner):
    other_device = app.test_client()
    post(other_device, "/login", {"email": owner.email, "password": DEFAULT_PASSWORD})
    assert other_device.get("/account").status_code == 200

    wrong = post(client, "/account/password", {"current_password": "nope nope", "new_password": "brand new secret"})
    assert wrong.status_code == 422 and "is not your current password" in text(wrong)

    response = post(
        client, "/account/password", {"current_password": DEFAULT_PASSWORD, "new_password": "brand new secret"}
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
