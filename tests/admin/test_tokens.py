"""API tokens in the admin: listed and revoked, never shown (DRF's own admin lists every key)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.admin.conftest import admin_url
from tests.conftest import make_staff

TOKENS = admin_url("referralhub", "apitoken")


@pytest.fixture
def token(root: User) -> Token:
    return Token.objects.create(user=make_staff("reporter"))


def test_the_list_names_tokens_by_user_and_key_hint_only(root_client: Client, token: Token):
    root_token = Token.objects.create(user=User.objects.get(username="root"))

    html = root_client.get(TOKENS).content.decode()

    assert "reporter" in html
    assert f"{token.key[:4]}…" in html
    for key in (token.key, root_token.key):
        assert key not in html
        assert key[:8] not in html
    assert root_client.get(f"{TOKENS}?q=reporter").context["cl"].result_count == 1


def test_its_page_and_history_do_not_show_the_key(root_client: Client, token: Token):
    page = admin_url("referralhub", "apitoken", f"{token.user_id}/change")
    response = root_client.get(page)

    assert response.status_code == 200
    assert "API token of reporter" in response.content.decode()
    assert token.key not in response.content.decode()
    assert token.key not in root_client.get(page.replace("change", "history")).content.decode()


def test_revoking_one_deletes_it_and_logs_it_by_user(root_client: Client, token: Token):
    delete = admin_url("referralhub", "apitoken", f"{token.user_id}/delete")
    confirm = root_client.get(delete).content.decode()
    assert token.key not in confirm

    response = root_client.post(delete, {"post": "yes"}, follow=True)

    assert not Token.objects.filter(pk=token.pk).exists()
    assert token.key not in response.content.decode()
    assert LogEntry.objects.get().object_repr == "API token of reporter"


def test_tokens_are_not_made_or_edited_in_the_admin(root_client: Client, token: Token):
    assert root_client.get(admin_url("referralhub", "apitoken", "add")).status_code == 403
    page = admin_url("referralhub", "apitoken", f"{token.user_id}/change")
    root_client.post(page, {"user": User.objects.get(username="root").pk})
    assert Token.objects.get(pk=token.pk).user.username == "reporter"


def test_drf_token_admin_that_lists_keys_is_gone(root_client: Client, token: Token):
    assert root_client.get(admin_url("authtoken", "tokenproxy")).status_code == 404
    assert token.key not in root_client.get("/admin/").content.decode()


def test_staff_without_the_permission_cannot_see_tokens(token: Token):
    client = Client()
    client.force_login(make_staff("viewer", "referralhub.view_reward"))
    assert client.get(TOKENS).status_code == 403
