"""The REST API of event subscriptions and deliveries."""

from __future__ import annotations

import pytest
from django.test import Client

from referralhub.models import EventDelivery, EventSubscription
from referralhub.services import rewards_act
from tests.conftest import make_staff
from tests.factories import RewardFactory

BASE = "/api/v1/event-subscriptions/"
DELIVERIES = "/api/v1/event-deliveries/"


@pytest.fixture
def api(carol) -> Client:
    client = Client()
    client.force_login(carol)
    return client


def test_creating_returns_the_secret_once(api, receiver):
    body = {"url": receiver.url, "events": ["lead.converted"], "description": "CRM"}
    created = api.post(BASE, body, content_type="application/json")
    assert created.status_code == 201
    data = created.json()
    assert data["secret"].startswith("whsec_")
    assert (data["events"], data["description"], data["is_active"]) == (
        ["lead.converted"],
        "CRM",
        True,
    )
    assert EventSubscription.objects.get().secret == data["secret"]
    shown = api.get(f"{BASE}{data['id']}/").json()
    assert "secret" not in shown
    assert data["secret"] not in str(shown)
    listed = api.get(BASE).content.decode()
    assert data["secret"] not in listed
    assert "whsec_" not in listed


def test_an_empty_list_means_every_event(api, receiver):
    created = api.post(BASE, {"url": receiver.url}, content_type="application/json").json()
    assert created["events"] == []
    assert EventSubscription.objects.get().wants("reward.paid")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "https://169.254.169.254/latest"}, "url", "not a public address"),
        ({"url": "http://example.com/x"}, "url", "must use https"),
        ({"url": "https://[::1]/x"}, "url", "not a public address"),
        ({"url": 5}, "url", "Not a valid string"),
        ({"url": "https://127.0.0.1/x", "events": ["lead.eaten"]}, "events", "not a valid choice"),
        ({"url": "https://127.0.0.1/x", "events": "lead.created"}, "events", "list"),
        ({"url": "https://127.0.0.1/x", "description": "a\x00b"}, "description", "Null"),
    ],
)
def test_bad_subscriptions_are_refused_with_a_clear_error(api, body, field, message):
    answer = api.post(BASE, body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid"
    assert message.lower() in str(answer.json()["detail"][field]).lower()
    assert not EventSubscription.objects.exists()


def test_changing_and_switching_on_again(api, subscribe, receiver):
    subscription, _ = subscribe()
    EventSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_reason="The endpoint answered 410 Gone."
    )
    answer = api.patch(
        f"{BASE}{subscription.pk}/",
        {"is_active": True, "events": ["reward.paid"]},
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert answer.json()["disabled_reason"] == ""
    assert (answer.json()["is_active"], answer.json()["events"]) == (True, ["reward.paid"])
    refused = api.patch(
        f"{BASE}{subscription.pk}/", {"url": "https://10.0.0.1/"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert EventSubscription.objects.get().url == receiver.url


def test_rotating_returns_the_new_secret_once(api, subscribe):
    subscription, old = subscribe()
    answer = api.post(f"{BASE}{subscription.pk}/rotate-secret/")
    assert answer.status_code == 200
    new = answer.json()["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert answer.json()["previous_secret_valid_until"]
    assert new not in api.get(f"{BASE}{subscription.pk}/").content.decode()


def test_deleting(api, subscribe):
    subscription, _ = subscribe()
    assert api.delete(f"{BASE}{subscription.pk}/").status_code == 204
    assert not EventSubscription.objects.exists()


def test_deliveries_show_every_attempt_and_replay(api, alice, subscribe, receiver, run_tasks):
    subscribe()
    receiver.answer(410, b"gone for good")
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
    run_tasks()
    (listed,) = api.get(DELIVERIES, {"status": "failed"}).json()["results"]
    assert listed["event"]["type"] == "reward.approved"
    assert listed["event"]["id"].startswith("msg_")
    assert listed["attempts"][0]["status_code"] == 410
    assert listed["attempts"][0]["response_body"] == "gone for good"
    refused = api.post(f"{DELIVERIES}{listed['id']}/replay/")
    assert refused.status_code == 409  # the subscription was disabled by the 410
    api.patch(
        f"{BASE}{listed['subscription']}/", {"is_active": True}, content_type="application/json"
    )
    assert api.post(f"{DELIVERIES}{listed['id']}/replay/").status_code == 200
    run_tasks()
    assert EventDelivery.objects.get().status == "succeeded"
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]


def test_replaying_all_since_a_time(api, alice, subscribe, receiver, run_tasks):
    subscription, _ = subscribe()
    receiver.answer(410)
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
    run_tasks()
    api.patch(f"{BASE}{subscription.pk}/", {"is_active": True}, content_type="application/json")
    answer = api.post(
        f"{DELIVERIES}replay/",
        {"since": "2020-01-01T00:00:00Z", "subscription": subscription.pk},
        content_type="application/json",
    )
    assert answer.json() == {"count": 1}
    assert api.post(f"{DELIVERIES}replay/", {}, content_type="application/json").status_code == 400
    bad = api.post(
        f"{DELIVERIES}replay/",
        {"since": "2020-01-01T00:00:00Z", "subscription": 999},
        content_type="application/json",
    )
    assert bad.status_code == 400


def test_the_delivery_list_costs_the_same_queries_whatever_its_size(
    api, alice, subscribe, run_tasks, django_assert_max_num_queries
):
    subscribe()
    rewards = [RewardFactory().pk for _ in range(8)]
    rewards_act(action="approve", reward_ids=rewards, actor=alice)
    run_tasks()
    with django_assert_max_num_queries(8):
        assert len(api.get(DELIVERIES).json()["results"]) == 8


ROUTES = [
    ("get", BASE),
    ("post", BASE),
    ("get", f"{BASE}1/"),
    ("patch", f"{BASE}1/"),
    ("put", f"{BASE}1/"),
    ("delete", f"{BASE}1/"),
    ("post", f"{BASE}1/rotate-secret/"),
    ("get", DELIVERIES),
    ("get", f"{DELIVERIES}1/"),
    ("post", f"{DELIVERIES}1/replay/"),
    ("post", f"{DELIVERIES}replay/"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_refuses_staff_without_the_permission(db, method, path):
    client = Client()
    client.force_login(
        make_staff("dave", "referralhub.view_reward", "referralhub.view_eventsubscription")
    )
    answer = getattr(client, method)(path, {}, content_type="application/json")
    assert answer.status_code == 403
    assert Client().get(path).status_code in (401, 403)


@pytest.mark.parametrize("path", [BASE, "/api/v1/deliveries/", DELIVERIES])
def test_a_method_the_url_does_not_take_is_405_whatever_its_query(api, path):
    assert api.generic("TRACE", f"{path}?page=1&page_size=25").status_code == 405


def test_deliveries_refuse_an_ordering_they_do_not_have(api):
    answer = api.get(DELIVERIES, {"ordering": "-updated"})
    assert answer.status_code == 400
    assert api.get(DELIVERIES, {"ordering": "-created"}).status_code == 200
