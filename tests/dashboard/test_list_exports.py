"""Every list's "Download CSV": what its filters select, every page, formula-safe, streamed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.exports import cell
from referralhub.models import Reward
from tests.conftest import make_staff
from tests.factories import (
    CommissionPushFactory,
    DeliveryFactory,
    EventDeliveryFactory,
    EventSubscriptionFactory,
    LeadFactory,
    PromoterFactory,
    RewardFactory,
)

MANAGER = "referralhub.manage_eventsubscription"


def download(client: Client, url: str, **query: Any) -> list[list[str]]:
    response = client.get(url, {**query, "export": "csv"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = response.getvalue().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def listed_ids(client: Client, url: str, **query: Any) -> list[int]:
    """The rows the list's pages show, page after page."""
    ids, number = [], 1
    while True:
        page = client.get(url, {**query, "size": 25, "page": number}).context["page"]
        ids += [row.pk for row in page.items]
        if not page.has_next:
            return ids
        number += 1


def column(rows: list[list[str]], header: str) -> list[str]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def test_the_referrals_export_holds_every_page_the_filters_select(as_alice: Client) -> None:
    for i in range(60):
        LeadFactory(unlinked=True, provider="firstpromoter" if i % 3 else "referralrocket")
    LeadFactory(unlinked=True, provider="invitereferrals")
    query = {"provider": "firstpromoter", "sort": "email"}

    rows = download(as_alice, "/dashboard/referrals/", **query)

    shown = listed_ids(as_alice, "/dashboard/referrals/", **query)
    assert len(shown) == 40  # two pages of 25
    assert [int(pk) for pk in column(rows, "Lead")] == shown
    assert set(column(rows, "Provider")) == {"FirstPromoter"}


def test_the_search_narrows_the_export_as_it_narrows_the_list(as_alice: Client) -> None:
    LeadFactory(unlinked=True, email="wanted@example.org")
    LeadFactory(unlinked=True, email="other@example.org")

    rows = download(as_alice, "/dashboard/referrals/", q="wanted")

    assert column(rows, "Email") == ["wanted@example.org"]


def test_the_export_writes_headers_in_words_dates_and_amounts(as_alice: Client, settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    promoter = PromoterFactory(first_name="Ann", last_name="Lee", email="ann@example.org")
    RewardFactory(
        unlinked=True,
        promoter=promoter,
        amount=Decimal("12.50"),
        currency="EUR",
        provider_created_at=datetime(2026, 6, 30, 22, 30, tzinfo=UTC),
    )

    rows = download(as_alice, "/dashboard/rewards/approvals/")

    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Amount"] == "12.50"
    assert record["Currency"] == "EUR"
    assert record["Promoter"] == "Ann Lee"
    assert record["Promoter's email"] == "ann@example.org"
    assert record["Created"] == "2026-07-01 00:30:00"  # the hub's zone, the pages' format


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "a;=1+1", "\t=1"]
)
def test_every_cell_is_formula_neutral(as_alice: Client, text: str) -> None:
    LeadFactory(unlinked=True, name=text, email="")

    rows = download(as_alice, "/dashboard/referrals/")

    assert column(rows, "Name") == [cell(text)]
    assert not any(
        part.startswith(("=", "+", "-", "@")) for part in column(rows, "Name")[0].split(";")
    )


def test_cell_writes_nothing_for_none_and_yes_no_for_booleans() -> None:
    assert cell(None) == ""
    assert cell(True) == "yes"
    assert cell(Decimal("1.50")) == "1.50"
    assert cell("=1+1") == "'=1+1"


def test_a_filter_it_cannot_read_refuses_the_export(as_alice: Client) -> None:
    LeadFactory(unlinked=True)

    response = as_alice.get(
        "/dashboard/referrals/", {"signed_up_from": "not a date", "export": "csv"}, follow=True
    )

    assert not response.streaming
    assert response.redirect_chain[-1][0] == "/dashboard/referrals/?signed_up_from=not+a+date"
    assert "Nothing was exported" in response.content.decode()


LISTS = [
    "/dashboard/referrals/",
    "/dashboard/promoters/",
    "/dashboard/rewards/approvals/",
    "/dashboard/rewards/fulfilments/",
    "/dashboard/deliveries/",
    "/dashboard/firstpromoter/sync/",
]


