"""Sending: a Slack-compatible webhook called through the SSRF-safe client, retries until sent
or shown as failed, and the webhook's URL (its token) never in a log line or an error."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone

from referralhub.alerts import raising, sending, texts
from referralhub.alerts.models import Alert, AlertMessage
from tests.alerts.conftest import SLACK_TOKEN
from tests.conftest import make_staff
from tests.factories import AlertMessageFactory

REFUSED_URL = f"https://localhost:8443/services/{SLACK_TOKEN}"
ADMIN = "/admin/alerts/alert/"


def raise_one(subject_id: int = 1) -> Alert:
    alert = raising.alert_raise(
        kind=Alert.Kind.IMPORT_FAILED,
        subject_id=subject_id,
        window=timezone.now(),
        text=texts.Text("FirstPromoter import #1 failed", "It stopped: 401."),
    )
    assert alert is not None
    return alert


def test_an_alert_is_posted_to_slack_as_json_text(alerts_on, run_tasks):
    raise_one()
    assert run_tasks() == 1
    assert alerts_on.texts == ["*FirstPromoter import #1 failed*\nIt stopped: 401."]
    assert len(mail.outbox) == 1


def test_an_alert_is_raised_once_whoever_raises_it_again(alerts_on, run_tasks):
    window = timezone.now()
    text = texts.Text("Title", "Body")
    first = raising.alert_raise(kind="import_failed", subject_id=7, window=window, text=text)
    again = raising.alert_raise(kind="import_failed", subject_id=7, window=window, text=text)
    assert first is not None
    assert again is None
    assert AlertMessage.objects.count() == 2
    run_tasks()
    assert len(alerts_on.texts) == len(mail.outbox) == 1


def test_a_failed_send_is_retried_until_it_goes_through(alerts_on, run_due):
    alerts_on.answers = [500, 503]
    raise_one()
    run_due()
    slack = AlertMessage.objects.get(channel="slack")
    assert (slack.state, slack.attempts) == ("pending", 1)
    assert slack.last_error == "The webhook answered HTTP 500."
    run_due(until=timezone.now() + timedelta(minutes=1))
    run_due(until=timezone.now() + timedelta(minutes=5))
    slack.refresh_from_db()
    assert (slack.state, slack.attempts) == ("sent", 3)
    assert len(alerts_on.texts) == 1


def test_a_private_address_is_refused_retried_then_shown_failed_without_its_token(
    settings, run_due, caplog
):
    caplog.set_level(logging.DEBUG)
    settings.ALERT_EMAILS, settings.ALERT_SLACK_WEBHOOK_URL = [], REFUSED_URL
    raise_one()
    for _ in range(len(sending.SCHEDULE) + 1):
        run_due(until=timezone.now() + timedelta(days=1))

    message = AlertMessage.objects.get()
    assert (message.state, message.attempts) == ("failed", len(sending.SCHEDULE) + 1)
    assert message.last_error.startswith("Refused: localhost resolves to")
    assert SLACK_TOKEN not in message.last_error
    assert "not sent by slack" in caplog.text
    assert SLACK_TOKEN not in caplog.text


def test_the_token_stays_out_of_the_log_when_sending_works(alerts_on, run_tasks, caplog):
    caplog.set_level(logging.DEBUG)
    alerts_on.answers = [500]
    raise_one()
    run_tasks()
    assert "not sent by slack" in caplog.text
    assert SLACK_TOKEN not in caplog.text


def test_a_task_run_twice_sends_once(alerts_on, run_tasks):
    alert = raise_one()
    run_tasks()
    message = AlertMessage.objects.get(alert=alert, channel="slack")
    sending.attempt(message.pk, expected_attempts=0)  # a stale copy of the first task
    assert len(alerts_on.texts) == 1


@pytest.fixture
def viewer(client: Client, db) -> Client:
    client.force_login(make_staff("olga", "alerts.view_alert"))
    return client


def test_staff_see_alerts_and_whether_they_went(viewer: Client):
    AlertMessageFactory(state="failed", last_error="The webhook answered HTTP 500.")
    page = viewer.get(ADMIN).content.decode()
    assert "Event subscription #1 was switched off" in page
    assert "1 failed" in page
    detail = viewer.get(f"{ADMIN}{Alert.objects.get().pk}/change/").content.decode()
    assert "The webhook answered HTTP 500." in detail


def test_staff_without_the_permission_cannot_see_alerts(client: Client, db):
    client.force_login(make_staff("pete", "referralhub.view_reward"))
    assert client.get(ADMIN).status_code == 403


def test_sending_again_needs_its_permission(viewer: Client, email_only, run_tasks):
    message = AlertMessageFactory(state="failed", attempts=6)
    data = {"action": "resend", "_selected_action": [message.alert_id]}
    viewer.post(ADMIN, data)
    message.refresh_from_db()
    assert message.state == "failed"

    viewer.force_login(make_staff("sam", "alerts.view_alert", "alerts.resend_alert"))
    viewer.post(ADMIN, data)
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 0)
    run_tasks()
    message.refresh_from_db()
    assert message.state == "sent"
    assert len(mail.outbox) == 1


class RefusingMailServer(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPRecipientsRefused({"ops@example.com": (550, b"No such user")})


def test_an_email_the_server_refuses_is_retried_with_its_reason(email_only, settings, run_due):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingMailServer"
    raise_one()
    run_due()
    message = AlertMessage.objects.get()
    assert (message.state, message.attempts) == ("pending", 1)
    assert message.last_error.startswith("SMTPRecipientsRefused")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_due(until=timezone.now() + timedelta(minutes=1))
    message.refresh_from_db()
    assert message.state == "sent"
    assert len(mail.outbox) == 1
