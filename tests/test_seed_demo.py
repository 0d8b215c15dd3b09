"""`manage.py seed_demo`: realistic data in bulk; it refuses to pile onto existing data."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Model
from django.utils import timezone

from referralhub.models import Campaign, Conversion, Lead, Promoter, Promotion, Reward
from webhooks.models import WebhookDelivery


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, "--no-progress", stdout=out)
    return out.getvalue()


def counts(model: type[Model], field: str) -> dict[str, int]:
    rows = model._default_manager.values(field).annotate(n=Count("id"))
    return {row[field]: row["n"] for row in rows}


@pytest.mark.django_db
def test_it_creates_the_asked_numbers_in_batches() -> None:
    output = seed("--leads", "1200", "--promoters", "40", "--rewards", "300", "--batch-size", "250")

    assert Lead.objects.count() == 1200
    assert Promoter.objects.count() == 40
    assert Reward.objects.count() == 300
    assert WebhookDelivery.objects.count() == 60  # leads / 20 by default
    assert "Seeded 40 promoters, 1200 leads, 300 rewards" in output


@pytest.mark.django_db
def test_it_spreads_realistic_distributions() -> None:
    seed("--leads", "3000", "--seed", "7")

    assert set(counts(Lead, "provider")) == {"firstpromoter", "referralrocket", "invitereferrals"}
    states = counts(Lead, "state")
    assert states["signup"] > states["active"] > states["cancelled"] > 0
    assert counts(Lead, "suspicion")["no_suspicion"] > 2500
    assert Lead.objects.filter(suspicion="same_ip_suspicion").exists()
    # Every lead's promoter is of its own provider, and customers have a customer_since.
    assert not Lead.objects.exclude(promoter__provider=F("provider")).exists()
    assert not Lead.objects.filter(state="active", customer_since=None).exists()
    now = timezone.now()
    oldest = Lead.objects.order_by("created").first()
    assert oldest is not None
    assert now - timedelta(days=121) < oldest.created < now - timedelta(days=90)
    assert Lead.objects.filter(created__gt=now - timedelta(days=7)).exists()
    # Nothing is dated in the future, and dates do not pile up on one moment (lists ordered by
    # date would otherwise scan thousands of ties).
    for model, field in ((Lead, "customer_since"), (Reward, "created"), (Reward, "fulfilled_at")):
        assert not model.objects.filter(**{f"{field}__gt": now}).exists()
        top = model.objects.exclude(**{field: None}).values(field).annotate(n=Count("id"))
        assert max(row["n"] for row in top) <= 3

    assert set(counts(Reward, "status")) == {"pending", "approved", "denied"}
    assert set(counts(Reward, "unit")) == {"cash", "free_months", "credits"}
    assert Reward.objects.filter(fulfilment="pending", fulfilment_request_count__gte=1).exists()
    assert not Reward.objects.filter(status="pending").exclude(decided_at=None).exists()
    assert Reward.objects.filter(unit="cash").exclude(currency="USD").count() == 0

    assert Promotion.objects.filter(promoter__provider="firstpromoter").exists()
    assert Conversion.objects.filter(lead__provider="invitereferrals").exists()
    assert Campaign.objects.count() == 7
    delivery_statuses = counts(WebhookDelivery, "status")
    assert delivery_statuses["processed"] > delivery_statuses.get("failed", 0) > 0


@pytest.mark.django_db
def test_it_refuses_when_leads_exist_and_adds_with_add() -> None:
    seed("--leads", "100")

    with pytest.raises(CommandError, match="--add"):
        seed("--leads", "100")
    assert Lead.objects.count() == 100

    seed("--leads", "50", "--add")
    assert Lead.objects.count() == 150
    assert Promoter.objects.count() == 40


@pytest.mark.django_db
def test_it_refuses_nonsense_counts() -> None:
    with pytest.raises(CommandError, match="positive"):
        seed("--leads", "-1")
    assert not Lead.objects.exists()
