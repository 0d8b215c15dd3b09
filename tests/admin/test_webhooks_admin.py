"""The inbox (read-only, pretty, replayable) and the endpoints (secret write-only) in the admin."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.test import Client
from django.utils.html import escape

from referralhub.models import AuditEntry, Promoter
from tests.admin.conftest import admin_url, fp_delivery, promoter_signed_up
from tests.conftest import make_staff
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.providers import PROVIDERS

DELIVERIES = admin_url("webhooks", "webhookdelivery")
ENDPOINTS = admin_url("webhooks", "webhookendpoint")


def _replay(client: Client, *deliveries: WebhookDelivery):
    data = {
        "action": "replay_selected",
        "index": "0",
        "_selected_action": [d.pk for d in deliveries],
    }
    return client.post(DELIVERIES, data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_it_replays_a_failed_delivery_and_audits_it(
    root: User, root_client: Client, fp_endpoint: WebhookEndpoint
):
    delivery = fp_delivery(fp_endpoint, "failed", promoter_signed_up(7), error="Traceback…")
    response = _replay(root_client, delivery)
    assert response.status_code == 200
    assert _messages(response) == ["Replayed 1: 1 processed."]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status, delivery.error) == ("processed", 200, "")
    assert Promoter.objects.filter(provider="firstpromoter", external_id="1000007").exists()
    entry = AuditEntry.objects.get(action="replay", object_id=str(delivery.pk))
    assert entry.actor == root
    assert entry.changes == {"status": ["failed", "processed"]}
    assert LogEntry.objects.filter(object_id=str(delivery.pk), user=root).exists()
    page = root_client.get(admin_url("webhooks", "webhookdelivery", f"{delivery.pk}/change"))
    assert "status: failed → processed" in page.content.decode()


def test_it_replays_a_rejected_delivery_that_is_still_bad(
    root_client: Client, fp_endpoint: WebhookEndpoint
):
    delivery = fp_delivery(fp_endpoint, "rejected", "{not json", event_type="")
    response = _replay(root_client, delivery)
    assert _messages(response) == ["Replayed 1: 1 rejected."]
    delivery.refresh_from_db()
    assert delivery.status == "rejected"
    assert AuditEntry.objects.filter(action="replay").count() == 1


def test_it_skips_processed_deliveries(root_client: Client, fp_endpoint: WebhookEndpoint):
    done = fp_delivery(fp_endpoint, "processed", promoter_signed_up(8))
    response = _replay(root_client, done)
    assert _messages(response) == [f"Skipped #{done.pk}: processed ones are never replayed."]
    assert not Promoter.objects.exists()  # never applied a second time
    assert not AuditEntry.objects.exists()


def test_it_offers_replay_only_to_those_who_may_change_deliveries(db, fp_endpoint: WebhookEndpoint):
    delivery = fp_delivery(fp_endpoint, "failed", promoter_signed_up(9))
    viewer = make_staff("gina", "webhooks.view_webhookdelivery")
    client = Client()
    client.force_login(viewer)
    assert client.get(DELIVERIES).context["action_form"] is None
    _replay(client, delivery)  # forged
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert not Promoter.objects.exists()

    operator = make_staff(
        "hugo", "webhooks.view_webhookdelivery", "webhooks.change_webhookdelivery"
    )
    client.force_login(operator)
    _replay(client, delivery)
    delivery.refresh_from_db()
    assert delivery.status == "processed"


def test_it_shows_the_body_pretty_printed_and_escaped(
    root_client: Client, fp_endpoint: WebhookEndpoint
):
    body = promoter_signed_up(3)
    body["data"]["promoter"]["note"] = "<script>alert('x')</script>"
    delivery = fp_delivery(fp_endpoint, "processed", body)
    page = root_client.get(admin_url("webhooks", "webhookdelivery", f"{delivery.pk}/change"))
    html = page.content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    pretty = '<pre class="rh-pre" tabindex="0">{\n  &quot;event&quot;: {\n    &quot;id&quot;: 9003'
    assert pretty in html
    assert "&quot;User-Agent&quot;: &quot;FirstPromoter&quot;" in html  # the headers


def test_it_shows_a_query_string_delivery(root_client: Client, ir_endpoint: WebhookEndpoint):
    response = Client().get(
        f"{ir_endpoint.path}?orderID=ORD1&conversion=success&referee_email=a%40b.c"
    )
    assert response.status_code in (200, 400)
    delivery = WebhookDelivery.objects.get()
    page = root_client.get(admin_url("webhooks", "webhookdelivery", f"{delivery.pk}/change"))
    assert "&quot;orderID&quot;: &quot;ORD1&quot;" in page.content.decode()


def test_it_keeps_the_inbox_read_only(root_client: Client, fp_endpoint: WebhookEndpoint):
    delivery = fp_delivery(fp_endpoint, "failed", promoter_signed_up(4))
    url = admin_url("webhooks", "webhookdelivery", f"{delivery.pk}/change")
    assert root_client.post(url, {"status": "processed"}).status_code == 403
    assert root_client.get(admin_url("webhooks", "webhookdelivery", "add")).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_it_never_shows_an_endpoint_secret(root_client: Client):
    endpoint = WebhookEndpoint.objects.create(provider="referralrocket", secret="s3cr3t-value")
    listing = root_client.get(ENDPOINTS).content.decode()
    assert "s3cr3t-value" not in listing
    assert endpoint.token not in listing
    page = root_client.get(admin_url("webhooks", "webhookendpoint", f"{endpoint.pk}/change"))
    html = page.content.decode()
    assert "s3cr3t-value" not in html
    assert endpoint.path in html  # the URL to give the provider, token included


def test_staff_who_may_only_view_endpoints_see_neither_secret_nor_token(db):
    # Every field of a view-only page is rendered read-only: the secret was printed in clear.
    endpoint = WebhookEndpoint.objects.create(
        provider="invitereferrals", name="Main", basic_auth_password="basic-auth-password"
    )
    viewer = Client()
    viewer.force_login(make_staff("viewer", "webhooks.view_webhookendpoint"))

    page = viewer.get(admin_url("webhooks", "webhookendpoint", f"{endpoint.pk}/change"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Main" in html
    assert "basic-auth-password" not in html
    assert endpoint.token not in html
    assert PROVIDERS["invitereferrals"].SETUP[:40] in html
    assert endpoint.token not in viewer.get(ENDPOINTS).content.decode()


@pytest.mark.parametrize("provider", ["firstpromoter", "invitereferrals", "referralrocket"])
def test_it_shows_the_whole_url_and_what_to_do_at_the_provider(
    root_client: Client, settings, provider
):
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    endpoint = WebhookEndpoint.objects.create(provider=provider)
    page = root_client.get(
        admin_url("webhooks", "webhookendpoint", f"{endpoint.pk}/change"),
        headers={"host": "hub.example.com", "x-forwarded-proto": "https"},
    )
    html = page.content.decode()
    assert f"<code>https://hub.example.com{endpoint.path}</code>" in html
    assert escape(PROVIDERS[provider].SETUP) in html
    assert "Leave blank to keep the current one." in html


def test_it_lands_on_the_new_endpoint_with_its_url(root_client: Client):
    add = admin_url("webhooks", "webhookendpoint", "add")
    assert "Leave blank to keep the current one." not in root_client.get(add).content.decode()
    response = root_client.post(
        add, {"provider": "firstpromoter", "name": "FP", "is_active": "on"}, follow=True
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.redirect_chain == [
        (admin_url("webhooks", "webhookendpoint", f"{endpoint.pk}/change"), 302)
    ]
    assert f"Give FirstPromoter this URL: http://testserver{endpoint.path}" in _messages(response)

    another = root_client.post(
        add, {"provider": "firstpromoter", "name": "FP 2", "is_active": "on", "_addanother": "1"}
    )
    assert another["Location"] == add


def _edit(client: Client, endpoint: WebhookEndpoint, **fields):
    url = admin_url("webhooks", "webhookendpoint", f"{endpoint.pk}/change")
    data = {"name": endpoint.name, "is_active": "on", "secret": "", **fields}
    return client.post(url, data)


def test_it_keeps_replaces_or_removes_a_secret(root_client: Client):
    endpoint = WebhookEndpoint.objects.create(provider="referralrocket", secret="old")
    token = endpoint.token
    assert _edit(root_client, endpoint, name="Renamed").status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.secret, endpoint.token) == ("Renamed", "old", token)

    assert _edit(root_client, endpoint, secret="new").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret == "new"

    both = _edit(root_client, endpoint, secret="other", clear_secret="on")
    assert both.status_code == 200
    assert "Either enter a new signing secret or remove it" in both.content.decode()

    assert _edit(root_client, endpoint, clear_secret="on").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret == ""
    assert endpoint.provider == "referralrocket"


def test_it_creates_an_endpoint_with_a_token(root_client: Client):
    response = root_client.post(
        admin_url("webhooks", "webhookendpoint", "add"),
        {
            "provider": "invitereferrals",
            "name": "IR",
            "is_active": "on",
            "basic_auth_password": "pw",
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.provider, endpoint.basic_auth_password, len(endpoint.token) >= 40) == (
        "invitereferrals",
        "pw",
        True,
    )


@pytest.mark.parametrize("with_delivery", [True, False])
def test_it_deletes_only_endpoints_without_deliveries(root_client: Client, with_delivery: bool):
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter")
    if with_delivery:
        fp_delivery(endpoint, "processed", promoter_signed_up(1))
    url = admin_url("webhooks", "webhookendpoint", f"{endpoint.pk}/delete")
    response = root_client.post(url, {"post": "yes"})
    assert response.status_code == (403 if with_delivery else 302)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists() is with_delivery


def test_it_replays_from_the_delivery_page(root_client: Client, fp_endpoint: WebhookEndpoint):
    delivery = fp_delivery(fp_endpoint, "failed", promoter_signed_up(5))
    page = admin_url("webhooks", "webhookdelivery", f"{delivery.pk}/change")
    assert root_client.get(page).context["replayable"] is True
    form = {"action": "replay_selected", "index": "0", "_selected_action": delivery.pk}
    response = root_client.post(DELIVERIES, {**form, "_from_change": "1"})
    assert (response.status_code, response["Location"]) == (302, page)
    delivery.refresh_from_db()
    assert delivery.status == "processed"
    assert root_client.get(page).context["replayable"] is False  # nothing left to replay
