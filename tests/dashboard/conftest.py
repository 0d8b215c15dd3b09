"""Dashboard fixtures: rows made directly with the ORM, and users of each kind."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from referralhub.models import Campaign, Conversion, Lead, Promoter, Reward
from tests.conftest import make_staff
from webhooks.models import WebhookDelivery, WebhookEndpoint

_ids = itertools.count(1)


def next_id() -> str:
    return str(next(_ids))


def make_campaign(**values: Any) -> Campaign:
    values.setdefault("name", "Partner program")
    return Campaign.objects.create(provider="firstpromoter", external_id=next_id(), **values)


def make_promoter(**values: Any) -> Promoter:
    n = next_id()
    values.setdefault("provider", "firstpromoter")
    values.setdefault("email", f"promoter{n}@partners.example.com")
    values.setdefault("first_name", "Ada")
    values.setdefault("last_name", f"Promoter{n}")
    return Promoter.objects.create(external_id=n, **values)


def make_lead(promoter: Promoter | None = None, **values: Any) -> Lead:
    n = next_id()
    values.setdefault("provider", "firstpromoter")
    values.setdefault("email", f"lead{n}@customers.example.com")
    values.setdefault("state", "signup")
    values.setdefault("provider_created_at", timezone.now() - timedelta(days=1))
    return Lead.objects.create(external_id=n, promoter=promoter, **values)


def make_reward(
    promoter: Promoter | None = None, lead: Lead | None = None, **values: Any
) -> Reward:
    values.setdefault("provider", "firstpromoter")
    values.setdefault("amount", Decimal("15.00"))
    values.setdefault("unit", "cash")
    values.setdefault("currency", "USD")
    values.setdefault("external_id", next_id())
    # FirstPromoter's legacy webhooks, which ask for fulfilment (webhooks v2 and Referral Rocket
    # never do).
    values.setdefault("provider_asks_fulfilment", values["provider"] == "firstpromoter")
    return Reward.objects.create(promoter=promoter, lead=lead, **values)


def make_delivery(endpoint: WebhookEndpoint, **values: Any) -> WebhookDelivery:
    values.setdefault("event_type", "lead_signup")
    values.setdefault("received_at", timezone.now())
    values.setdefault("method", "POST")
    values.setdefault("status", WebhookDelivery.Status.PROCESSED)
    values.setdefault("body", '{"event": {"id": 1}}')
    values.setdefault("headers", {"Content-Type": "application/json"})
    return WebhookDelivery.objects.create(
        endpoint=endpoint, provider=endpoint.provider, idempotency_key=next_id(), **values
    )


def make_conversion(promoter: Promoter, lead: Lead | None, **values: Any) -> Conversion:
    values.setdefault("status", Conversion.Status.SUCCESS)
    values.setdefault("purchase_value", Decimal("100"))
    values.setdefault("order_id", f"ORD{next_id()}")
    return Conversion.objects.create(
        provider="invitereferrals", external_id=next_id(), promoter=promoter, lead=lead, **values
    )


def days_ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def carol(db) -> User:
    """Logged in, but not staff."""
    return User.objects.create_user("carol", "carol@example.com", "pw")


@pytest.fixture
def dave(db) -> User:
    """Staff who may fulfil but not approve."""
    return make_staff("dave", "referralhub.fulfil_reward")


@pytest.fixture
def replayer(db) -> User:
    return make_staff("erin", "webhooks.change_webhookdelivery")


@pytest.fixture
def as_alice(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def as_bob(client: Client, bob: User) -> Client:
    client.force_login(bob)
    return client
