"""Endpoints written before per-endpoint checks keep their behaviour after the migration."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from tests.conftest import load_payload
from tests.webhooks.test_checks import basic, signed
from webhooks.models import WebhookEndpoint

BEFORE = [("webhooks", "0003_commission_push")]
AFTER = [("webhooks", "0004_endpoint_checks")]


@pytest.mark.django_db(transaction=True)
def test_invitereferrals_secrets_become_basic_auth_passwords_and_signing_secrets_stay() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Old = executor.loader.project_state(BEFORE).apps.get_model("webhooks", "WebhookEndpoint")
    for name, provider, secret in [
        ("ir", "invitereferrals", "ir-pässword"),
        ("ir-open", "invitereferrals", ""),
        ("rr", "referralrocket", "rr-secret"),
        ("fp", "firstpromoter", "fp-secret"),
    ]:
        Old.objects.create(name=name, provider=provider, secret=secret, token=f"token-{name}")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

    rows = {
        e.name: (e.secret, e.basic_auth_user, e.basic_auth_password)
        for e in WebhookEndpoint.objects.all()
    }
    assert rows == {
        "ir": ("", "", "ir-pässword"),
        "ir-open": ("", "", ""),
        "rr": ("rr-secret", "", ""),
        "fp": ("fp-secret", "", ""),
    }
    client = Client()
    ir = WebhookEndpoint.objects.get(name="ir")
    query = "?" + urlencode(load_payload("invitereferrals_conversion_seed.json"))
    assert client.get(ir.path + query).status_code == 401
    # Any user name, as before: only the password was checked.
    answer = client.get(ir.path + query, headers={"Authorization": basic("any", "ir-pässword")})
    assert answer.status_code == 200
    rr = WebhookEndpoint.objects.get(name="rr")
    body = load_payload("referralrocket_referrer_added_seed.json")
    assert client.post(rr.path, body, content_type="application/json").status_code == 401
    headers = signed(rr, "rr-secret")
    ok = client.post(rr.path, body, content_type="application/json", headers=headers)
    assert ok.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_to_secrets() -> None:
    WebhookEndpoint.objects.create(name="ir", provider="invitereferrals", basic_auth_password="pw")

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Old = executor.loader.project_state(BEFORE).apps.get_model("webhooks", "WebhookEndpoint")
    assert Old.objects.get(name="ir").secret == "pw"
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
