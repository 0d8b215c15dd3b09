"""Changelist rows link to the right object pages and show timestamps compactly."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from referralhub.admin.base import datetime_column
from referralhub.models import Lead, Promoter, Reward
from tests.admin.conftest import admin_url


def _change(model: type[Model], pk: int) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


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


def test_a_timestamp_keeps_its_date_and_its_time_whole_but_may_wrap_between_them(settings):
    settings.TIME_ZONE = "UTC"
    column = datetime_column("created")
    lead = Lead(created=datetime(2026, 12, 1, 10, 47, tzinfo=UTC))
    assert column(None, lead) == (
        '<span class="rh-nowrap">2026-12-01</span> <span class="rh-nowrap">10:47</span>'
    )
    # A row without its date (never saved), to see what the column shows for a missing one.
    assert column(None, Lead(created=None)) == "—"  # type: ignore[misc]
