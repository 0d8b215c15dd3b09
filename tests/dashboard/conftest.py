"""Dashboard fixtures: users of each kind, logged in or not (test data: tests/factories.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import make_staff


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
