"""Changelist rows rendered once per column (referralhub.admin.rows) are Django's rows, links
included: same HTML, same object pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.contrib.admin.utils import quote
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from referralhub.admin.base import datetime_column
from referralhub.admin.rows import cached_change_urls, change_url, lean_result_list
from referralhub.models import Lead, Promoter, Reward
from tests.admin.conftest import MODELS, WEBHOOK_MODELS, admin_url

PAGES = [("referralhub", name) for name in MODELS] + [("webhooks", name) for name in WEBHOOK_MODELS]
QUERIES = ["", "?o=-2"]  # the second keeps its query in every row link (preserved filters)


def _change(model: type[Model], pk: int) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(("app", "name"), PAGES, ids=[p[1] for p in PAGES])
@pytest.mark.parametrize("query", QUERIES)
def test_it_renders_the_rows_django_renders(root_client: Client, app: str, name: str, query: str):
    response = root_client.get(admin_url(app, name) + query)
    assert response.status_code == 200
    cl = response.context["cl"]
    django_rows = ["".join(items_for_result(cl, obj, None)) for obj in cl.result_list]
    with cached_change_urls():
        lean = lean_result_list(cl)
    if not django_rows:
        assert lean is None
        return
    assert lean is not None
    assert [row[0] for row in lean["results"]] == django_rows
    html = response.content.decode()
    assert all(row in html for row in django_rows)


@pytest.mark.django_db
def test_it_renders_the_action_checkbox_django_renders():
    lead = Lead.objects.create(provider="firstpromoter", external_id="1", email='a"<b>&c@x.io')
    model_admin = admin.site._registry[Lead]
    assert model_admin.action_checkbox(lead) == admin.ModelAdmin.action_checkbox(model_admin, lead)


@pytest.mark.usefixtures("demo")
def test_it_links_each_reward_to_its_page_promoter_and_lead(root_client: Client):
    html = root_client.get(admin_url("referralhub", "reward")).content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    rewards = Reward.objects.order_by("-id")
    assert len(rows) == rewards.count()
    for row, reward in zip(rows, rewards, strict=True):
        links = re.findall(r'<(?:th|td) class="field-(\w+)[^"]*"><a href="([^"]+)"', row)
        expected = [("external_id", _change(Reward, reward.pk))]
        if reward.promoter_id:
            expected.append(("promoter_link", _change(Promoter, reward.promoter_id)))
        if reward.lead_id:
            expected.append(("lead_link", _change(Lead, reward.lead_id)))
        assert links == expected


@pytest.mark.usefixtures("demo")
def test_it_keeps_the_filters_in_each_rows_link(root_client: Client):
    html = root_client.get(admin_url("referralhub", "lead"), {"provider": "firstpromoter"})
    lead = Lead.objects.filter(provider="firstpromoter").first()
    assert lead is not None
    back = "_changelist_filters=provider%3Dfirstpromoter"
    assert f'<a href="{_change(Lead, lead.pk)}?{back}">' in html.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("pk", [7, 12345678901, "a/b_c:d"])
def test_it_makes_the_change_urls_reverse_makes(pk: int | str):
    opts = Lead._meta
    expected = reverse("admin:referralhub_lead_change", args=[quote(pk)])
    assert change_url(opts, pk) == expected
    with cached_change_urls():
        assert [change_url(opts, pk), change_url(opts, pk)] == [expected, expected]


def test_a_timestamp_keeps_its_date_and_its_time_whole_but_may_wrap_between_them(settings):
    settings.TIME_ZONE = "UTC"
    column = datetime_column("created")
    lead = Lead(created=datetime(2026, 12, 1, 10, 47, tzinfo=UTC))
    assert column(None, lead) == (
        '<span class="rh-nowrap">2026-12-01</span> <span class="rh-nowrap">10:47</span>'
    )
    # A row without its date (never saved), to see what the column shows for a missing one.
    assert column(None, Lead(created=None)) == "—"  # type: ignore[misc]
