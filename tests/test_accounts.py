"""Log in, and reset a forgotten password by email only where the hub can send mail."""

from __future__ import annotations

import contextlib
import io
import ipaddress
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from referralhub import accounts
from tests.conftest import make_staff

RESET = "/accounts/password_reset/"
LOGIN = "/accounts/login/"


def logs_in(
    username: str, password: str, path: str = LOGIN, address: str = "127.0.0.1", **meta: str
) -> bool:
    """Through the login form, as a person does (django-axes needs the request)."""
    environ: dict[str, Any] = {"REMOTE_ADDR": address, **meta}
    client = Client(**environ)
    client.post(path, {"username": username, "password": password})
    return "_auth_user_id" in client.session


def reset_link(message: mail.EmailMessage) -> str:
    """The path of the reset link in `message`."""
    found = re.search(r"http://testserver(/accounts/reset/\S+)", str(message.body))
    assert found is not None
    return found.group(1)


def username_wait(username: str) -> timedelta:
    """The wait before `username` may try again, where there must be one."""
    wait = accounts.username_wait(username)
    assert wait is not None
    return wait


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
    link = reset_link(message)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_password = form.redirect_chain[-1][0]

    done = client.post(
        set_password,
        {"new_password1": "a new passphrase 42", "new_password2": "a new passphrase 42"},
        follow=True,
    )

    assert "Password set" in done.content.decode()
    assert logs_in("dana", "a new passphrase 42")
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
    link = reset_link(mail.outbox[0])
    set_password = client.get(link, follow=True).redirect_chain[-1][0]

    response = client.post(set_password, {"new_password1": "abc", "new_password2": "abd"})

    assert "The two password fields" in response.content.decode()
    assert logs_in("dana", "pw")


def test_password_change_is_the_admin_s_not_a_second_unstyled_page(client: Client) -> None:
    assert client.get("/accounts/password_change/").status_code == 404


def test_five_wrong_passwords_lock_the_username_out_for_a_while(dana: User) -> None:
    for _ in range(4):
        assert not logs_in("dana", "guess")
    assert logs_in("dana", "pw")  # a success clears the count
    for _ in range(5):
        assert not logs_in("dana", "guess")

    response = Client().post(LOGIN, {"username": "dana", "password": "pw"})

    assert response.status_code == 429
    page = response.content.decode()
    assert "<title>Too many attempts · ReferralHub</title>" in page
    assert (
        "5 wrong passwords in a row from this address, so it cannot log in from here for 15 "
        in page
    )
    assert not logs_in("dana", "pw", "/admin/login/")  # the admin's login too
    assert logs_in(make_staff("erin").username, "pw")  # other accounts are not locked
    assert logs_in("dana", "pw", address="192.0.2.7")  # nor is dana from another address


def test_the_lock_wears_off(dana: User, settings) -> None:
    for _ in range(5):
        logs_in("dana", "guess")
    assert not logs_in("dana", "pw")
    settings.AXES_COOLOFF_TIME = timedelta(0)
    assert logs_in("dana", "pw")


def test_an_administrator_can_unlock_a_username(dana: User) -> None:
    for _ in range(5):
        logs_in("dana", "guess")
    call_command("axes_reset_username", "dana", stdout=io.StringIO())
    assert logs_in("dana", "pw")


@pytest.mark.usefixtures("with_mail")
def test_one_address_gets_at_most_a_few_reset_mails_an_hour(client: Client, dana: User) -> None:
    limit = accounts.RESET_MAILS_PER_HOUR
    for _ in range(limit + 2):
        response = client.post(RESET, {"email": "Dana@example.com"}, follow=True)
        # The same answer every time: it never says whether mail left, or for whom.
        assert response.redirect_chain == [(f"{RESET}done/", 302)]

    assert len(mail.outbox) == limit
    make_staff("erin")
    client.post(RESET, {"email": "erin@example.com"})
    assert mail.outbox[-1].to == ["erin@example.com"]  # other addresses are counted apart


DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "referralhub_cache",
    }
}


@pytest.mark.usefixtures("with_mail")
@pytest.mark.parametrize("production_cache", [False, True])
def test_the_reset_mail_allowance_comes_back_after_an_hour(
    client: Client, dana: User, settings, monkeypatch, production_cache: bool
) -> None:
    if production_cache:  # the tests' process-local cache otherwise (tests/settings.py)
        settings.CACHES = DATABASE_CACHE
        call_command("createcachetable", verbosity=0)  # migration 0003 did, for LocMem: none
    first = timezone.now()

    def at(minutes: int) -> None:
        monkeypatch.setattr(timezone, "now", lambda: first + timedelta(minutes=minutes))
        client.post(RESET, {"email": dana.email})

    for minute in range(accounts.RESET_MAILS_PER_HOUR):
        at(minute * 5)
    at(30)
    at(59)
    assert len(mail.outbox) == accounts.RESET_MAILS_PER_HOUR
    at(61)
    assert len(mail.outbox) == accounts.RESET_MAILS_PER_HOUR + 1


