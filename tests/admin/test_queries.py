"""Changelists run a fixed number of queries and never count a whole large table."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from referralhub.admin.paging import EstimatedCountPaginator
from tests.admin.conftest import MODELS, WEBHOOK_MODELS, admin_url
from tests.factories import rows_of_every_model

PAGES = [("referralhub", name, model) for name, model in MODELS.items()] + [
    ("webhooks", name, model) for name, model in WEBHOOK_MODELS.items()
]
TUNED = [
    ("referralhub", "lead"),
    ("referralhub", "reward"),
    ("referralhub", "promoter"),
    ("referralhub", "conversion"),
    ("webhooks", "webhookdelivery"),
]
MAX_QUERIES = 12


def _counts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize(("app", "name", "model"), PAGES, ids=[p[1] for p in PAGES])
def test_it_runs_the_same_queries_for_5_and_50_rows(
    root: User, root_client: Client, django_assert_max_num_queries, app, name, model
):
    url = admin_url(app, name)
    rows_of_every_model(5, actor=root)
    root_client.get(url)  # warm caches (content types, session) out of the measurement
    with CaptureQueriesContext(connection) as few:
        assert root_client.get(url).status_code == 200
    rows_of_every_model(45, actor=root)
    with django_assert_max_num_queries(MAX_QUERIES) as many:
        response = root_client.get(url)
    assert len(response.context["cl"].result_list) == model.objects.count() >= 50
    assert len(many.captured_queries) == len(few.captured_queries), [
        q["sql"] for q in many.captured_queries
    ]


@pytest.mark.parametrize(("app", "name"), TUNED)
@pytest.mark.parametrize("query", ["", "?provider=firstpromoter", "?q=ref1"])
def test_it_stops_counting_rows_past_the_exact_limit(
    root: User, root_client: Client, monkeypatch, app, name, query
):
    rows_of_every_model(5, actor=root)
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 3)
    response = root_client.get(admin_url(app, name) + query)
    assert response.status_code == 200
    changelist = response.context["cl"]
    matching = changelist.queryset.count()  # counted here, in full, to compare with
    assert changelist.full_result_count is None  # no count of the unfiltered table either
    assert changelist.paginator.count == min(matching, 4)
    assert changelist.paginator.count_is_capped == (matching > 3)


def test_it_says_more_than_when_the_count_is_capped(root: User, root_client: Client, monkeypatch):
    rows_of_every_model(5, actor=root)
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 3)
    response = root_client.get(admin_url("referralhub", "lead") + "?provider=firstpromoter")
    assert response.status_code == 200
    assert "more than 3 leads" in " ".join(response.content.decode().split())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner estimates are PostgreSQL's")
@pytest.mark.parametrize(("app", "name"), TUNED)
def test_it_trusts_the_planner_estimate_on_a_large_unfiltered_table(
    root: User, root_client: Client, monkeypatch, app, name
):
    rows_of_every_model(5, actor=root)
    model = {**MODELS, **WEBHOOK_MODELS}[name]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 3)
    with CaptureQueriesContext(connection) as queries:
        response = root_client.get(admin_url(app, name))
    assert response.status_code == 200
    assert _counts(queries) == []
    assert response.context["cl"].paginator.count_is_estimate
    html = " ".join(response.content.decode().split())
    assert f"about {model._default_manager.count()} {model._meta.verbose_name_plural}" in html