def _rows(count: int, fp_endpoint) -> None:
    for _ in range(count):
        reward = RewardFactory(
            status=Reward.Status.APPROVED,
            fulfilment=Reward.Fulfilment.PENDING,
            fulfilment_requested_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        RewardFactory(lead=reward.lead)
        DeliveryFactory(endpoint=fp_endpoint)
        CommissionPushFactory(reward=reward, endpoint=fp_endpoint)


@pytest.mark.parametrize("url", LISTS)
def test_an_export_runs_as_many_queries_for_many_rows_as_for_few(
    as_alice: Client, fp_endpoint, url: str
) -> None:
    def queries_and_rows() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            rows = download(as_alice, url)
        return len(captured), len(rows) - 1

    _rows(2, fp_endpoint)
    few = queries_and_rows()
    _rows(30, fp_endpoint)
    many = queries_and_rows()

    assert many[1] > few[1] >= 2
    assert many[0] == few[0]


def test_the_event_lists_export_their_rows_without_the_urls_path(db, client: Client) -> None:
    manager = make_staff("mia", MANAGER)
    client.force_login(manager)
    subscription = EventSubscriptionFactory(
        url="https://hooks.example.com/in?token=s3cret", events=["lead.created"]
    )
    EventDeliveryFactory(subscription=subscription, status="failed", last_status_code=500)
    EventDeliveryFactory(subscription=subscription, status="delivered")

    listed = download(client, "/dashboard/events/")
    deliveries = download(client, f"/dashboard/events/{subscription.pk}/", status="failed")

    assert column(listed, "Site") == ["https://hooks.example.com"]
    assert "s3cret" not in str(listed)
    assert column(listed, "Events") == ["lead.created"]
    assert column(deliveries, "Status") == ["Failed"]
    assert column(deliveries, "Last answer") == ["500"]


@pytest.mark.parametrize(
    ("url", "needs"),
    [
        ("/dashboard/firstpromoter/sync/", "referralhub.view_reward"),
        ("/dashboard/events/", MANAGER),
    ],
)
def test_an_export_is_refused_to_whom_its_list_is_refused(
    db, client: Client, url: str, needs: str
) -> None:
    CommissionPushFactory()
    EventSubscriptionFactory()
    client.force_login(make_staff("sam"))  # staff, without the permission

    refused = client.get(url, {"export": "csv"})

    assert refused.status_code == 403
    assert not refused.streaming
    client.force_login(make_staff("pat", needs))
    assert client.get(url, {"export": "csv"}).streaming


@pytest.mark.parametrize("url", [*LISTS, "/dashboard/people/"])
def test_an_export_is_refused_to_people_who_are_not_staff(client: Client, carol, url) -> None:
    assert client.get(url, {"export": "csv"}).status_code == 302  # to the login page
    client.force_login(carol)
    assert client.get(url, {"export": "csv"}).status_code == 403


@pytest.mark.parametrize("url", [*LISTS, "/dashboard/events/", "/dashboard/people/"])
def test_every_list_links_to_its_export_with_its_filters(db, client: Client, url: str) -> None:
    client.force_login(make_staff("max", "referralhub.view_reward", MANAGER))

    page = client.get(url, {"provider": "firstpromoter", "page": "2"}).content.decode()

    assert "Download CSV" in page
    if url not in ("/dashboard/events/", "/dashboard/people/"):
        assert "provider=firstpromoter&amp;export=csv" in page


def test_the_people_export_holds_every_page_with_each_persons_promoters(as_alice: Client) -> None:
    for i in range(30):
        PromoterFactory(email=f"person{i:02d}@example.org", company_name="=cmd|' /C calc'!A0")
    PromoterFactory(provider="referralrocket", email="PERSON00@example.org", code="RR00")

    rows = download(as_alice, "/dashboard/people/")

    assert [int(pk) for pk in column(rows, "Person")] == listed_ids(as_alice, "/dashboard/people/")
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Address"] == "person00@example.org"
    assert first["Providers"] == "FirstPromoter, Referral Rocket"
    assert first["Promoter records"] == "2"
    assert first["Company"].startswith("'=")


def test_the_people_export_builds_rows_with_a_fixed_number_of_queries(as_alice: Client) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            download(as_alice, "/dashboard/people/")
        return len(captured)

    for i in range(2):
        PromoterFactory(email=f"few{i}@example.org")
    download(as_alice, "/dashboard/people/")  # the list files new promoters under people first
    few = queries()
    for i in range(25):
        PromoterFactory(email=f"many{i}@example.org")
    download(as_alice, "/dashboard/people/")
    assert queries() == few
