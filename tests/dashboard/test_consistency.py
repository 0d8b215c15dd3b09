"""The dashboard says things one way: one date format, plurals, words instead of codes and
question marks, campaigns that say whose they are, a skip link."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from dashboard import charts
from referralhub.models import Campaign
from tests.factories import DeliveryFactory, PromoterFactory, RewardFactory
from webhooks.models import WebhookDelivery

TEMPLATES = Path(settings.BASE_DIR) / "templates"
NAMED = {"DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", "c"}


def test_templates_write_dates_in_the_named_formats_only() -> None:
    # The formats live in referralhub/formats/en: the dashboard, the admin and the mails agree.
    used = {
        (path.name, fmt)
        for path in TEMPLATES.rglob("*.html")
        for fmt in re.findall(r"""\|date:["']([^"']*)["']""", path.read_text())
    }
    assert {(name, fmt) for name, fmt in used if fmt not in NAMED} == set()


def test_a_reward_s_date_reads_as_everywhere_else(as_alice: Client, db) -> None:
    RewardFactory(
        unlinked=True,
        promoter=PromoterFactory(),
        amount=15,
        provider_created_at=datetime(2026, 10, 29, 1, 0, tzinfo=UTC),
    )
    html = as_alice.get("/dashboard/rewards/approvals/").content.decode()
    assert "2026-10-29" in html
    assert "29 Oct 2026" not in html


def test_the_overview_names_its_period_in_the_same_format(as_bob: Client, db) -> None:
    html = as_bob.get("/dashboard/", {"days": "7"}).content.decode()
    assert re.search(r"\d{4}-\d{2}-\d{2} \u2013 \d{4}-\d{2}-\d{2}, compared with", html)


def test_the_chart_says_one_lead_not_one_leads() -> None:
    svg = charts.leads_and_customers([(date(2026, 11, 5), 1, 1), (date(2026, 11, 6), 2, 0)], "day")
    assert "Thu 2026-11-05: 1 lead, 1 customer<" in svg
    assert "Fri 2026-11-06: 2 leads, 0 customers<" in svg
    assert ">11-05</text>" in svg


@pytest.mark.parametrize(
    ("provider", "said"),
    [
        ("referralrocket", "Referral Rocket campaign PMf8BDZ1zb"),
        ("firstpromoter", "FirstPromoter campaign PMf8BDZ1zb"),
    ],
)
def test_a_campaign_without_a_name_says_whose_it_is(db, provider: str, said: str) -> None:
    assert str(Campaign(provider=provider, external_id="PMf8BDZ1zb")) == said
    assert str(Campaign(provider=provider, external_id="PMf8BDZ1zb", name="Spring")) == "Spring"


def test_the_reward_page_names_a_nameless_campaign(as_alice: Client, db) -> None:
    campaign = Campaign.objects.create(provider="referralrocket", external_id="PMf8BDZ1zb")
    reward = RewardFactory(
        unlinked=True,
        promoter=PromoterFactory(),
        amount=15,
        provider="referralrocket",
        campaign=campaign,
    )
    html = as_alice.get(reverse("dashboard:reward", args=[reward.pk])).content.decode()
    assert "<dd>Referral Rocket campaign PMf8BDZ1zb</dd>" in html


def test_deliveries_say_what_was_answered_in_words(as_bob: Client, fp_endpoint) -> None:
    rejected = DeliveryFactory(
        endpoint=fp_endpoint,
        event_type="",
        status=WebhookDelivery.Status.REJECTED,
        response_status=400,
    )
    DeliveryFactory(endpoint=fp_endpoint, response_status=202)

    listed = as_bob.get("/dashboard/deliveries/").content.decode()
    shown = as_bob.get(reverse("dashboard:delivery", args=[rejected.pk])).content.decode()

    assert "202 Accepted" in listed
    assert "400 Bad Request" in listed
    assert "none given" in listed
    assert "<code>?</code>" not in listed
    assert "FirstPromoter delivery with no event type" in shown
    assert "<dd>400 Bad Request</dd>" in shown
    assert "HTTP 400" not in shown


def test_the_fulfilment_queue_explains_itself_without_status_codes(as_alice: Client) -> None:
    html = as_alice.get("/dashboard/rewards/fulfilments/").content.decode()
    assert "answered 200" not in html
    assert "FirstPromoter is told so the next time it asks" in html


def test_every_page_starts_with_a_link_to_its_main_content(as_bob: Client, db) -> None:
    html = as_bob.get("/dashboard/").content.decode()
    body = html[html.index("<body>") :]
    first_link = re.search(r"<a [^>]*>[^<]*</a>", body)
    assert first_link is not None
    assert first_link[0] == '<a class="skip-link" href="#main">Skip to the main content</a>'
    assert '<main class="container" id="main" tabindex="-1">' in html


def test_the_admin_counts_endpoints_in_words(admin_client: Client, fp_endpoint) -> None:
    response = admin_client.post(
        "/admin/webhooks/webhookendpoint/",
        {"action": "deactivate", "_selected_action": [fp_endpoint.pk]},
        follow=True,
    )
    assert "Deactivated 1 endpoint." in response.content.decode()


def test_a_weekly_or_monthly_chart_says_which_week_or_month() -> None:
    weekly = charts.leads_and_customers([(date(2026, 11, 2), 3, 1)], "week")
    monthly = charts.leads_and_customers([(date(2026, 11, 1), 3, 1)], "month")
    assert "week from 2026-11-02: 3 leads, 1 customer<" in weekly
    assert "November 2026: 3 leads, 1 customer<" in monthly
    assert ">2026-11</text>" in monthly
