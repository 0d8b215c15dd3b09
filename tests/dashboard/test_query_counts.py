"""Every list runs a fixed number of queries, whatever its page size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from referralhub.models import Person, Reward
from referralhub.people import people_sync, person_merge
from tests.conftest import make_staff
from tests.factories import (
    CampaignFactory,
    ConversionFactory,
    DeliveryFactory,
    LeadFactory,
    PromoterFactory,
    PromotionFactory,
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
    "/dashboard/people/": 7,  # the first view also creates the people: one insert
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
    people_sync()  # else the first view also creates the promoter's person: two more queries
    with django_assert_max_num_queries(10):
        response = as_alice.get(f"/dashboard/promoters/{promoter.pk}/")
    assert response.status_code == 200


@pytest.mark.parametrize("days", [7, 90])
def test_it_renders_the_overview_with_a_fixed_number_of_queries(
    as_alice: Client, many, django_assert_max_num_queries, days: int
) -> None:
    with django_assert_max_num_queries(17):
        assert as_alice.get("/dashboard/", {"days": days}).status_code == 200


@pytest.mark.parametrize("size", [25, 100])
def test_it_lists_people_at_several_providers_with_a_fixed_number_of_queries(
    as_alice: Client, many, django_assert_max_num_queries, size: int
) -> None:
    for promoter in PromoterFactory._meta.model.objects.all():
        PromoterFactory(email=promoter.email.upper(), provider="referralrocket")
    people_sync()
    staff = make_staff("mallory", "referralhub.merge_person")
    first, second = Person.objects.order_by("key")[:2]
    person_merge(person=second, into=first, actor=staff)

    # The list's 6, and the search word looked up in promoters and in promotions (search.py).
    with django_assert_max_num_queries(8):
        response = as_alice.get("/dashboard/people/", {"size": str(size), "q": "example"})

    assert len(response.context["rows"]) == size
    assert len(response.context["rows"][0].promoters) == 4


@pytest.mark.parametrize("related", [5, 60])
def test_it_renders_a_persons_page_with_a_fixed_number_of_queries(
    as_alice: Client, db, django_assert_max_num_queries, related: int
) -> None:
    promoters = [
        PromoterFactory(email="same@example.com", provider=provider)
        for provider in ("firstpromoter", "invitereferrals", "referralrocket")
    ]
    for n in range(related):
        promoter = promoters[n % 3]
        lead = LeadFactory(unlinked=True, promoter=promoter)
        RewardFactory(unlinked=True, promoter=promoter, lead=lead, currency=["USD", "EUR"][n % 2])
        PromotionFactory(promoter=promoter)
    people_sync()
    person = Person.objects.get()

    # Session, user, the people sync, the person, the merge permission (2), then one query for
    # each kind of row: promoters, merged and look-alike people, promotions, leads, rewards,
    # totals, payouts, and the history (with its content type, unless cached).
    with django_assert_max_num_queries(16):
        response = as_alice.get(f"/dashboard/people/{person.pk}/")

    assert response.status_code == 200
    assert len(response.context["totals"]) == 2
