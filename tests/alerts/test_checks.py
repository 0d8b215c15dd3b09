"""check_alerts: webhook endpoints gone silent (once per silence) and back, and the daily digest
(once a day). Times are passed explicitly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from referralhub.alerts.checks import check_all, check_endpoints, send_digest
from referralhub.alerts.models import Alert
from referralhub.alerts.settings_checks import alert_settings
from tests.factories import DeliveryFactory, EndpointFactory, LeadFactory, RewardFactory
from webhooks.models import WebhookEndpoint

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def kinds() -> list[tuple[str, datetime]]:
    return list(Alert.objects.order_by("pk").values_list("kind", "window"))


@pytest.fixture
def watched(db) -> WebhookEndpoint:
    endpoint = EndpointFactory(name="Rocket live", expected_every=HOUR)
    DeliveryFactory(endpoint=endpoint, received_at=T0)
    return endpoint


def test_an_endpoint_that_stops_receiving_alerts_once_per_silence(watched, email_only, run_tasks):
    assert check_endpoints(T0 + 59 * timedelta(minutes=1)) == (0, 0)
    assert check_endpoints(T0 + HOUR + timedelta(minutes=1)) == (0, 1)
    assert check_endpoints(T0 + 5 * HOUR) == (0, 0)
    assert kinds() == [("endpoint_silent", T0)]
    run_tasks()
    (email,) = mail.outbox
    assert email.subject == "[ReferralHub] Rocket live has gone silent"
    assert "at least every 1 hour, and has received none since 2026-03-02 06:00 UTC" in email.body
    assert f"https://hub.example.com/dashboard/deliveries/?endpoint={watched.pk}" in email.body
    assert watched.token not in email.body


def test_a_delivery_after_a_silence_says_the_endpoint_is_back_once(watched, email_only, run_tasks):
    check_endpoints(T0 + 2 * HOUR)
    DeliveryFactory(endpoint=watched, received_at=T0 + 3 * HOUR)
    assert check_endpoints(T0 + 3 * HOUR + timedelta(minutes=1)) == (1, 0)
    assert check_endpoints(T0 + 3 * HOUR + timedelta(minutes=2)) == (0, 0)
    # Silent again later: a new silence, keyed by its own start, and back again.
    assert check_endpoints(T0 + 5 * HOUR) == (0, 1)
    DeliveryFactory(endpoint=watched, received_at=T0 + 6 * HOUR)
    assert check_endpoints(T0 + 6 * HOUR) == (1, 0)
    assert kinds() == [
        ("endpoint_silent", T0),
        ("endpoint_back", T0),
        ("endpoint_silent", T0 + 3 * HOUR),
        ("endpoint_back", T0 + 3 * HOUR),
    ]
    run_tasks()
    back = next(m for m in mail.outbox if "again" in m.subject)
    assert back.subject == "[ReferralHub] Rocket live is receiving deliveries again"
    assert "silent since 2026-03-02 06:00 UTC, received a delivery at 2026-03-02 09:00" in back.body


def test_an_endpoint_never_called_is_silent_from_its_creation(db):
    endpoint = EndpointFactory(expected_every=HOUR)
    assert check_endpoints(endpoint.created + 2 * HOUR) == (0, 1)
    assert Alert.objects.get().window == endpoint.created


def test_endpoints_without_an_expectation_or_switched_off_are_not_watched(db):
    DeliveryFactory(endpoint=EndpointFactory(), received_at=T0)
    DeliveryFactory(endpoint=EndpointFactory(expected_every=HOUR, is_active=False), received_at=T0)
    assert check_endpoints(T0 + 48 * HOUR) == (0, 0)


def test_the_digest_counts_what_waits_for_staff_once_a_day(db, email_only, run_tasks):
    RewardFactory.create_batch(3)
    RewardFactory(lead=LeadFactory(suspicion="same_ip_suspicion"))
    RewardFactory(status="approved", fulfilment="pending", unit="voucher")

    assert send_digest(T0 + HOUR) is None  # 07:00, before ALERT_DIGEST_HOUR (8)
    assert send_digest(T0 + 2 * HOUR) is not None
    assert send_digest(T0 + 3 * HOUR) is None
    assert send_digest(T0 + 17 * HOUR + timedelta(minutes=59)) is None  # 23:59, the same day
    assert send_digest(T0 + 26 * HOUR) is not None  # the next day at 08:00
    run_tasks()

    first = mail.outbox[0]
    assert first.subject == "[ReferralHub] Daily digest for 2026-03-02"
    lines = first.body.splitlines()
    assert lines[0] == (
        "Rewards waiting for approval: 4 - https://hub.example.com/dashboard/rewards/approvals/"
    )
    assert lines[1] == (
        "  of which self-referral suspects: 1 - "
        "https://hub.example.com/dashboard/rewards/approvals/?suspects=on"
    )
    assert lines[2].startswith("Rewards waiting for fulfilment: 1 - ")
    assert len(mail.outbox) == 2


def test_the_digest_follows_the_staff_time_zone(db, settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # 06:00 UTC is 15:00 in Tokyo
    digest = send_digest(T0)
    assert digest is not None
    assert digest.window == datetime(2026, 3, 1, 15, 0, tzinfo=UTC)  # midnight in Tokyo


def test_check_alerts_can_run_every_minute(watched, email_only, run_tasks):
    out = StringIO()
    call_command("check_alerts", stdout=out)
    call_command("check_alerts", stdout=out)
    # The endpoint's last delivery was at T0, in the past: silent, and the digest if it is time.
    assert Alert.objects.filter(kind="endpoint_silent").count() == 1
    assert Alert.objects.filter(kind="digest").count() <= 1
    assert "Silent: 1" in out.getvalue()
    assert check_all(T0 + 48 * HOUR).silent == 0


def test_create_webhook_endpoint_takes_the_expected_period(db):
    out = StringIO()
    call_command("create_webhook_endpoint", "referralrocket", "--expect-every", "24h", stdout=out)
    assert WebhookEndpoint.objects.get().expected_every == timedelta(days=1)
    assert "Alerts when silent for 1 day" in out.getvalue()


@pytest.mark.parametrize("value", ["24", "2m", "400d", "xh", "-1h"])
def test_create_webhook_endpoint_refuses_a_period_it_cannot_use(db, value):
    with pytest.raises(CommandError, match="expect-every"):
        call_command("create_webhook_endpoint", "referralrocket", "--expect-every", value)
    assert not WebhookEndpoint.objects.exists()


def test_a_slack_url_the_hub_would_refuse_fails_the_system_check(settings):
    settings.ALERT_SLACK_WEBHOOK_URL = "http://hooks.example.com/services/T0/B0/secret-token"
    (error,) = [p for p in alert_settings() if p.id == "alerts.E001"]
    assert "must use https" in error.msg
    assert "secret-token" not in error.msg


def test_alerts_without_site_url_warn_that_links_are_paths(settings):
    settings.ALERT_EMAILS, settings.SITE_URL = ["ops@example.com"], ""
    assert [p.id for p in alert_settings()] == ["alerts.W001"]
    settings.SITE_URL = "https://hub.example.com"
    assert alert_settings() == []


def test_a_silence_stays_one_when_pruning_removes_the_last_delivery(watched, db):
    assert check_endpoints(T0 + 2 * HOUR) == (0, 1)
    watched.deliveries.all().delete()  # prune_webhooks, months later
    assert check_endpoints(T0 + 2000 * HOUR) == (0, 0)
    assert kinds() == [("endpoint_silent", T0)]
    DeliveryFactory(endpoint=watched, received_at=T0 + 2001 * HOUR)
    assert check_endpoints(T0 + 2001 * HOUR) == (1, 0)
