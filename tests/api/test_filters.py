"""Filters, search and ordering: the right rows, and 400 (never an empty list) for bad values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from referralhub.models import Lead, Reward
from tests.factories import (
    CampaignFactory,
    ConversionFactory,
    DeliveryFactory,
    LeadFactory,
    PromoterFactory,
    PromotionFactory,
    RewardFactory,
)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def client(api, olga):
    return api(olga)


def test_it_filters_by_provider(client):
    fp = LeadFactory(provider="firstpromoter")
    rr = LeadFactory(provider="referralrocket")
    assert ids(client.get("/api/v1/leads/?provider=firstpromoter")) == [fp.pk]
    assert ids(client.get("/api/v1/leads/?provider=referralrocket")) == [rr.pk]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/leads/?provider=nope",
        "/api/v1/rewards/?status=paid",
        "/api/v1/rewards/?unit=bitcoin",
        "/api/v1/rewards/?fulfilment=done",
        "/api/v1/rewards/?suspicion=maybe",
        "/api/v1/rewards/?has_issues=perhaps",
        "/api/v1/rewards/?has_issues=1",
        "/api/v1/leads/?state=zombie",
        "/api/v1/leads/?campaign=999999",
        "/api/v1/leads/?promoter=abc",
        "/api/v1/leads/?promoter=99999999999999999999999",
        "/api/v1/conversions/?status=won",
        "/api/v1/promotions/?status=running",
        "/api/v1/campaigns/?provider=FirstPromoter",
        "/api/v1/promoters/?campaign=-1",
        "/api/v1/deliveries/?status=ok",
        "/api/v1/deliveries/?endpoint=424242",
        "/api/v1/leads/?created_after=yesterday",
        "/api/v1/rewards/?updated_before=2026-13-45",
        "/api/v1/leads/?created_after=0001-01-01T00:00:00%2B14:00",
        "/api/v1/leads/?created_before=9999-12-31T23:59:59-14:00",
        "/api/v1/deliveries/?received_after=not-a-date",
        "/api/v1/leads/?ordering=password",
        "/api/v1/leads/?ordering=created,id",
        "/api/v1/leads/?ordering=--created",
        "/api/v1/campaigns/?ordering=payload",
        "/api/v1/leads/?search=a%00b",
        "/api/v1/leads/?search=" + "x" * 101,
        "/api/v1/leads/?search=" + "+".join("abcdefghijk"),
        "/api/v1/rewards/?provider=%00",
        "/api/v1/leads/?ordering=",
    ],
)
def test_it_refuses_unknown_filter_values_with_400(client, url):
    LeadFactory()
    response = client.get(url)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid"
    assert isinstance(body["detail"], dict)


def test_it_names_the_bad_parameter(client):
    body = client.get("/api/v1/leads/?provider=nope").json()
    assert list(body["detail"]) == ["provider"]
    assert "nope" in body["detail"]["provider"][0]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("/api/v1/leads/?created_after=yesterday", "created_after"),
        ("/api/v1/rewards/?updated_after=2026-12-01&updated_before=2026-13-45", "updated_before"),
        ("/api/v1/deliveries/?received_after=not-a-date", "received_after"),
    ],
)
def test_it_names_the_bad_end_of_a_date_range(client, query, param):
    body = client.get(query).json()
    assert body["detail"] == {param: ["Enter a valid date/time."]}


def test_it_says_a_plus_in_the_url_must_be_encoded(client):
    # A client that puts the offset in the URL as it is: its + arrives as a space.
    body = client.get("/api/v1/leads/?created_after=2026-12-01T09:00:00+01:00").json()
    (message,) = body["detail"]["created_after"]
    assert "write an offset's + as %2B (2026-12-01T09:00:00%2B01:00)" in message


def test_it_filters_by_campaign_promoter_and_promotion(client):
    lead = LeadFactory()
    other = LeadFactory()
    assert ids(client.get(f"/api/v1/leads/?campaign={lead.campaign_id}")) == [lead.pk]
    assert ids(client.get(f"/api/v1/leads/?promoter={other.promoter_id}")) == [other.pk]
    assert ids(client.get(f"/api/v1/leads/?promotion={lead.promotion_id}")) == [lead.pk]
    promotion_ids = ids(client.get(f"/api/v1/promotions/?promoter={lead.promoter_id}"))
    assert promotion_ids == [lead.promotion_id]
    campaign = CampaignFactory()
    promoter = PromoterFactory(campaign=campaign)
    assert ids(client.get(f"/api/v1/promoters/?campaign={campaign.pk}")) == [promoter.pk]


def test_it_filters_leads_by_state_suspicion_and_customer(client):
    active = LeadFactory(state="active", customer_since=timezone.now())
    suspect = LeadFactory(suspicion="same_ip_suspicion")
    assert ids(client.get("/api/v1/leads/?state=active")) == [active.pk]
    assert ids(client.get("/api/v1/leads/?suspicion=same_ip_suspicion")) == [suspect.pk]
    assert ids(client.get("/api/v1/leads/?customer=true")) == [active.pk]
    assert ids(client.get("/api/v1/leads/?customer=false")) == [suspect.pk]


def test_it_filters_rewards_by_status_unit_fulfilment_and_suspicion(client):
    cash = RewardFactory(unit="cash", status="approved", fulfilment="pending")
    months = RewardFactory(unit="free_months", lead__suspicion="same_promoter_email")
    assert ids(client.get("/api/v1/rewards/?status=approved")) == [cash.pk]
    assert ids(client.get("/api/v1/rewards/?status=pending")) == [months.pk]
    assert ids(client.get("/api/v1/rewards/?unit=free_months")) == [months.pk]
    assert ids(client.get("/api/v1/rewards/?fulfilment=pending")) == [cash.pk]
    assert ids(client.get("/api/v1/rewards/?suspicion=same_promoter_email")) == [months.pk]
    assert ids(client.get(f"/api/v1/rewards/?lead={cash.lead_id}")) == [cash.pk]
    assert ids(client.get(f"/api/v1/rewards/?promoter={cash.promoter_id}")) == [cash.pk]
    assert ids(client.get(f"/api/v1/rewards/?campaign={months.campaign_id}")) == [months.pk]


def test_it_filters_rewards_by_what_the_provider_says(client):
    deleted = RewardFactory(provider_status="deleted", status="approved")
    RewardFactory(provider_status="approved", status="approved")
    assert ids(client.get("/api/v1/rewards/?provider_status=deleted&status=approved")) == [
        deleted.pk
    ]


def test_it_filters_conversions_and_promotions_by_status(client):
    success = ConversionFactory(status="success")
    ConversionFactory(status="fail")
    assert ids(client.get("/api/v1/conversions/?status=success")) == [success.pk]
    inactive = PromotionFactory(status="offer_inactive")
    assert ids(client.get("/api/v1/promotions/?status=offer_inactive")) == [inactive.pk]


def test_it_filters_by_created_and_updated_ranges(client):
    old, new = LeadFactory(), LeadFactory()
    long_ago = timezone.now() - timedelta(days=30)
    Lead.objects.filter(pk=old.pk).update(created=long_ago, updated=long_ago)
    cut = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert ids(client.get(f"/api/v1/leads/?created_after={cut}")) == [new.pk]
    assert ids(client.get(f"/api/v1/leads/?created_before={cut}")) == [old.pk]
    assert ids(client.get(f"/api/v1/leads/?updated_before={cut}")) == [old.pk]
    stamp = (timezone.now() - timedelta(days=2)).isoformat().replace("+", "%2B")
    assert ids(client.get(f"/api/v1/leads/?updated_after={stamp}")) == [new.pk]


def test_it_speaks_utc_whatever_the_staffs_time_zone(client, settings):
    """Times without an offset are UTC, and times come back in UTC, as before TIME_ZONE was set."""
    settings.TIME_ZONE = "Pacific/Kiritimati"  # UTC+14: every local date differs from UTC's
    before, after = LeadFactory(), LeadFactory()
    Lead.objects.filter(pk=before.pk).update(created=datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    Lead.objects.filter(pk=after.pk).update(created=datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    assert ids(client.get("/api/v1/leads/?created_after=2026-12-01")) == [after.pk]
    assert ids(client.get("/api/v1/leads/?created_before=2026-11-30T23:59:30")) == [before.pk]
    assert client.get(f"/api/v1/leads/{after.pk}/").json()["created"] == "2026-12-01T00:00:00Z"


def test_it_takes_dates_with_offsets_postgresql_would_refuse(client):
    lead = LeadFactory()
    stamp = "5078-06-12T01:34:56%2B18:49"
    assert ids(client.get(f"/api/v1/leads/?created_before={stamp}")) == [lead.pk]
    assert ids(client.get(f"/api/v1/deliveries/?received_after={stamp}")) == []


def test_it_filters_deliveries(client):
    failed = DeliveryFactory(status="failed", event_type="reward_created")
    ok = DeliveryFactory(provider="firstpromoter")
    assert ids(client.get("/api/v1/deliveries/?status=failed")) == [failed.pk]
    assert ids(client.get("/api/v1/deliveries/?event_type=reward_created")) == [failed.pk]
    assert ids(client.get(f"/api/v1/deliveries/?endpoint={ok.endpoint_id}")) == [ok.pk]
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert ids(client.get(f"/api/v1/deliveries/?received_after={tomorrow}")) == []


def test_it_searches_emails_ref_ids_and_codes(client):
    lead = LeadFactory(email="sam@example.org", promotion__ref_id="samref")
    reward = RewardFactory(lead__promotion__promoter__code="RR-CODE-1")
    LeadFactory(email="other@example.org")
    assert ids(client.get("/api/v1/leads/?search=sam@example")) == [lead.pk]
    assert ids(client.get("/api/v1/leads/?search=samref")) == [lead.pk]
    assert ids(client.get("/api/v1/rewards/?search=rr-code-1")) == [reward.pk]
    assert lead.promoter is not None
    promoter_ids = ids(client.get(f"/api/v1/promoters/?search={lead.promoter.email}"))
    assert promoter_ids == [lead.promoter_id]
    assert ids(client.get("/api/v1/promotions/?search=samref")) == [lead.promotion_id]


def test_it_orders_by_an_allowed_field_with_a_stable_tiebreak(client):
    first, second, third = LeadFactory(), LeadFactory(), LeadFactory()
    same = timezone.now()
    Lead.objects.update(updated=same)  # ties broken by id
    assert ids(client.get("/api/v1/leads/")) == [third.pk, second.pk, first.pk]
    assert ids(client.get("/api/v1/leads/?ordering=updated")) == [first.pk, second.pk, third.pk]
    assert ids(client.get("/api/v1/leads/?ordering=-updated")) == [third.pk, second.pk, first.pk]
    a = CampaignFactory(name="b")
    b = CampaignFactory(name="a")
    names = ids(client.get("/api/v1/campaigns/?ordering=name"))
    assert names.index(b.pk) < names.index(a.pk)
    assert Reward.objects.count() == 0


def test_it_reads_an_empty_filter_value_as_no_filter(client):
    """As the browsable API's filter form sends every field; the schema says `allowEmptyValue`."""
    DeliveryFactory(event_type="")
    DeliveryFactory(event_type="lead_signup", status="failed")
    assert len(ids(client.get("/api/v1/deliveries/?event_type="))) == 2
    assert len(ids(client.get("/api/v1/deliveries/?status=&received_before=&endpoint="))) == 2
    assert len(ids(client.get("/api/v1/deliveries/?search="))) == 2


