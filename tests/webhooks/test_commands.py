"""The webhook management commands: create an endpoint, replay deliveries, load demo data."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone

from referralhub.models import Lead, Promoter, Reward
from tests.webhooks.conftest import only_delivery, rr_signature
from webhooks import samples
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.payload import BadPayload
from webhooks.providers import firstpromoter, invitereferrals


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def demo_deliveries_sent(output: str) -> int:
    """The number of deliveries `load_demo` says it sent, checked against those the hub stored:
    every demo delivery is an event of its own, so each is stored once."""
    sent = re.search(r"Sent (\d+) demo deliveries: HTTP \[200, 202\]\.", output)
    assert sent, output
    assert int(sent.group(1)) == WebhookDelivery.objects.count() > 0
    return int(sent.group(1))


def test_it_creates_an_endpoint_and_prints_its_url_path_last(db, client, payload) -> None:
    output = run("create_webhook_endpoint", "firstpromoter", "--name", "Main account")

    path = output.strip().splitlines()[-1]
    endpoint = WebhookEndpoint.objects.get()
    assert path == f"/webhooks/firstpromoter/{endpoint.token}/"
    assert (endpoint.provider, endpoint.name, endpoint.secret) == (
        "firstpromoter",
        "Main account",
        "",
    )
    assert len(endpoint.token) >= 40
    body = json.dumps(payload("firstpromoter_new_customer_seed.json"))
    assert client.post(path, body, content_type="application/json").status_code == 200


def test_it_prints_the_whole_url_and_the_setup_at_the_provider(db) -> None:
    output = run(
        "create_webhook_endpoint", "invitereferrals", "--base-url", "https://hub.example.com/"
    )

    *_, setup, url = output.strip().splitlines()
    assert url == f"https://hub.example.com{WebhookEndpoint.objects.get().path}"
    assert setup == invitereferrals.SETUP


def test_it_creates_an_endpoint_with_a_signing_secret(db, client, payload) -> None:
    path = run("create_webhook_endpoint", "referralrocket", "--secret", "s3cret").split()[-1]

    body = json.dumps(payload("referralrocket_referrer_added_seed.json")).encode()
    unsigned = client.post(path, body, content_type="application/json")
    signed = client.post(
        path,
        body,
        content_type="application/json",
        headers={"X-RR-Signature": rr_signature(b"s3cret", body)},
    )

    assert (unsigned.status_code, signed.status_code) == (401, 200)


def test_it_refuses_an_unknown_provider(db) -> None:
    with pytest.raises(CommandError):
        run("create_webhook_endpoint", "rewardful")
    assert WebhookEndpoint.objects.count() == 0


@pytest.fixture
def failed_delivery(fp_endpoint, post_json, fp_event, monkeypatch) -> WebhookDelivery:
    with monkeypatch.context() as patch:
        patch.setattr(firstpromoter.legacy, "sync_decision", lambda pk: 1 / 0)
        assert post_json(fp_endpoint, fp_event("reward_created")).status_code == 500
    delivery = only_delivery()
    assert delivery.status == "failed"
    return delivery


def test_it_replays_failed_deliveries(failed_delivery) -> None:
    output = run("replay_webhooks", "--failed")

    delivery = only_delivery()
    assert (delivery.status, delivery.response_status, delivery.error) == ("processed", 200, "")
    assert delivery.processing_attempts == 2
    assert Reward.objects.get().lead == Lead.objects.get()
    assert f"#{delivery.pk} reward_created: processed (HTTP 200)" in output
    assert "Replayed 1: 1 processed." in output


def test_it_replays_deliveries_by_id(failed_delivery, fp_endpoint, post_json, fp_event) -> None:
    post_json(fp_endpoint, fp_event("lead_signup"))
    processed = WebhookDelivery.objects.get(event_type="lead_signup")
    counts = (Lead.objects.count(), Promoter.objects.count())

    output = run("replay_webhooks", "--id", str(failed_delivery.pk), str(processed.pk))

    failed_delivery.refresh_from_db()
    processed.refresh_from_db()
    assert failed_delivery.status == processed.status == "processed"
    assert processed.processing_attempts == 1  # a processed delivery is never applied twice
    assert Reward.objects.count() == 1
    assert (Lead.objects.count(), Promoter.objects.count()) == (counts[0] + 1, counts[1])
    assert "Replayed 2: 2 processed." in output


def test_it_replays_a_delivery_rejected_while_processing(fp_endpoint, post_json, fp_event):
    document = fp_event("reward_created")
    document["data"]["amount"] = "abc"
    post_json(fp_endpoint, document)

    output = run("replay_webhooks", "--id", str(only_delivery().pk))

    assert only_delivery().status == "rejected"
    assert "(HTTP 400)" in output


def _no_v2(document: dict, stored: str) -> None:
    raise BadPayload("missing_field", "body.event is required")  # as before the hub read v2


def test_it_replays_rejected_deliveries(fp_endpoint, post_json, fp_event, monkeypatch) -> None:
    # A v2 delivery refused before the hub read v2, and one that is malformed whatever the version.
    with monkeypatch.context() as patch:
        patch.setattr(firstpromoter.v2, "parse", _no_v2)
        v2 = samples.fp2_event("promoter.created", timezone.now(), samples.fp2_promoter(3))
        assert post_json(fp_endpoint, v2).status_code == 400
    assert post_json(fp_endpoint, {"event": {"id": 5}}).status_code == 400

    output = run("replay_webhooks", "--rejected")

    statuses = dict(WebhookDelivery.objects.values_list("event_type", "status"))
    assert statuses == {"promoter.created": "processed", "": "rejected"}
    assert Promoter.objects.get().email == "edsger.dijkstra3@partners.example.com"
    assert "Replayed 2: 1 processed, 1 rejected." in output


def test_it_replays_ignored_deliveries_once_the_hub_handles_them(
    fp_endpoint, post_json, fp_event, monkeypatch
) -> None:
    # A lead_signup ignored by a hub that did not handle it yet, an event type still unknown, and
    # a processed delivery, which must not run twice.
    with monkeypatch.context() as patch:
        patch.delitem(firstpromoter.legacy.HANDLERS, "lead_signup")
        assert post_json(fp_endpoint, fp_event("lead_signup")).json()["status"] == "ignored"
    unknown = fp_event("lead_signup")
    unknown["event"].update(id=99, type="promoter_tiered_up")
    post_json(fp_endpoint, unknown)
    post_json(fp_endpoint, fp_event("promoter_signed_up"))
    assert not Lead.objects.exists()

    output = run("replay_webhooks", "--ignored")

    statuses = dict(WebhookDelivery.objects.values_list("event_type", "status"))
    assert statuses == {
        "lead_signup": "processed",
        "promoter_tiered_up": "ignored",
        "promoter_signed_up": "processed",
    }
    assert Lead.objects.get().state == "signup"
    attempts = dict(WebhookDelivery.objects.values_list("event_type", "processing_attempts"))
    assert attempts == {"lead_signup": 2, "promoter_tiered_up": 2, "promoter_signed_up": 1}
    assert "Replayed 2: 1 ignored, 1 processed." in output


def test_it_refuses_unknown_ids_and_a_missing_selection(db) -> None:
    with pytest.raises(CommandError, match="No delivery with id 404"):
        run("replay_webhooks", "--id", "404")
    with pytest.raises(CommandError, match="Say which deliveries"):
        run("replay_webhooks")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "99999999999999999999"], "an id must be between 1 and 9223372036854775807"),
        (["--id", "0"], "an id must be between 1"),
        (["--id", "seven"], "'seven' is not a whole number"),
        (["--unfinished", "99999999999999"], "MINUTES must be between 0 and"),
        (["--unfinished", "-5"], "MINUTES must be between 0 and"),
    ],
)
def test_it_refuses_numbers_no_delivery_can_match(db, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        run("replay_webhooks", *args)


@pytest.mark.parametrize("command", ["create_webhook_endpoint", "load_demo"])
@pytest.mark.parametrize(
    "url", ["hub.example.com", "not a url", "ftp://hub.example.com", "https://hub.example.com/?a=1"]
)
def test_it_refuses_a_base_url_no_provider_could_reach(db, command: str, url: str) -> None:
    args = ["firstpromoter"] if command == "create_webhook_endpoint" else []

    with pytest.raises(CommandError, match="is not a base URL such as https://"):
        run(command, *args, "--base-url", url)

    assert not WebhookEndpoint.objects.exists()


def test_it_loads_demo_data_through_the_real_webhook_urls(db) -> None:
    output = run("load_demo")

    assert Promoter.objects.filter(provider="firstpromoter").count() >= 5
    assert Promoter.objects.filter(provider="referralrocket").exists()
    assert Promoter.objects.filter(provider="invitereferrals").exists()
    assert Lead.objects.count() > 10
    assert Reward.objects.count() > 5
    assert WebhookEndpoint.objects.count() == 4  # FirstPromoter's v2 has its own
    v2_endpoint = WebhookEndpoint.objects.get(name="Demo FirstPromoter v2")
    # Behind Basic auth, as FirstPromoter's v2 subscriptions offer it, not its signature.
    assert (v2_endpoint.basic_auth_user, v2_endpoint.secret) == ("firstpromoter", "")
    assert len(v2_endpoint.basic_auth_password) >= 32
    assert v2_endpoint.basic_auth_password not in output
    assert not WebhookDelivery.objects.exclude(status__in=["processed", "ignored"]).exists()
    v2 = WebhookDelivery.objects.filter(endpoint__name="Demo FirstPromoter v2")
    assert v2.count() == 12
    # An approved v2 commission in points waits for fulfilment; a deleted one is denied.
    points = Reward.objects.get(external_id="4000502")
    assert (points.status, points.fulfilment) == ("approved", "pending")
    assert points.mark_fulfilled_at_provider
    assert Reward.objects.get(external_id="4000503").status == "denied"
    login = output.strip().splitlines()[-1]
    assert "'staff'" in login
    assert "password" in login
    password = login.rsplit("password", 1)[1].strip(" '.")
    assert authenticate(RequestFactory().post("/"), username="staff", password=password)
    for endpoint in WebhookEndpoint.objects.all():
        assert endpoint.path in output


def test_it_replays_deliveries_whose_processing_never_finished(
    fp_endpoint, post_json, fp_event, monkeypatch
) -> None:
    post_json(fp_endpoint, fp_event("lead_signup"))
    # As if the database went away between storing the delivery and processing it.
    WebhookDelivery.objects.update(status="received", processing_attempts=0)
    Lead.objects.all().delete()
    stuck = only_delivery()

    output = run("replay_webhooks", "--unfinished", "5")
    assert "Replayed 0: nothing." in output  # too recent: its request may still be at work

    WebhookDelivery.objects.update(received_at=stuck.received_at - timedelta(minutes=10))
    output = run("replay_webhooks", "--unfinished", "5")

    assert only_delivery().status == "processed"
    assert Lead.objects.count() == 1
    assert "Replayed 1: 1 processed." in output


def test_it_loads_demo_data_at_the_host_the_app_is_served_at(db, settings) -> None:
    # Production settings name the real host only: deliveries sent to "localhost" were all
    # refused with a 400, and the command still ended as if the demo had loaded.
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    output = run("load_demo", "--base-url", "https://hub.example.com")

    demo_deliveries_sent(output)
    assert Lead.objects.count() > 10


def test_it_sends_demo_deliveries_over_the_base_url_s_scheme(db, settings) -> None:
    # Webhook URLs are exempt from the https redirect; without the exemption, the scheme shows.
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = []

    with pytest.raises(CommandError, match=r"\(HTTP \[301\]\).*a redirect to https://"):
        run("load_demo", "--base-url", "http://127.0.0.1:8000")
    demo_deliveries_sent(run("load_demo", "--base-url", "https://127.0.0.1:8000"))


def test_it_refuses_a_base_url_whose_host_is_not_allowed_before_writing(db, settings) -> None:
    settings.ALLOWED_HOSTS = ["hub.example.com"]

    with pytest.raises(CommandError, match=r"'other\.example\.com'.*--base-url"):
        run("load_demo", "--base-url", "https://other.example.com")

    assert not WebhookEndpoint.objects.exists()
    assert not get_user_model().objects.exists()


def test_it_fails_when_the_app_refuses_demo_deliveries(db) -> None:
    WebhookEndpoint.objects.create(
        provider="firstpromoter", name="Demo FirstPromoter", is_active=False
    )

    with pytest.raises(
        CommandError, match=r"of (\d+) demo deliveries .* refused \(HTTP \[404\]\)"
    ) as refused:
        run("load_demo")

    # Nothing of the demo is left: no staff user with an unprinted password, no half the data.
    assert not get_user_model().objects.exists()
    assert list(WebhookEndpoint.objects.values_list("is_active", flat=True)) == [False]
    assert not WebhookDelivery.objects.exists()
    assert not Lead.objects.exists()

    # The count it gave is that of the whole demo, as a run the app accepts sends it.
    WebhookEndpoint.objects.update(is_active=True)
    total = re.search(r"of (\d+) demo deliveries", str(refused.value))
    assert total
    assert int(total.group(1)) == demo_deliveries_sent(run("load_demo"))


def test_it_prints_the_demo_urls_where_the_app_is_served(db) -> None:
    output = run("load_demo", "--base-url", "http://127.0.0.1:8877/")

    assert "Log in at http://127.0.0.1:8877/ as 'staff'" in output
    for endpoint in WebhookEndpoint.objects.all():
        assert f"http://127.0.0.1:8877{endpoint.path}" in output
    assert "127.0.0.1:8000" not in output
