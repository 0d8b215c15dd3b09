"""Event subscriptions and deliveries in the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from referralhub.models import EventDelivery, EventSubscription
from referralhub.services import rewards_act
from tests.conftest import make_staff
from tests.factories import RewardFactory

SUBSCRIPTIONS = "/admin/referralhub/eventsubscription/"
DELIVERIES = "/admin/referralhub/eventdelivery/"


@pytest.fixture
def admin_client(carol) -> Client:
    client = Client()
    client.force_login(carol)
    return client


def test_adding_shows_the_secret_on_that_page_only(admin_client, receiver):
    answer = admin_client.post(
        f"{SUBSCRIPTIONS}add/",
        {
            "url": receiver.url,
            "description": "CRM",
            "events": ["lead.converted"],
            "is_active": "on",
        },
    )
    assert answer.status_code == 200
    subscription = EventSubscription.objects.get()
    assert subscription.secret in answer.content.decode()
    assert "no-store" in answer["Cache-Control"]
    assert subscription.events == ["lead.converted"]
    page = admin_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").content.decode()
    assert subscription.secret not in page
    assert subscription.secret not in admin_client.get(SUBSCRIPTIONS).content.decode()


def test_an_internal_url_is_refused_on_the_form(admin_client):
    answer = admin_client.post(
        f"{SUBSCRIPTIONS}add/", {"url": "https://169.254.169.254/", "is_active": "on"}
    )
    assert "not a public address" in answer.content.decode()
    assert not EventSubscription.objects.exists()


def test_a_subscription_the_hub_disabled_is_flagged(admin_client, subscribe):
    subscription, _ = subscribe()
    EventSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_reason="The endpoint answered 410 Gone."
    )
    page = admin_client.get(SUBSCRIPTIONS).content.decode()
    assert "disabled by the hub: The endpoint answered 410 Gone." in page


def test_switching_on_again_clears_the_hubs_reason(admin_client, subscribe, receiver):
    subscription, _ = subscribe()
    EventSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_reason="The endpoint answered 410 Gone."
    )
    admin_client.post(
        f"{SUBSCRIPTIONS}{subscription.pk}/change/",
        {"url": receiver.url, "description": "back", "is_active": "on"},
    )
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.disabled_reason) == (True, "")
    assert subscription.description == "back"


def test_rotating_shows_the_new_secret_once(admin_client, subscribe):
    subscription, old = subscribe()
    answer = admin_client.post(
        SUBSCRIPTIONS, {"action": "rotate_secret", "_selected_action": [subscription.pk]}
    )
    subscription.refresh_from_db()
    assert subscription.secret != old
    assert subscription.secret in answer.content.decode()


def test_failed_deliveries_are_replayed_from_the_list(
    admin_client, alice, subscribe, receiver, run_tasks
):
    _subscription, _ = subscribe()
    receiver.answer(500)
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
    run_tasks()
    EventDelivery.objects.update(status="failed")
    delivery = EventDelivery.objects.get()
    page = admin_client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert "The endpoint answered HTTP 500." in page  # the attempt, shown
    admin_client.post(DELIVERIES, {"action": "replay", "_selected_action": [delivery.pk]})
    run_tasks()
    assert EventDelivery.objects.get().status == "succeeded"


@pytest.mark.parametrize(
    "path", [SUBSCRIPTIONS, f"{SUBSCRIPTIONS}add/", DELIVERIES, f"{SUBSCRIPTIONS}1/change/"]
)
def test_staff_without_the_permission_are_refused(db, path):
    client = Client()
    client.force_login(make_staff("dave", "referralhub.view_eventsubscription"))
    assert client.get(path).status_code == 403