@contextlib.contextmanager
def freeze(moment: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def fail_from_many_addresses(username: str, count: int) -> None:
    """`count` wrong passwords for `username`, at most 4 from any one address (none locked)."""
    for i in range(count):
        assert not logs_in(username, "guess", address=f"198.51.100.{i // 4 + 1}")


def test_guesses_from_many_addresses_slow_the_username_down_without_locking_it(
    dana: User, settings
) -> None:
    settings.LOGIN_USERNAME_CEILING = 8
    fail_from_many_addresses("dana", 8)

    response = Client(REMOTE_ADDR="203.0.113.9").post(LOGIN, {"username": "dana", "password": "pw"})

    assert response.status_code == 429
    assert "can be tried again in 30 seconds" in response.content.decode()
    # Waiting lifts it by itself: a slowdown, not a lock.
    later = timezone.now() + timedelta(seconds=31)
    with freeze(later):
        assert logs_in("dana", "pw", address="203.0.113.9")


def test_the_wait_doubles_with_each_further_failure_up_to_a_ceiling(dana: User, settings) -> None:
    settings.LOGIN_USERNAME_CEILING = 4
    settings.LOGIN_USERNAME_MAX_WAIT = timedelta(seconds=100)
    start = timezone.now()
    with freeze(start):
        fail_from_many_addresses("dana", 4)
        waits = [username_wait("dana")]
    moment = start
    for step in range(3):
        moment += waits[-1] + timedelta(seconds=1)  # each try once the wait is over
        with freeze(moment):
            assert not logs_in("dana", "guess", address=f"203.0.113.{step}")
            waits.append(username_wait("dana"))

    # To the nearest 10 s: the database may round the times it stores.
    assert [round(w.total_seconds(), -1) for w in waits] == [30, 60, 100, 100]


def test_refused_tries_while_waiting_do_not_make_the_wait_longer(dana: User, settings) -> None:
    settings.LOGIN_USERNAME_CEILING = 4
    fail_from_many_addresses("dana", 4)
    before = username_wait("dana")
    for _ in range(5):
        assert not logs_in("dana", "guess", address="203.0.113.50")
    assert username_wait("dana") <= before


def test_the_forwarded_address_counts_only_from_a_trusted_proxy(dana: User, settings) -> None:
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    for _ in range(5):
        logs_in("dana", "guess", address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1")
    # Locked for the client behind the proxy, not for every client of that proxy.
    assert not logs_in("dana", "pw", address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert logs_in("dana", "pw", address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.2")
    # From an untrusted peer the header is ignored: it cannot pose as another address.
    for _ in range(5):
        logs_in("dana", "guess", address="192.0.2.99", HTTP_X_FORWARDED_FOR="192.0.2.3")
    assert not logs_in("dana", "pw", address="192.0.2.99", HTTP_X_FORWARDED_FOR="192.0.2.4")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("192.0.2.5", "", "192.0.2.5"),
        ("192.0.2.5", "198.51.100.1", "192.0.2.5"),
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.9.9.9", "198.51.100.1"),
        ("10.1.2.3", "not-an-address", None),
    ],
)
def test_it_reads_the_client_address_through_trusted_proxies_only(
    settings, rf, peer: str, forwarded: str, client: str | None
) -> None:
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert accounts.client_address(request) == client


@pytest.mark.usefixtures("with_mail")
def test_a_password_reset_lifts_the_lock(client: Client, dana: User) -> None:
    for _ in range(5):
        logs_in("dana", "guess")
    assert not logs_in("dana", "pw")

    client.post(RESET, {"email": dana.email})
    link = reset_link(mail.outbox[0])
    set_password = client.get(link, follow=True).redirect_chain[-1][0]
    new = "a new passphrase 42"
    client.post(set_password, {"new_password1": new, "new_password2": new})

    assert logs_in("dana", new)


def test_a_password_set_in_the_admin_lifts_the_lock(dana: User) -> None:
    for _ in range(5):
        logs_in("dana", "guess")
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    new = "a new passphrase 42"

    response = admin.post(
        f"/admin/auth/user/{dana.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert logs_in("dana", new)
