"""Log in, and reset a forgotten password by email only where the hub can send mail."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from tests.conftest import make_staff

RESET = "/accounts/password_reset/"


@pytest.fixture
def dana(db) -> User:
    return make_staff("dana")  # dana@example.com


@pytest.fixture
def with_mail(settings) -> None:
    # pytest-django delivers every mail to mail.outbox whatever EMAIL_BACKEND says.
    settings.EMAIL_URL = "smtp+tls://hub:pw@smtp.example.com:587"


def test_without_mail_there_is_no_reset_and_the_login_page_says_who_can_help(
    client: Client, dana: User, settings
) -> None:
    settings.EMAIL_URL = ""
    login = client.get("/accounts/login/").content.decode()

    assert "An administrator can set a new one" in login
    assert RESET not in login
    for path in (
        RESET,
        f"{RESET}done/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/reset/done/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(RESET, {"email": dana.email}).status_code == 404
    assert mail.outbox == []


@pytest.mark.usefixtures("with_mail")
def test_a_forgotten_password_is_reset_through_the_link_mailed(client: Client, dana: User) -> None:
    assert RESET in client.get("/accounts/login/").content.decode()

    response = client.post(RESET, {"email": "DANA@example.com"}, follow=True)

    assert "Check your email" in response.content.decode()
    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]
    assert message.subject == "Reset your ReferralHub password"
    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_password = form.redirect_chain[-1][0]

    done = client.post(
        set_password,
        {"new_password1": "a new passphrase 42", "new_password2": "a new passphrase 42"},
        follow=True,
    )

    assert "Password set" in done.content.decode()
    assert Client().login(username="dana", password="a new passphrase 42")
    again = client.get(link, follow=True).content.decode()
    assert "expired or was used already" in again


@pytest.mark.usefixtures("with_mail")
def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: Client, dana: User) -> None:
    response = client.post(RESET, {"email": "nobody@example.com"}, follow=True)

    assert response.redirect_chain == [(f"{RESET}done/", 302)]
    assert mail.outbox == []


@pytest.mark.usefixtures("with_mail")
def test_it_says_what_is_wrong_with_a_bad_address_or_password(client: Client, dana: User) -> None:
    assert "Enter a valid email address." in client.post(RESET, {"email": "dana"}).content.decode()
    client.post(RESET, {"email": dana.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    set_password = client.get(link, follow=True).redirect_chain[-1][0]

    response = client.post(set_password, {"new_password1": "abc", "new_password2": "abd"})

    assert "The two password fields" in response.content.decode()
    assert Client().login(username="dana", password="pw")


def test_password_change_is_the_admin_s_not_a_second_unstyled_page(client: Client) -> None:
    assert client.get("/accounts/password_change/").status_code == 404
