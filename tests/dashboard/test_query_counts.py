"""Every list runs a fixed number of queries, whatever its page size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from referralhub.models import Reward
from tests.factories import (
    CampaignFactory,
    ConversionFactory,
    DeliveryFactory,
    LeadFactory,
    PromoterFactory,
    RewardFactory,
)

ROWS = 120
# Session, user, the user's permissions (2), the page's own queries.
MAX_QUERIES = {
    "/dashboard/referrals/": 6,
    "/dashboard/promoters/": 6,
    "/dashboard/rewards/approvals/": 6,
    "/dashboard/rewards/fulfilments/": 6,
    "/dashboard/deliveries/": 4,
}


@pytest.fixture
def many(db, fp_endpoint) -> None:
    campaign = CampaignFactory(unlinked=True)
    now = timezone.now()
    for i in range(ROWS):
        promoter = PromoterFactory(campaign=campaign)
        lead = LeadFactory(
            unlinked=True, promoter=promoter, campaign=campaign, suspicion="same_ip_suspicion"
        )
        RewardFactory(unlinked=True, promoter=promoter, lead=lead, campaign=campaign)
        RewardFactory(
            unlinked=True,
            promoter=promoter,
            lead=lead,
            status=Reward.Status.APPROVED,
            fulfilment=Reward.Fulfilment.PENDING,
            fulfilment_requested_at=now - timedelta(minutes=i),
        )
        DeliveryFactory(endpoint=fp_endpoint)


@pytest.mark.parametrize("url", list(MAX_QUERIES))
@pytest.mark.parametrize("size", [25, 100])
def test_it_runs_a_fixed_number_of_queries_per_list(
    as_alice: Client, many, django_assert_max_num_queries, url: str, size: int
) -> None:
    with django_assert_max_num_queries(MAX_QUERIES[url]):
        response = as_alice.get(url, {"size": size})
    assert len(response.context["page"].items) == size


@pytest.mark.parametrize("size", [25, 100])
def test_it_filters_referrals_with_a_fixed_number_of_queries(
    as_alice: Client, many, django_assert_max_num_queries, size: int
) -> None:
    promoter = PromoterFactory()
    for _ in range(size):
        LeadFactory(unlinked=True, promoter=promoter)
    with django_assert_max_num_queries(7):
        response = as_alice.get(
            "/dashboard/referrals/", {"size": str(size), "promoter": str(promoter.pk), "q": "lead"}
        )
    assert len(response.context["page"].items) == size


@pytest.mark.parametrize("related", [5, 60])
def test_it_renders_a_promoter_page_with_a_fixed_number_of_queries(
    as_alice: Client, db, django_assert_max_num_queries, related: int
) -> None:
    promoter = PromoterFactory()
    for _ in range(related):
        lead = LeadFactory(
            unlinked=True, promoter=promoter, campaign=CampaignFactory(unlinked=True)
        )
        RewardFactory(unlinked=True, promoter=promoter, lead=lead)
        ConversionFactory(promoter=promoter, lead=lead)
    with django_assert_max_num_queries(9):
        response = as_alice.get(f"/dashboard/promoters/{promoter.pk}/")
    assert response.status_code == 200


@pytest.mark.parametrize("days", [7, 90])
def test_it_renders_the_overview_with_a_fixed_number_of_queries(
    as_alice: Client, many, django_assert_max_num_queries, days: int
) -> None:
    with django_assert_max_num_queries(17):
        assert as_alice.get("/dashboard/", {"days": days}).status_code == 200
