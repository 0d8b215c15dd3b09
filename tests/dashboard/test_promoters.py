"""The promoters list: search, provider and campaign filters, pages without counting."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from referralhub.models import Promotion
from tests.factories import CampaignFactory, PromoterFactory

URL = reverse("dashboard:promoters")


@pytest.fixture
def promoters(db) -> dict:
    spring = CampaignFactory(unlinked=True, name="Spring")
    rocket = CampaignFactory(unlinked=True, name="Rocket launch")
    ada = PromoterFactory(first_name="Ada", last_name="Lovelace", company_name="Engines Ltd")
    Promotion.objects.create(
        provider="firstpromoter", external_id="m1", promoter=ada, campaign=spring, ref_id="ada-1"
    )
    grace = PromoterFactory(
        provider="referralrocket",
        first_name="Grace",
        last_name="Hopper",
        campaign=rocket,
        code="COBOL-59",
    )
    linus = PromoterFactory(provider="invitereferrals", first_name="Linus", last_name="T")
    return {"ada": ada, "grace": grace, "linus": linus, "spring": spring, "rocket": rocket}


def shown(client: Client, **query) -> list[str]:
    response = client.get(URL, query)
    assert response.status_code == 200
    return [p.display_name for p in response.context["page"].items]


def test_it_lists_promoters_newest_first_linking_to_their_pages(as_bob: Client, promoters):
    response = as_bob.get(URL)
    assert shown(as_bob) == ["Linus T", "Grace Hopper", "Ada Lovelace"]
    html = response.content.decode()
    for promoter in (promoters["ada"], promoters["grace"]):
        assert f'href="{reverse("dashboard:promoter", args=[promoter.pk])}"' in html
        assert f"?promoter={promoter.pk}" in html  # their referrals
    for text in ("Engines Ltd", "COBOL-59", "Spring", "Rocket launch", "Referral Rocket"):
        assert text in html, text


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"q": "lovelace"}, ["Ada Lovelace"]),
        ({"q": "ENGINES"}, ["Ada Lovelace"]),  # the company
        ({"q": "ada-1"}, ["Ada Lovelace"]),  # a promotion's ref id
        ({"q": "cobol"}, ["Grace Hopper"]),  # the referral code
        ({"q": "grace hopper"}, ["Grace Hopper"]),
        ({"q": "example.com"}, ["Linus T", "Grace Hopper", "Ada Lovelace"]),
        ({"q": "nobody"}, []),
        ({"provider": "invitereferrals"}, ["Linus T"]),
        ({"provider": "referralrocket", "q": "ada"}, []),
    ],
)
def test_it_searches_and_filters(as_bob: Client, promoters, query, names) -> None:
    assert shown(as_bob, **query) == names


def test_the_campaign_filter_reads_promotions_and_the_promoters_own_campaign(
    as_bob: Client, promoters
) -> None:
    assert shown(as_bob, campaign=promoters["spring"].pk) == ["Ada Lovelace"]  # a promotion
    assert shown(as_bob, campaign=promoters["rocket"].pk) == ["Grace Hopper"]  # its own


def test_it_explains_a_search_too_long_and_ignores_it(as_bob: Client, promoters) -> None:
    response = as_bob.get(URL, {"q": " ".join("abcdefghijk")})
    assert "At most 100 characters and 10 words." in response.content.decode()
    assert len(response.context["page"].items) == 3


def test_it_pages_by_fetching_one_row_more_and_never_counts(as_bob: Client, db) -> None:
    for _ in range(30):
        PromoterFactory()
    with CaptureQueriesContext(connection) as queries:
        first = as_bob.get(URL, {"size": 25})
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert [len(first.context["page"].items), first.context["page"].has_next] == [25, True]
    second = as_bob.get(URL, {"size": 25, "page": 2})
    assert [len(second.context["page"].items), second.context["page"].has_next] == [5, False]
    assert 'rel="prev"' in second.content.decode()


@pytest.mark.parametrize("size", [25, 200])
def test_it_runs_a_fixed_number_of_queries_whatever_the_page_size(
    as_bob: Client, db, django_assert_max_num_queries, size: int
) -> None:
    campaign = CampaignFactory(unlinked=True)
    for i in range(size + 1):
        promoter = PromoterFactory(campaign=campaign if i % 2 else None)
        Promotion.objects.create(
            provider="firstpromoter", external_id=f"q{i}", promoter=promoter, campaign=campaign
        )
    # Session, user, the promotions the word finds, the campaign choices, the promoters, and
    # their promotions with their campaigns.
    with django_assert_max_num_queries(6):
        response = as_bob.get(URL, {"size": str(size), "q": "promoter"})
    assert len(response.context["page"].items) == size
