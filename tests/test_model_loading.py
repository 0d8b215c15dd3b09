"""Rows loaded without Model.__init__ (referralhub.models.base.LoadsWithoutInit) are the rows
Django's own from_db builds: same attributes, same state, deferred fields still load."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import models
from django.db.models.signals import post_init

from referralhub.models import Campaign, Conversion, Lead, Promoter, Promotion, Reward, RewardRule
from referralhub.models.base import LoadsWithoutInit
from webhooks.models import WebhookDelivery

MODELS = [Campaign, Promoter, Promotion, Lead, Conversion, Reward, RewardRule, WebhookDelivery]


@pytest.fixture
def demo(db) -> None:
    call_command("load_demo", stdout=io.StringIO())


def _django_load(model: type[models.Model], queryset: models.QuerySet) -> list[models.Model]:
    """The same query, through Django's from_db (and so Model.__init__)."""
    original = LoadsWithoutInit.__dict__["from_db"]
    del LoadsWithoutInit.from_db
    try:
        assert model.from_db.__func__ is models.Model.from_db.__func__
        return list(queryset.all())
    finally:
        LoadsWithoutInit.from_db = original


def _same(fast: models.Model, django: models.Model) -> None:
    assert type(fast) is type(django)
    assert {k: v for k, v in vars(fast).items() if k != "_state"} == {
        k: v for k, v in vars(django).items() if k != "_state"
    }
    assert (fast._state.adding, fast._state.db) == (django._state.adding, django._state.db)
    assert fast._state.fields_cache.keys() == django._state.fields_cache.keys()


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_a_whole_row_is_the_row_django_builds(model: type[models.Model]) -> None:
    queryset = model.objects.order_by("pk")
    fast = list(queryset)
    assert fast
    for a, b in zip(fast, _django_load(model, queryset), strict=True):
        _same(a, b)


@pytest.mark.usefixtures("demo")
def test_deferred_and_related_rows_are_the_rows_django_builds() -> None:
    queryset = (
        Reward.objects.select_related("promoter", "lead")
        .only("status", "promoter__email", "lead__suspicion")
        .order_by("pk")
    )
    fast = list(queryset)
    for a, b in zip(fast, _django_load(Reward, queryset), strict=True):
        _same(a, b)
        if a.promoter_id:
            _same(a.promoter, b.promoter)
    reward = fast[0]
    assert reward.get_deferred_fields() >= {"amount", "payload"}
    assert reward.amount == Reward.objects.get(pk=reward.pk).amount  # loads on access
    reward.status = "approved"
    reward.save(update_fields=["status"])  # an instance that saves as usual
    assert Reward.objects.get(pk=reward.pk).status == "approved"


@pytest.mark.usefixtures("demo")
def test_it_keeps_djangos_path_for_post_init_receivers() -> None:
    seen: list[int] = []

    def receiver(sender, instance, **kwargs) -> None:
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Lead)
    try:
        pks = [lead.pk for lead in Lead.objects.order_by("pk")]
    finally:
        post_init.disconnect(receiver, sender=Lead)
    assert seen == pks
