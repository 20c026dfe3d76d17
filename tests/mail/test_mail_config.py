"""MAIL_URL and MAIL_FROM: the forms ShopApp takes, and a one-line error (that never quotes a password) for
anything else, at start-up like the other settings."""

from __future__ import annotations

import pytest

from shopapp import create_app
from shopapp.config import DEFAULT_MAIL_FROM, ConfigError, MailServer, load_config, parse_mail_url
from shopapp.mail.delivery import settings
from shopapp.mail.transports import LogTransport, SmtpTransport


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://127.0.0.1:1025", MailServer("127.0.0.1", 1025, False, False, None, None)),
        ("smtp://mail.example.com", MailServer("mail.example.com", 25, False, False, None, None)),
        ("smtp://mail.example.com:587?starttls=1", MailServer("mail.example.com", 587, False, True, None, None)),
        (
            "SMTPS://u%40x.com:p%3As%2Fw%20d@mail.example.com",
            MailServer("mail.example.com", 465, True, False, "u@x.com", "p:s/w d"),
        ),
        ("smtp://user@[::1]:2525", MailServer("::1", 2525, False, False, "user", None)),
        (" ", None),
    ],
)
def test_the_forms_of_mail_url(url, server):
    assert parse_mail_url(url) == server


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://u:secret@mail.example.com", "must be an smtp:// or smtps:// URL"),
        ("mail.example.com:25", "got a URL without a scheme"),
        ("smtp://u:secret@mail.example.com:99999", "port that is not a number"),
        ("smtp://u:secret@mail.example.com:abc", "port that is not a number"),
        ("smtp://u:secret@:25", "names no valid mail server host"),
        ("smtp://mail example.com", "names no valid mail server host"),
        ("smtp://mail.example.com/path", "must not have a path"),
        ("smtp://mail.example.com?tls=yes", "takes one option, starttls=1"),
        ("smtp://mail.example.com?starttls=maybe", "takes one option, starttls=1"),
        ("smtps://mail.example.com?starttls=1", "starttls=1 is for smtp://"),
        ("smtp://:secret@mail.example.com", "a password but no user name"),
    ],
)
def test_a_bad_mail_url_is_refused_in_one_line_without_its_password(tmp_path, url, complaint):
    with pytest.raises(ConfigError) as error:
        load_config({"MAIL_URL": url}, tmp_path)
    message = str(error.value)
    assert message.startswith("MAIL_URL") and complaint in message
    assert "\n" not in message and "secret" not in message


def test_mail_from_defaults_and_is_checked(tmp_path):
    assert load_config({}, tmp_path)["MAIL_FROM"] == DEFAULT_MAIL_FROM == "ShopApp <no-reply@localhost>"
    assert load_config({"MAIL_FROM": '"Shop, Inc." <sales@example.com>'}, tmp_path)["MAIL_FROM"]
    for bad in ("nobody", "a@example.com, b@example.com", "Shop <a@example.com>\r\nBcc: b@example.com", "Team: a@b.c;"):
        with pytest.raises(ConfigError, match=r"^MAIL_FROM must be one mail address") as error:
            load_config({"MAIL_FROM": bad}, tmp_path)
        assert "\n" not in str(error.value) and "\r" not in str(error.value)


@pytest.mark.parametrize("name", ["MAIL_TIMEOUT_S", "MAIL_RETRY_BASE_S", "MAIL_RETRY_MAX_S"])
def test_mail_timings_are_numbers(tmp_path, name):
    with pytest.raises(ConfigError, match=f"^{name} must be a number of seconds"):
        load_config({name: "soon"}, tmp_path)
    with pytest.raises(ConfigError, match=r"^MAIL_TIMEOUT_S must be more than 0 seconds"):
        load_config({"MAIL_TIMEOUT_S": "0"}, tmp_path)
    assert load_config({"MAIL_TIMEOUT_S": "0.5"}, tmp_path)["MAIL_TIMEOUT_S"] == 0.5


def test_the_transport_follows_mail_url(make_app, database_url, tmp_path):
    from tests.conftest import base_config

    embedded = make_app(base_config(database_url, tmp_path))
    smtp = make_app(base_config(database_url, tmp_path, MAIL_URL="smtps://u:p@mail.example.com"))
    assert isinstance(settings(embedded).transport(), LogTransport)
    transport = settings(smtp).transport()
    assert isinstance(transport, SmtpTransport) and transport.where == "smtps://mail.example.com:465"
    # An override given to create_app is checked like the environment.
    with pytest.raises(ConfigError, match="MAIL_URL"):
        create_app(base_config(database_url, tmp_path, MAIL_URL="smtp://"))
