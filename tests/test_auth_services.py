import pytest

from shopapp import create_app
from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.auth.passwords import hash_password, needs_rehash
from shopapp.core.errors import AuthenticationFailed, Invalid
from shopapp.extensions import db
from tests.conftest import base_config

pytestmark = pytest.mark.usefixtures("app_ctx")  # the services, called directly


def test_register_stores_an_argon2id_hash_at_configured_strength(app, make_user):
    app.config.update(PASSWORD_HASH_MEMORY_KIB=4096, PASSWORD_HASH_TIME_COST=3)
    user = make_user(email="Mixed.Case@Example.com", password="long enough pw")
    assert user.email == "mixed.case@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert "m=4096,t=3,p=1" in user.password_hash
    assert "long enough pw" not in user.password_hash


def test_the_real_settings_hash_at_owasps_strength(tmp_path):
    """The suite hashes cheaply (tests/conftest.py); an app with the settings every deployment gets does not."""
    real = {key: value for key, value in base_config("sqlite://", tmp_path).items() if not key.startswith("PASSWORD_")}
    app = create_app(real)
    with app.app_context():
        hashed = hash_password("long enough pw")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_same_password_gives_different_hashes(app):
    assert hash_password("same password") != hash_password("same password")


@pytest.mark.parametrize("password", ["short", "x" * 129, "x" * 1_000_000])
def test_password_length_is_checked_before_hashing(app, password, monkeypatch):
    monkeypatch.setattr("shopapp.auth.services.hash_password", lambda p: pytest.fail("hashed"))
    with pytest.raises(Invalid) as err:
        auth.register("p@example.com", password, "P")
    assert err.value.field == "password"


def test_authenticate_by_email_in_any_case(make_user):
    user = make_user(email="c@example.com", password="secret pass 1")
    assert auth.authenticate("C@EXAMPLE.com", "secret pass 1").id == user.id


@pytest.mark.parametrize(("email", "password"), [("nobody@example.com", "whatever1"), ("d@example.com", "wrong pass")])
def test_authenticate_fails_with_one_message(make_user, email, password):
    make_user(email="d@example.com", password="right pass 1")
    with pytest.raises(AuthenticationFailed) as err:
        auth.authenticate(email, password)
    assert err.value.message == auth.BAD_CREDENTIALS


def test_inactive_user_cannot_authenticate(make_user):
    make_user(email="e@example.com", password="right pass 1")
    auth.set_active("E@example.com", active=False)
    db.session.commit()
    with pytest.raises(AuthenticationFailed):
        auth.authenticate("e@example.com", "right pass 1")
    auth.set_active("e@example.com", active=True)
    db.session.commit()
    assert auth.authenticate("e@example.com", "right pass 1").email == "e@example.com"


def test_legacy_hash_is_upgraded_at_login(app, make_user):
    user = db.session.get(User, make_user(email="f@example.com", password="right pass 1").id)
    app.config["PASSWORD_HASH_TIME_COST"] = 1
    user.password_hash = hash_password("right pass 1")  # weaker, "older" parameters
    app.config["PASSWORD_HASH_TIME_COST"] = 2
    db.session.commit()
    assert needs_rehash(user.password_hash)
    auth.authenticate("f@example.com", "right pass 1")
    db.session.commit()
    assert "t=2" in user.password_hash and not needs_rehash(user.password_hash)


def test_change_password_ends_sessions(make_user):
    user = db.session.get(User, make_user(password="old password").id)
    version = user.token_version
    with pytest.raises(Invalid):
        auth.change_password(user, "not the old one", "new password")
    auth.change_password(user, "old password", "new password")
    db.session.commit()
    assert user.token_version == version + 1
    assert auth.authenticate(user.email, "new password").id == user.id
