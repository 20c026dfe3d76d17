"""Every way a bearer token can be wrong is a 401 with WWW-Authenticate: Bearer, never a 500."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import jwt
import pytest

from shopapp.auth import services as auth
from shopapp.auth import tokens
from shopapp.auth.models import User
from shopapp.core.db import utcnow
from shopapp.extensions import db
from tests.api.conftest import assert_problem
from tests.conftest import DEFAULT_PASSWORD


def _claims(user, **changes):
    now = utcnow()
    claims = {"sub": str(user.id), "iat": now, "exp": now + timedelta(hours=1), "tv": user.token_version}
    claims["aud"] = tokens.AUDIENCE
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims, key=None, algorithm="HS256"):
    return jwt.encode(claims, key or tokens._signing_key(), algorithm=algorithm)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _me(api, authorization: str):
    return api.get("/users/me", headers={"Authorization": authorization})


def test_a_fresh_token_works(api, owner):
    assert _me(api, f"Bearer {api.token(owner)}").status_code == 200


def test_scheme_is_case_insensitive(api, owner):
    assert _me(api, f"bearer {api.token(owner)}").status_code == 200


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, exp=utcnow() - timedelta(seconds=1)))}", id="expired"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u))[:-3]}abc", id="tampered-signature"),
        pytest.param(
            lambda u: (
                "Bearer "
                + ".".join(
                    [
                        _sign(_claims(u)).split(".")[0],
                        _b64(_claims(u, sub="1", tv=99, iat=1, exp=9999999999)),
                        _sign(_claims(u)).split(".")[2],
                    ]
                )
            ),
            id="tampered-payload",
        ),
        pytest.param(
            lambda u: f"Bearer {_sign(_claims(u), key=b'another-key-of-at-least-32-bytes!!')}", id="other-key"
        ),
        pytest.param(
            lambda u: f"Bearer {_sign(_claims(u), key=b'dev-only-secret-key-do-not-use-in-production!')}",
            id="raw-secret-key",
        ),
        pytest.param(
            lambda u: f"Bearer {_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(u, iat=1, exp=9999999999))}.",
            id="alg-none",
        ),
        pytest.param(
            lambda u: f"Bearer {_sign(_claims(u), algorithm='HS512')}",
            id="other-algorithm",
            marks=pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
        ),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, exp=None))}", id="no-exp"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, iat=None))}", id="no-iat"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, sub=None))}", id="no-sub"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, tv=None))}", id="no-token-version"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, aud='someone-else'))}", id="other-audience"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, sub='999999'))}", id="unknown-user"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, sub='-1'))}", id="odd-subject"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, tv='1'))}", id="string-version"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u, tv=u.token_version + 1))}", id="future-version"),
        pytest.param(lambda u: f"Basic {base64.b64encode(b'owner@example.com:pw').decode()}", id="basic-scheme"),
        pytest.param(lambda u: f"Token {_sign(_claims(u))}", id="token-scheme"),
        pytest.param(lambda u: f"Bearer{_sign(_claims(u))}", id="no-space"),
        pytest.param(lambda u: "Bearer ", id="empty"),
        pytest.param(lambda u: f"Bearer {_sign(_claims(u))} extra", id="two-tokens"),
        pytest.param(lambda u: "Bearer not.a.jwt", id="garbage"),
        pytest.param(lambda u: "Bearer " + "A" * 5000, id="huge"),
    ],
)
def test_bad_tokens_are_401(app, api, owner, make_header):
    with app.app_context():  # the signing key is the app's
        header = make_header(owner)
    assert_problem(_me(api, header), 401)


def test_token_in_query_string_is_refused(api, owner):
    token = api.token(owner)
    assert_problem(api.get(f"/users/me?access_token={token}"), 401)
    # even together with a good header: a token in a URL ends up in logs and must not be encouraged
    assert_problem(api.get(f"/users/me?access_token={token}", as_=owner), 401)


def test_expired_by_moving_the_clock(api, owner, monkeypatch):
    header = {"Authorization": f"Bearer {api.token(owner)}"}
    real_decode = jwt.decode
    monkeypatch.setattr(tokens.jwt, "decode", lambda *a, **kw: real_decode(*a, **{**kw, "leeway": -3601}))
    assert_problem(api.get("/users/me", headers=header), 401)


def test_password_change_revokes_tokens(app, api, owner):
    header = api.auth(owner)
    with app.app_context():
        auth.change_password(db.session.get(User, owner.id), DEFAULT_PASSWORD, "a brand new password")
        db.session.commit()
    assert_problem(api.get("/users/me", headers=header), 401)


def test_deactivation_revokes_tokens_even_at_the_same_version(app, api, owner):
    header = api.auth(owner)
    with app.app_context():
        db.session.get(User, owner.id).is_active = False
        db.session.commit()
    assert_problem(api.get("/users/me", headers=header), 401)


def test_a_session_cookie_alone_is_not_enough(api, client, owner, app):
    with client.session_transaction() as session:
        session["_user_id"] = owner.get_id()
        session["_fresh"] = True
    assert_problem(api.get("/users/me"), 401)
    assert_problem(api.post("/shops", json={"name": "Sneaky"}), 401)


def test_public_reads_refuse_a_bad_token_rather_than_ignore_it(api, make_shop):
    shop = make_shop()
    assert_problem(api.get(f"/shops/{shop.id}", headers={"Authorization": "Bearer nope"}), 401)
    assert api.get(f"/shops/{shop.id}").status_code == 200


def test_a_present_but_invalid_token_is_401_on_every_operation_public_ones_too(api, owner, make_product):
    """One rule: a token that is sent is checked, whether the operation needs one, takes one or not (issue 12/15)."""
    from shopapp.api.operations import OPERATIONS

    make_product()
    public = [op for op in OPERATIONS if op.auth != "required"]
    assert any(op.auth == "none" for op in public) and any(op.auth == "optional" for op in public)
    revoked = api.token(owner)
    api.post("/users/logout", headers={"Authorization": f"Bearer {revoked}"})
    for op in public:
        path = re.sub(r"<[^>]+>", "1", op.rule)
        for header in ("Bearer not.a.jwt", f"Bearer {revoked}", "Bearer "):
            for method in op.methods:
                response = api.call(method, path, headers={"Authorization": header}, json={})
                assert response.status_code == 401, (method, path, header, response.status_code)
                assert_problem(response, 401)
        response = api.call(op.methods[0], path + "?access_token=x", json={})
        assert response.status_code == 401, (path, response.status_code)
