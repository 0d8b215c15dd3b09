"""An endpoint's checks in the admin: chosen per endpoint, write-only, rotated without a refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.admin.conftest import admin_url
from tests.conftest import make_staff
from tests.webhooks.test_checks import basic
from webhooks.models import WebhookEndpoint
from webhooks.providers import PROVIDERS

SECRETS = ("old-pässword", "new-pässword", "h3ader-value", "s1gning-secret")


def page(endpoint: WebhookEndpoint) -> str:
    return admin_url("webhooks", "webhookendpoint", f"{endpoint.pk}/change")


def edit(client: Client, endpoint: WebhookEndpoint, **fields: Any):
    data = {
        "name": endpoint.name,
        "is_active": "on",
        "basic_auth_user": endpoint.basic_auth_user,
        "header_name": endpoint.header_name,
        "api_account_id": endpoint.api_account_id,
        **fields,
    }
    return client.post(page(endpoint), data)


def later(**delta: int) -> dict[str, str]:
    moment = timezone.localtime(timezone.now() + timedelta(**delta))
    return {"_0": moment.strftime("%Y-%m-%d"), "_1": moment.strftime("%H:%M:%S")}


def rotate_until(field: str, **delta: int) -> dict[str, str]:
    return {f"rotate_{field}_until{part}": value for part, value in later(**delta).items()}


@pytest.fixture
def guarded(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        provider="firstpromoter",
        name="FP v2",
        basic_auth_user="fp-hub",
        basic_auth_password="old-pässword",
        header_name="X-Hub-Key",
        header_value="h3ader-value",
    )


def test_the_admin_rotates_a_password_and_both_pass_until_the_date(
    admin_client: Client, guarded: WebhookEndpoint, client: Client
) -> None:
    response = edit(
        admin_client,
        guarded,
        basic_auth_password="new-pässword",
        **rotate_until("basic_auth_password", days=3),
    )

    assert response.status_code == 302
    guarded.refresh_from_db()
    assert guarded.basic_auth_password == "new-pässword"
    assert guarded.previous_basic_auth_password == "old-pässword"
    assert guarded.previous_basic_auth_password_until > timezone.now() + timedelta(days=2)
    html = admin_client.get(page(guarded)).content.decode()
    assert "set, accepted until" in html
    for password in ("old-pässword", "new-pässword"):
        headers = {"Authorization": basic("fp-hub", password), "X-Hub-Key": "h3ader-value"}
        answer = client.post(guarded.path, b"{}", content_type="application/json", headers=headers)
        assert answer.status_code != 401, password


def test_a_new_password_without_a_date_replaces_it_at_once(
    admin_client: Client, guarded: WebhookEndpoint
) -> None:
    edit(
        admin_client,
        guarded,
        basic_auth_password="new-pässword",
        **rotate_until("basic_auth_password", days=3),
    )

    assert edit(admin_client, guarded, basic_auth_password="third-one").status_code == 302

    guarded.refresh_from_db()
    assert guarded.basic_auth_password == "third-one"
    assert (guarded.previous_basic_auth_password, guarded.previous_basic_auth_password_until) == (
        "",
        None,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({**rotate_until("basic_auth_password", days=1)}, "Enter the new Basic auth password"),
        (
            {"basic_auth_password": "old-pässword", **rotate_until("basic_auth_password", days=1)},
            "is the current one",
        ),
        (
            {"basic_auth_password": "x", **rotate_until("basic_auth_password", days=-1)},
            "in the future",
        ),
        ({"secret": "s", **rotate_until("secret", days=1)}, "no current signing secret"),
        ({"header_name": "Cookie"}, "has a meaning of its own"),
    ],
)
def test_the_admin_refuses_a_rotation_that_cannot_work(
    admin_client: Client, guarded: WebhookEndpoint, fields, message
) -> None:
    response = edit(admin_client, guarded, **fields)

    assert response.status_code == 200
    assert message in response.content.decode()
    guarded.refresh_from_db()
    assert guarded.basic_auth_password == "old-pässword"
    assert guarded.previous_basic_auth_password == ""


def test_removing_the_header_removes_its_name_and_check(
    admin_client: Client, guarded: WebhookEndpoint
) -> None:
    assert edit(admin_client, guarded, clear_header_value="on").status_code == 302

    guarded.refresh_from_db()
    assert (guarded.header_name, guarded.header_value) == ("", "")


def test_no_credential_reaches_any_page(admin_client: Client, guarded: WebhookEndpoint) -> None:
    edit(
        admin_client,
        guarded,
        basic_auth_password="new-pässword",
        **rotate_until("basic_auth_password", days=3),
    )
    WebhookEndpoint.objects.filter(pk=guarded.pk).update(api_key="s1gning-secret")
    viewer = Client()
    viewer.force_login(make_staff("viewer", "webhooks.view_webhookendpoint"))
    urls = [
        admin_url("webhooks", "webhookendpoint"),
        page(guarded),
        admin_url("webhooks", "webhookendpoint", f"{guarded.pk}/history"),
        admin_url("webhooks", "webhookendpoint", "add"),
    ]

    for client in (admin_client, viewer):
        for url in urls:
            html = client.get(url).content.decode()
            assert not [s for s in SECRETS if s in html], url
    view_only = viewer.get(page(guarded)).content.decode()
    assert "URL token, HTTP Basic auth (user fp-hub), header X-Hub-Key" in view_only
    assert guarded.token not in view_only


@pytest.mark.parametrize("provider", ["firstpromoter", "invitereferrals", "referralrocket"])
def test_each_provider_offers_its_checks(admin_client: Client, provider: str) -> None:
    endpoint = WebhookEndpoint.objects.create(provider=provider)

    html = admin_client.get(page(endpoint)).content.decode()

    assert 'name="basic_auth_password"' in html
    assert 'name="header_value"' in html
    assert ('name="secret"' in html) is bool(PROVIDERS[provider].SIGNATURE_HEADER)
    assert ('name="api_key"' in html) is (provider == "firstpromoter")
    assert "URL token" in html


def test_firstpromoters_setup_recommends_basic_auth_not_the_signature(
    admin_client: Client,
) -> None:
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter")

    html = admin_client.get(page(endpoint)).content.decode()

    assert "HTTP Basic auth (recommended)" in html
    assert "Leave the signing secret empty" in html


def test_the_admin_refuses_filters_on_credentials(admin_client: Client, guarded) -> None:
    for lookup in ("basic_auth_password__startswith", "header_value", "previous_secret", "token"):
        response = admin_client.get(f"{admin_url('webhooks', 'webhookendpoint')}?{lookup}=o")
        assert response.status_code in (302, 400), lookup
