"""Dashboard fixtures: rows made directly with the ORM, and users of each kind."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from referralhub.models import Campaign, Conversion, Lead, Promoter, Reward
from tests.conftest import make_staff
from tests.factories import (
    CampaignFactory,
    ConversionFactory,
    DeliveryFactory,
    LeadFactory,
    PromoterFactory,
    RewardFactory,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Thin aliases of tests/factories.py, for tests written before it; new tests use the factories.


def make_campaign(**values: Any) -> Campaign:
    values.setdefault("name", "Partner program")
    return CampaignFactory(unlinked=True, **values)


def make_promoter(**values: Any) -> Promoter:
    return PromoterFactory(**values)


def make_lead(promoter: Promoter | None = None, **values: Any) -> Lead:
    return LeadFactory(unlinked=True, promoter=promoter, **values)


def make_reward(
    promoter: Promoter | None = None, lead: Lead | None = None, **values: Any
) -> Reward:
    values.setdefault("amount", Decimal("15.00"))
    return RewardFactory(unlinked=True, promoter=promoter, lead=lead, **values)


def make_delivery(endpoint: WebhookEndpoint, **values: Any) -> WebhookDelivery:
    return DeliveryFactory(endpoint=endpoint, **values)


def make_conversion(promoter: Promoter, lead: Lead | None, **values: Any) -> Conversion:
    values.setdefault("purchase_value", Decimal("100"))
    return ConversionFactory(promoter=promoter, lead=lead, **values)


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
