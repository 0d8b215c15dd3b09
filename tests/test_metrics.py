"""/metrics: refused without the token, and the figures read from the database per scrape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client.parser import text_string_to_metric_families

from referralhub.models import EventDelivery
from tests.factories import (
    CommissionPushFactory,
    DeliveryFactory,
    EndpointFactory,
    EventDeliveryFactory,
    EventSubscriptionFactory,
    ImportRunFactory,
    RewardFactory,
)
from webhooks.models import CommissionPush

TOKEN = "s3cret-metrics-token-for-tests"
QUERIES_PER_SCRAPE = 9


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def _scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_no_token_configured_is_404(client: Client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", headers={"authorization": "Bearer "})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.usefixtures("token")
def test_refused_without_the_token(client: Client):
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in missing.json()
    assert client.get("/metrics", headers={"authorization": f"Basic {TOKEN}"}).status_code == 401
    wrong = client.get("/metrics", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert TOKEN not in wrong.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("token")
def test_only_get(client: Client):
    headers = {"authorization": f"Bearer {TOKEN}"}
    assert client.post("/metrics", headers=headers).status_code == 405


@pytest.mark.django_db
@pytest.mark.usefixtures("token")
def test_the_figures(client: Client):
    now = timezone.now()
    fp = EndpointFactory(provider="firstpromoter")
    rr = EndpointFactory(provider="referralrocket")
    for seconds in (1, 3):
        DeliveryFactory(
            endpoint=fp,
            received_at=now - timedelta(minutes=5),
            processed_at=now - timedelta(minutes=5) + timedelta(seconds=seconds),
        )
    DeliveryFactory(endpoint=rr, status="failed", received_at=now - timedelta(minutes=1))
    DeliveryFactory(endpoint=rr, status="rejected", received_at=now - timedelta(days=3))
    DeliveryFactory(endpoint=fp, received_at=now - timedelta(days=2), processed_at=now)
    _task(status=TaskResultStatus.READY, enqueued=now - timedelta(minutes=10))
    _task(
        status=TaskResultStatus.READY,
        enqueued=now - timedelta(hours=1),
        run_after=now + timedelta(hours=1),
    )
    _task(status=TaskResultStatus.RUNNING, enqueued=now)
    _task(status=TaskResultStatus.SUCCESSFUL, enqueued=now - timedelta(days=1))
    _push(fp, CommissionPush.State.PENDING, since=now - timedelta(minutes=30))
    _push(fp, CommissionPush.State.FAILED, since=now - timedelta(days=2))
    _push(fp, CommissionPush.State.DONE, since=now - timedelta(days=3))

    m = _scrape(client)

    recent = "referralhub_webhook_deliveries_last_24h"
    assert m[(recent, (("provider", "firstpromoter"), ("status", "processed")))] == 2
    assert m[(recent, (("provider", "referralrocket"), ("status", "failed")))] == 1
    assert (recent, (("provider", "referralrocket"), ("status", "rejected"))) not in m
    unresolved = "referralhub_webhook_deliveries_unresolved"
    assert m[(unresolved, (("provider", "referralrocket"), ("status", "failed")))] == 1
    assert m[(unresolved, (("provider", "referralrocket"), ("status", "rejected")))] == 1
    assert m[("referralhub_webhook_processing_seconds_count", ())] == 2
    assert m[("referralhub_webhook_processing_seconds_sum", ())] == pytest.approx(4)
    assert m[("referralhub_webhook_processing_max_seconds", ())] == pytest.approx(3)
    assert m[("referralhub_tasks", (("state", "ready"),))] == 1
    assert m[("referralhub_tasks", (("state", "running"),))] == 1
    assert m[("referralhub_tasks_oldest_ready_age_seconds", ())] == pytest.approx(600, abs=30)
    assert m[("referralhub_firstpromoter_pushes", (("state", "pending"),))] == 1
    assert m[("referralhub_firstpromoter_pushes", (("state", "failed"),))] == 1
    oldest_push = m[("referralhub_firstpromoter_oldest_pending_push_age_seconds", ())]
    assert oldest_push == pytest.approx(1800, abs=30)
    # Per-process figures would differ between workers: none is exported.
    assert not any(name.startswith(("process_", "python_")) for name, _ in m)


@pytest.mark.django_db
@pytest.mark.usefixtures("token")
def test_events_out_subscriptions_and_firstpromoter_sync_problems(client: Client):
    now = timezone.now()
    crm = EventSubscriptionFactory()
    EventSubscriptionFactory(is_active=False, disabled_at=now, disabled_reason="410 Gone")
    EventSubscriptionFactory(is_active=False)
    EventDeliveryFactory.create_batch(3, subscription=crm, status="succeeded")
    EventDeliveryFactory(subscription=crm, status="pending")  # not tried yet
    failing = EventDeliveryFactory(subscription=crm, status="pending", attempt_count=2)
    EventDelivery.objects.filter(pk=failing.pk).update(next_attempt_at=now - timedelta(minutes=4))
    EventDeliveryFactory(subscription=crm, status="failed", attempt_count=8)
    old_failure = EventDeliveryFactory(subscription=crm, status="failed")
    old_success = EventDeliveryFactory(subscription=crm, status="succeeded")
    EventDelivery.objects.filter(pk__in=[old_failure.pk, old_success.pk]).update(
        created=now - timedelta(days=3)
    )
    CommissionPushFactory(state="pending", error="FirstPromoter answered 503.")  # retrying
    CommissionPushFactory(state="pending", error="", attempts=0)
    CommissionPushFactory(state="failed", error="Refused: 422.")
    ImportRunFactory(state="failed", error="The API key was refused.")
    ImportRunFactory(state="done")

    m = _scrape(client)

    recent = "referralhub_event_deliveries_last_24h"
    assert m[(recent, (("status", "succeeded"),))] == 3
    assert m[(recent, (("status", "pending"),))] == 2
    assert m[(recent, (("status", "failed"),))] == 1
    problems = "referralhub_event_deliveries_problems"
    assert m[(problems, (("state", "failing"),))] == 1
    assert m[(problems, (("state", "failed"),))] == 2
    oldest_due = m[("referralhub_event_deliveries_oldest_due_age_seconds", ())]
    assert oldest_due == pytest.approx(240, abs=30)
    subscriptions = "referralhub_event_subscriptions"
    assert m[(subscriptions, (("state", "active"),))] == 1
    assert m[(subscriptions, (("state", "disabled"),))] == 1
    assert m[(subscriptions, (("state", "off"),))] == 1
    assert m[("referralhub_firstpromoter_pushes", (("state", "pending"),))] == 2
    assert m[("referralhub_firstpromoter_pushes_retrying", ())] == 1
    assert m[("referralhub_firstpromoter_pushes", (("state", "failed"),))] == 1
    imports = "referralhub_firstpromoter_imports"
    assert m[(imports, (("state", "failed"),))] == 1
    assert m[(imports, (("state", "done"),))] == 1
    assert m[(imports, (("state", "running"),))] == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("token")
def test_an_empty_hub_scrapes_zeros(client: Client):
    m = _scrape(client)
    assert m[("referralhub_webhook_processing_seconds_count", ())] == 0
    assert m[("referralhub_tasks_oldest_ready_age_seconds", ())] == 0
    assert m[("referralhub_firstpromoter_pushes", (("state", "failed"),))] == 0
    assert m[("referralhub_event_deliveries_problems", (("state", "failed"),))] == 0
    assert m[("referralhub_event_subscriptions", (("state", "disabled"),))] == 0
    assert m[("referralhub_firstpromoter_imports", (("state", "failed"),))] == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("token")
def test_query_count_does_not_grow(client: Client, django_assert_num_queries):
    now = timezone.now()
    for provider in ("firstpromoter", "referralrocket", "invitereferrals"):
        endpoint = EndpointFactory(provider=provider)
        for status in ("processed", "failed", "rejected", "ignored"):
            DeliveryFactory.create_batch(2, endpoint=endpoint, status=status, processed_at=now)
    for _ in range(3):
        _task(status=TaskResultStatus.READY, enqueued=now)
    for status in ("succeeded", "pending", "failed"):
        EventDeliveryFactory.create_batch(2, status=status)
    ImportRunFactory.create_batch(2, state="failed")
    with django_assert_num_queries(QUERIES_PER_SCRAPE):
        _scrape(client)


@pytest.mark.django_db
def test_https_redirect_applies(client: Client, settings):
    # Scraped through the load balancer over https: the token never travels in plain http.
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    settings.METRICS_TOKEN = TOKEN
    response = client.get(
        "/metrics", headers={"host": "hub.example.com", "authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 301
    assert response["Location"] == "https://hub.example.com/metrics"


def _task(*, status: str, enqueued, run_after=None) -> None:
    task = DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="referralhub.tasks.nothing",
        backend_name="default",
        run_after=run_after or get_date_max(),
    )
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=enqueued)


def _push(endpoint, state: str, *, since) -> None:
    CommissionPush.objects.create(
        reward=RewardFactory(),
        endpoint=endpoint,
        action=CommissionPush.Action.APPROVE,
        state=state,
        next_attempt_at=since,
        since=since,
    )
