"""Events out in the dashboard."""

from __future__ import annotations

import pytest
from django.test import Client

from referralhub.models import EventDelivery, EventSubscription
from referralhub.services import rewards_act
from tests.conftest import make_staff
from tests.factories import RewardFactory

LIST = "/dashboard/events/"


@pytest.fixture
def staff_client(carol) -> Client:
    client = Client()
    client.force_login(carol)
    return client


def test_subscribing_shows_the_secret_once(staff_client, receiver):
    answer = staff_client.post(
        LIST,
        {"url": receiver.url, "description": "CRM", "events": ["reward.paid"], "is_active": "on"},
    )
    subscription = EventSubscription.objects.get()
    assert subscription.secret in answer.content.decode()
    assert (subscription.events, subscription.description) == (["reward.paid"], "CRM")
    assert subscription.secret not in staff_client.get(LIST).content.decode()
    detail = staff_client.get(f"{LIST}{subscription.pk}/").content.decode()
    assert subscription.secret not in detail


def test_an_internal_url_is_refused_with_the_reason(staff_client):
    answer = staff_client.post(LIST, {"url": "https://[::ffff:127.0.0.1]/x", "is_active": "on"})
    assert answer.status_code == 200
    assert "not a public address" in answer.content.decode()
    assert not EventSubscription.objects.exists()


def test_a_disabled_subscription_is_flagged_with_its_reason(staff_client, subscribe):
    subscription, _ = subscribe()
    EventSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_reason="Every attempt failed for 5 days."
    )
    for page in (LIST, f"{LIST}{subscription.pk}/"):
        assert "Every attempt failed for 5 days." in staff_client.get(page).content.decode()


def test_editing_rotating_and_deleting(staff_client, subscribe, receiver):
    subscription, old = subscribe()
    staff_client.post(
        f"{LIST}{subscription.pk}/", {"url": receiver.url, "description": "new", "is_active": "on"}
    )
    assert EventSubscription.objects.get().description == "new"
    rotated = staff_client.post(f"{LIST}{subscription.pk}/rotate/")
    new = EventSubscription.objects.get().secret
    assert new != old
    assert new in rotated.content.decode()
    staff_client.post(f"{LIST}{subscription.pk}/delete/")
    assert not EventSubscription.objects.exists()


def test_attempts_are_shown_and_failed_deliveries_replayed(
    staff_client, alice, subscribe, receiver, run_tasks
):
    subscription, _ = subscribe()
    receiver.answer(500, b"upstream trouble")
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
    run_tasks()
    EventDelivery.objects.update(status="failed")
    delivery = EventDelivery.objects.get()
    page = staff_client.get(f"{LIST}deliveries/{delivery.pk}/").content.decode()
    assert "upstream trouble" in page
    assert delivery.event.webhook_id in page
    staff_client.post(f"{LIST}{subscription.pk}/replay/", {"since": "2020-01-01T00:00"})
    run_tasks()
    assert EventDelivery.objects.get().status == "succeeded"
    EventDelivery.objects.update(status="failed")
    staff_client.post(f"{LIST}deliveries/{delivery.pk}/replay/")
    run_tasks()
    assert EventDelivery.objects.get().attempt_count == 3


def test_the_subscription_page_costs_the_same_queries_whatever_its_size(
    staff_client, alice, subscribe, run_tasks, django_assert_max_num_queries
):
    subscription, _ = subscribe()
    rewards_act(action="approve", reward_ids=[RewardFactory().pk for _ in range(10)], actor=alice)
    run_tasks()
    with django_assert_max_num_queries(10):
        assert staff_client.get(f"{LIST}{subscription.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", LIST),
        ("post", LIST),
        ("get", f"{LIST}1/"),
        ("post", f"{LIST}1/rotate/"),
        ("post", f"{LIST}1/delete/"),
        ("post", f"{LIST}1/replay/"),
        ("get", f"{LIST}deliveries/1/"),
        ("post", f"{LIST}deliveries/1/replay/"),
    ],
)
def test_staff_without_the_permission_are_refused(db, method, path):
    client = Client()
    client.force_login(make_staff("dave", "referralhub.view_reward"))
    assert getattr(client, method)(path).status_code == 403
