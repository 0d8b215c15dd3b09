"""A staff member's own API token: created with the permission, shown once, replaced, revoked."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from referralhub.models import AuditEntry
from tests.conftest import make_staff

URL = reverse("dashboard:api_token")
REVOKE = reverse("dashboard:api_token_revoke")
PERMISSION = "referralhub.add_apitoken"


@pytest.fixture
def tess(db) -> User:
    """Staff who may create a token for herself, and read leads through the API."""
    return make_staff("tess", PERMISSION, "referralhub.view_lead")


@pytest.fixture
def as_tess(client: Client, tess: User) -> Client:
    client.force_login(tess)
    return client


def create(client: Client, **data: str) -> str:
    response = client.post(URL, data)
    assert response.status_code == 200
    return response.context["key"]


def api_status(key: str) -> int:
    return Client().get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_it_creates_a_token_and_shows_its_key_once(as_tess: Client, tess: User) -> None:
    response = as_tess.post(URL)
    key = response.context["key"]
    assert key == Token.objects.get(user=tess).key
    assert key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert api_status(key) == 200
    later = as_tess.get(URL).content.decode()
    assert key not in later
    assert f"{key[:4]}…" in later  # its first characters only


def test_a_second_create_keeps_the_token_and_shows_no_key(as_tess: Client, tess: User) -> None:
    key = create(as_tess)
    response = as_tess.post(URL, follow=True)
    assert "You have a token already" in response.content.decode()
    assert key not in response.content.decode()
    assert Token.objects.get(user=tess).key == key


def test_replacing_a_token_stops_the_old_key(as_tess: Client) -> None:
    old = create(as_tess)
    new = create(as_tess, replace="1")
    assert new != old
    assert (api_status(old), api_status(new)) == (401, 200)


def test_revoking_a_token_stops_its_key(as_tess: Client, tess: User) -> None:
    key = create(as_tess)
    response = as_tess.post(REVOKE, follow=True)
    assert "Your API token is revoked" in response.content.decode()
    assert not Token.objects.filter(user=tess).exists()
    assert api_status(key) == 401
    assert "You had no API token" in as_tess.post(REVOKE, follow=True).content.decode()


def test_the_audit_trail_names_the_key_by_its_first_characters(as_tess, tess) -> None:
    key = create(as_tess)
    as_tess.post(REVOKE)
    entries = AuditEntry.objects.filter(actor=tess).order_by("id")
    assert [e.action for e in entries] == ["create API token", "revoke API token"]
    assert all(e.note == f"key {key[:4]}…" for e in entries)
    assert all(key not in f"{e.object_id} {e.object_repr} {e.note}" for e in entries)


def test_staff_without_the_permission_may_not_create_one(client: Client, bob: User) -> None:
    client.force_login(bob)
    page = client.get(URL).content.decode()
    assert "ask an administrator" in page
    assert "Create a token" not in page
    response = client.post(URL)
    assert response.status_code == 403
    assert not Token.objects.filter(user=bob).exists()


def test_staff_without_the_permission_may_revoke_the_token_they_have(client, bob) -> None:
    Token.objects.create(user=bob)
    client.force_login(bob)
    assert client.post(REVOKE).status_code == 302
    assert not Token.objects.filter(user=bob).exists()


def test_a_token_is_only_ever_its_owners(as_tess: Client, bob: User) -> None:
    theirs = Token.objects.create(user=bob)
    create(as_tess)
    as_tess.post(REVOKE)
    assert Token.objects.filter(key=theirs.key).exists()
    assert theirs.key not in as_tess.get(URL).content.decode()


def test_anonymous_people_are_sent_to_log_in(client: Client, db) -> None:
    for url in (URL, REVOKE):
        response = client.post(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not Token.objects.exists()


def test_users_who_are_not_staff_are_refused(client: Client, db) -> None:
    user = User.objects.create_user("nina", password="pw")
    user.user_permissions.add(*make_staff("tmp", PERMISSION).user_permissions.all())
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.post(URL).status_code == 403
    assert not Token.objects.filter(user=user).exists()


def test_a_forged_post_is_refused(tess: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tess)
    assert browser.post(URL).status_code == 403
    assert browser.post(REVOKE).status_code == 403
    assert not Token.objects.filter(user=tess).exists()


def test_the_page_links_to_the_api_docs_and_the_menu_to_the_page(as_tess: Client) -> None:
    html = as_tess.get(URL).content.decode()
    assert f'href="{reverse("api:docs")}"' in html
    overview = as_tess.get(reverse("dashboard:overview")).content.decode()
    assert f'href="{URL}"' in overview


def test_revoking_needs_a_post(as_tess: Client) -> None:
    assert as_tess.get(REVOKE).status_code == 405
