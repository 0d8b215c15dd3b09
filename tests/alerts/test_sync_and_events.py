"""The alerts other parts of the hub raise: a subscription the hub switched off, FirstPromoter
decisions given up, a FirstPromoter import that stopped."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.test import Client

from referralhub.alerts.models import Alert
from referralhub.models import EventSubscription
from referralhub.services import rewards_act
from tests.conftest import make_staff
from tests.factories import RewardFactory
from webhooks.models import ImportRun, WebhookEndpoint


def test_a_subscription_switched_off_after_410_alerts_once(
    email_only, alice, subscribe, receiver, run_tasks
):
    made, _ = subscribe()
    EventSubscription.objects.filter(pk=made.pk).update(description="Billing sync")
    receiver.answer(410)
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
    run_tasks()

    alert = Alert.objects.get()
    assert (alert.kind, alert.subject_id) == ("subscription_disabled", made.pk)
    (email,) = mail.outbox
    assert email.subject == "[ReferralHub] Event subscription Billing sync was switched off"
    assert "410 Gone" in email.body
    assert f"https://hub.example.com/dashboard/events/{made.pk}/" in email.body
    assert receiver.url not in email.body  # a receiver's URL may carry its own token


def test_a_subscription_failing_for_days_alerts_with_the_reason(
    email_only, alice, subscribe, receiver, run_tasks, settings
):
    made, _ = subscribe()
    EventSubscription.objects.filter(pk=made.pk).update(
        failing_since=made.created - settings.EVENTS_DISABLE_AFTER - timedelta(minutes=1)
    )
    receiver.answer(500)
    rewards_act(action="approve", reward_ids=[RewardFactory().pk], actor=alice)
    run_tasks()

    assert not EventSubscription.objects.get().is_active
    (email,) = mail.outbox
    assert "Every attempt failed for 5 days." in email.body
    assert f"subscription #{made.pk}" in email.body


def test_decisions_firstpromoter_refuses_alert_with_their_count_and_reason(
    email_only, alice, api_endpoint, fp_api, commission, run_tasks, run_due
):
    rewards = [commission(), commission()]
    for reward in rewards:
        fp_api.invalid_ids.add(int(reward.external_id))
    rewards_act(action="approve", reward_ids=[r.pk for r in rewards], actor=alice)
    run_tasks()

    alert = Alert.objects.get()
    assert (alert.kind, alert.subject_id, alert.count) == ("pushes_failed", api_endpoint.pk, 2)
    run_due(until=alert.window + timedelta(minutes=15))
    (email,) = mail.outbox
    assert email.subject == "[ReferralHub] FirstPromoter did not take 2 staff decisions"
    assert "cannot be changed" in email.body
    assert "https://hub.example.com/dashboard/firstpromoter/sync/" in email.body
    assert fp_api.api_key not in email.body


def test_an_import_firstpromoter_refuses_alerts_once(
    email_only, client: Client, api_endpoint, run_tasks
):
    WebhookEndpoint.objects.update(api_key="wrong")
    client.force_login(make_staff("ivan", "referralhub.view_reward", "webhooks.start_import"))
    client.post("/dashboard/firstpromoter/import/", {"resources": ["referrals"]})
    run_tasks()

    run = ImportRun.objects.get()
    assert run.state == "failed"
    alert = Alert.objects.get()
    assert (alert.kind, alert.subject_id) == ("import_failed", run.pk)
    (email,) = mail.outbox
    assert email.subject == f"[ReferralHub] FirstPromoter import #{run.pk} failed"
    assert "401" in email.body
    assert "wrong" not in email.body
