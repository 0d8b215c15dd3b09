"""Page numbers for small tables, cursors for big ones, and a query count that ignores page size."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ConversionFactory, DeliveryFactory, LeadFactory, RewardFactory


@pytest.fixture
def client(api, olga):
    return api(olga)


def test_it_pages_by_number(client):
    ConversionFactory.create_batch(5)
    first = client.get("/api/v1/conversions/?page_size=2").json()
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert "page=2" in first["next"]
    last = client.get("/api/v1/conversions/?page_size=2&page=3").json()
    assert len(last["results"]) == 1
    assert last["next"] is None
    seen = {
        r["id"]
        for p in (1, 2, 3)
        for r in client.get(f"/api/v1/conversions/?page_size=2&page={p}").json()["results"]
    }
    assert len(seen) == 5


def test_it_answers_404_past_the_last_page(client):
    ConversionFactory()
    response = client.get("/api/v1/conversions/?page=2")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=abc", "page=-1", "page=1e400", "page_size=0", "page_size=101", "page_size=x"],
)
def test_it_refuses_bad_page_parameters_with_400(client, query):
    ConversionFactory()
    response = client.get(f"/api/v1/conversions/?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert client.get(f"/api/v1/leads/?{query}").status_code in (400, 200)  # leads: no `page`


def test_it_walks_leads_with_a_cursor_and_is_stable_under_inserts(client):
    created = LeadFactory.create_batch(5)
    url = "/api/v1/leads/?page_size=2"
    seen: list[int] = []
    while url:
        body = client.get(url).json()
        assert "count" not in body  # no COUNT(*) over a million rows
        seen += [row["id"] for row in body["results"]]
        if len(seen) == 2:
            LeadFactory()  # arrives mid-walk: newer, so it belongs before the cursor
        url = body["next"]
    assert seen == sorted((lead.pk for lead in created), reverse=True)


def test_it_walks_rewards_and_deliveries_with_cursors(client):
    RewardFactory.create_batch(3)
    DeliveryFactory.create_batch(3)
    for name in ("rewards", "deliveries"):
        first = client.get(f"/api/v1/{name}/?page_size=2").json()
        assert len(first["results"]) == 2
        second = client.get(first["next"]).json()
        assert len(second["results"]) == 1
        back = client.get(second["previous"]).json()
        assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        base64.b64encode(b"p=not-a-date").decode(),
        base64.b64encode(b"p=2026-01-01%00").decode(),
        base64.b64encode(b"o=-5").decode(),
        base64.b64encode(b"p=0001-01-01+00%3A00%3A00%2B14%3A00").decode(),
        "%C3%A9",
    ],
)
def test_it_refuses_a_forged_cursor_with_400(client, cursor):
    LeadFactory()
    for name in ("leads", "rewards", "deliveries"):
        response = client.get(f"/api/v1/{name}/?cursor={cursor}")
        assert response.status_code == 400, (name, response.content)
        assert response.json()["detail"]["cursor"]


def test_it_refuses_a_cursor_position_that_does_not_fit_the_ordering(client):
    LeadFactory()
    cursor = base64.b64encode(b"p=abc").decode()
    assert client.get(f"/api/v1/leads/?ordering=id&cursor={cursor}").status_code == 400


LISTS = [
    "/api/v1/campaigns/",
    "/api/v1/promoters/",
    "/api/v1/promotions/",
    "/api/v1/leads/",
    "/api/v1/conversions/",
    "/api/v1/rewards/",
    "/api/v1/deliveries/",
]


@pytest.mark.parametrize("url", LISTS)
def test_it_runs_as_many_queries_for_50_rows_as_for_1(client, url, django_assert_max_num_queries):
    for _ in range(12):
        RewardFactory(decided_by=None)
        ConversionFactory()
        DeliveryFactory()
    with CaptureQueriesContext(connection) as small:
        assert len(client.get(f"{url}?page_size=1").json()["results"]) == 1
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(f"{url}?page_size=50").json()["results"]) >= 12


def test_it_reads_a_cursor_position_with_any_utc_offset(client):
    """PostgreSQL refuses offsets beyond ±15:59 that Python accepts: the position is made UTC."""
    leads = LeadFactory.create_batch(2)
    cursor = base64.b64encode(b"p=5078-06-12+01%3A34%3A56%2B18%3A49").decode()
    response = client.get(f"/api/v1/leads/?cursor={cursor}")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [leads[1].pk, leads[0].pk]
