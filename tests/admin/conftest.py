"""Admin fixtures: a superuser and demo data through the real webhook URLs."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from referralhub.models import (
    AuditEntry,
    Campaign,
    Conversion,
    Lead,
    Person,
    Promoter,
    Promotion,
    Reward,
    RewardRule,
)
from referralhub.services import rewards_act
from webhooks import samples
from webhooks.models import WebhookDelivery, WebhookEndpoint

MODELS = {
    "campaign": Campaign,
    "rewardrule": RewardRule,
    "promoter": Promoter,
    "promotion": Promotion,
    "lead": Lead,
    "conversion": Conversion,
    "reward": Reward,
    "auditentry": AuditEntry,
    "person": Person,
}
WEBHOOK_MODELS = {"webhookendpoint": WebhookEndpoint, "webhookdelivery": WebhookDelivery}


def admin_url(app: str, model: str, view: str = "changelist") -> str:
    return f"/admin/{app}/{model}/" if view == "changelist" else f"/admin/{app}/{model}/{view}/"


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def root_client(root: User) -> Client:
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def demo(db) -> None:
    """The `make run` demo data: every provider's deliveries through the real webhook URLs."""
    call_command("load_demo", stdout=io.StringIO())
    staff = User.objects.get(username="staff")
    pending = Reward.objects.filter(status=Reward.Status.PENDING).order_by("pk")
    rewards_act(action="deny", reward_ids=[pending[0].pk], actor=staff, text="Self-referral")


def fp_delivery(
    endpoint: WebhookEndpoint, status: str, body: dict | str, **fields
) -> WebhookDelivery:
    """An inbox row as ingest would have stored it."""
    text = body if isinstance(body, str) else json.dumps(body)
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        provider=endpoint.provider,
        idempotency_key=fields.pop("idempotency_key", f"key:{WebhookDelivery.objects.count()}"),
        event_type=fields.pop("event_type", "promoter_signed_up"),
        received_at=timezone.now(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "FirstPromoter"},
        body=text,
        status=status,
        **fields,
    )


def promoter_signed_up(promoter: int) -> dict:
    data = {
        "promoter": samples.fp_promoter(promoter),
        "promotions": [samples.fp_promotion(promoter)],
    }
    return samples.fp_event(9_000 + promoter, "promoter_signed_up", samples.EPOCH, data)
