"""API fixtures: named users with exactly the permissions a test needs, and token clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.conftest import make_staff
from tests.factories import token_for

VIEW_ALL = [
    f"referralhub.view_{m}"
    for m in ("campaign", "promoter", "promotion", "lead", "conversion", "reward")
]


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    return client_for


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def carol(db) -> User:
    """An integration account: may read every referral table, is not staff, may not act."""
    user = make_staff("carol", *VIEW_ALL, "webhooks.view_webhookdelivery")
    user.is_staff = False
    user.save()
    return User.objects.get(pk=user.pk)


@pytest.fixture
def dave(db) -> User:
    """Logged in, no permission at all."""
    return User.objects.create_user("dave", "dave@example.com", "pw")


@pytest.fixture
def olga(db) -> User:
    """Staff operator of the webhook inbox."""
    return make_staff(
        "olga", "webhooks.view_webhookdelivery", "webhooks.change_webhookdelivery", *VIEW_ALL
    )
