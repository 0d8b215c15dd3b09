"""Helpers for the ingest tests: posting each provider's deliveries, counting mirrored rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client

from referralhub.models import Campaign, Conversion, Lead, Promoter, Promotion, Reward, RewardRule
from webhooks import samples
from webhooks.models import WebhookDelivery, WebhookEndpoint

MIRRORED = (RewardRule, Campaign, Promoter, Promotion, Lead, Conversion, Reward)
# Credentials carried by the sample payloads: none of them may ever reach the database.
SECRETS = (
    "gpBwBYw1",
    "2-5P1Shfk2nnKaZrYFZExh-sfCThGt-2",
    "tmpPw0rd99",
    "9-ZZsecretTOKENzz-9",
)

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises all writers with a database lock, so it cannot show a real race; "
    "run with DATABASE_URL=postgres://... to test concurrent deliveries.",
)


def mirrored_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MIRRORED}


def nothing_mirrored() -> bool:
    return not any(mirrored_counts().values())


def only_delivery() -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.all()
    return delivery


rr_signature = samples.signature


def as_body(document: Any) -> bytes:
    return document if isinstance(document, bytes) else json.dumps(document).encode()


@pytest.fixture
def ir_get(client: Client) -> Callable[..., Any]:
    def get(endpoint: WebhookEndpoint, params: dict[str, Any] | str, **headers: str) -> Any:
        query = params if isinstance(params, str) else urlencode(params)
        return client.get(f"{endpoint.path}?{query}", headers=headers)

    return get


@pytest.fixture
def ir_params(payload: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """InviteReferrals' documented example of the conversion webhook's parameters."""
    return payload("invitereferrals_conversion_seed.json")


@pytest.fixture
def rr_secret_endpoint(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(provider="referralrocket", secret="rr-signing-secret")


@pytest.fixture
def fp_event(payload: Callable[[str], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A FirstPromoter sample payload, optionally with another event id or time."""

    def make(name: str, event_id: int | None = None, at: str | None = None) -> dict[str, Any]:
        document = payload(f"firstpromoter_{name}.json")
        if event_id is not None:
            document["event"]["id"] = event_id
        if at is not None:
            document["event"]["created_at"] = at
        return document

    return make