def test_it_searches_names_companies_and_the_middle_of_emails(client):
    ada = PromoterFactory(first_name="Ada", last_name="Lovelace", company_name="Engines Ltd")
    lead = LeadFactory(email="charles@babbage.example", name="Charles B", promoter=ada)
    LeadFactory(email="other@example.org")
    assert ids(client.get("/api/v1/leads/?search=BABBAGE")) == [lead.pk]
    assert ids(client.get("/api/v1/leads/?search=engines")) == [lead.pk]
    assert ids(client.get("/api/v1/leads/?search=ada+lovelace")) == [lead.pk]
    assert ids(client.get("/api/v1/promoters/?search=ada+lovelace")) == [ada.pk]
    assert ids(client.get("/api/v1/promoters/?search=lovelace+hopper")) == []


def test_the_api_and_the_dashboard_find_the_same_leads(client, bob):
    from django.test import Client

    ada = PromoterFactory(first_name="Ada", company_name="Engines Ltd", code="ADA-1")
    LeadFactory(email="charles@babbage.example", promoter=ada, promotion__ref_id="spring")
    LeadFactory(email="mary@example.org", name="Mary Somerville", uid="cus_42")
    LeadFactory(email="alan@example.org", referred_by_code="TUR-9")
    browser = Client()
    browser.force_login(bob)
    for term in ("example", "engines", "ada-1", "spring", "somerville", "cus_4", "tur-9", "zz"):
        api_ids = ids(client.get("/api/v1/leads/", {"search": term}))
        page = browser.get("/dashboard/referrals/", {"q": term}).context["page"]
        assert api_ids == [lead.pk for lead in page.items], term
