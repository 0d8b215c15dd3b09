"""Shared fixtures: endpoints per provider, payload files, named users."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.test import Client

from referralhub.events.wanted import assume_no_subscriptions
from webhooks.models import WebhookEndpoint

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Tests share one process-local cache (tests/settings.py), where production's lives in the
    database: without this, the overview's cached figures and the reset mail counts would carry
    over from one test to the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_event_subscriptions_yet() -> Iterator[None]:
    """Every test starts on a database without event subscriptions: the process's cache of the
    event types they want (referralhub/events/wanted.py) is told so rather than reading them in
    the middle of a test's query budget, or remembering a previous test's rolled-back ones."""
    assume_no_subscriptions()
    yield
    assume_no_subscriptions()


def load_payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


@pytest.fixture
def payload() -> Callable[[str], dict[str, Any]]:
    return load_payload


@pytest.fixture
def fp_endpoint(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(provider="firstpromoter")


@pytest.fixture
def rr_endpoint(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(provider="referralrocket")


@pytest.fixture
def ir_endpoint(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(provider="invitereferrals")


@pytest.fixture
def post_json(client: Client) -> Callable[..., Any]:
    def post(endpoint: WebhookEndpoint, body: Any, **headers: str) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return client.post(endpoint.path, data, content_type="application/json", headers=headers)

    return post


def make_staff(username: str, *perms: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)  # fresh instance: no stale permission cache


@pytest.fixture
def alice(db) -> User:
    """Staff who may approve, deny and fulfil rewards."""
    return make_staff(
        "alice",
        "referralhub.view_reward",
        "referralhub.approve_reward",
        "referralhub.fulfil_reward",
        "referralhub.view_lead",
        "referralhub.view_promoter",
    )


@pytest.fixture
def bob(db) -> User:
    """Staff who may only look."""
    return make_staff("bob", "referralhub.view_reward", "referralhub.view_lead")


@pytest.fixture
def run_tasks(db) -> Callable[[], int]:
    """Run every task that is ready, in this process and this test's transaction, as a worker
    would (including tasks those tasks enqueue); returns how many ran."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )

    def run(limit: int = 1000) -> int:
        ran = 0
        while (result := DBTaskResult.objects.ready().first()) is not None:
            assert ran < limit, f"more than {limit} tasks: is a task enqueueing itself forever?"
            result.claim(worker.worker_id)
            worker.run_task(result)
            ran += 1
        return ran

    return run
