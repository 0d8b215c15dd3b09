"""create_webhook_endpoint's checks: Basic auth, a shared header, a signing secret, rotation."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.webhooks.test_checks import basic
from webhooks.models import WebhookDelivery, WebhookEndpoint


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_webhook_endpoint", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def v2_body(payload) -> bytes:
    return json.dumps(payload("firstpromoter_v2_promoter_created.json")).encode()


def post(client, path: str, body: bytes, **headers: str):
    return client.post(path, body, content_type="application/json", headers=headers)


def test_a_firstpromoter_endpoint_with_basic_auth_takes_only_its_credentials(
    db, client, v2_body
) -> None:
    output = run("firstpromoter", "--basic-auth", "fp-hub:s3cret-pässword")
    path = output.strip().splitlines()[-1]

    assert "Checks: URL token, HTTP Basic auth (user fp-hub)." in output
    assert "s3cret-pässword" not in output
    refused = post(client, path, v2_body)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Basic ")
    assert WebhookDelivery.objects.count() == 0
    wrong = post(client, path, v2_body, Authorization=basic("fp-hub", "guess"))
    assert wrong.status_code == 401
    right = post(client, path, v2_body, Authorization=basic("fp-hub", "s3cret-pässword"))
    assert right.status_code == 200
    assert WebhookDelivery.objects.get().status == "processed"


def test_it_reads_basic_auth_from_an_environment_variable(db, monkeypatch) -> None:
    monkeypatch.setenv("FP_WEBHOOK_AUTH", "fp-hub:from-env")

    output = run("firstpromoter", "--basic-auth-env", "FP_WEBHOOK_AUTH")

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.basic_auth_user, endpoint.basic_auth_password) == ("fp-hub", "from-env")
    assert "from-env" not in output


def test_it_sets_a_header_check(db, client, v2_body) -> None:
    path = run("referralrocket", "--header", "X-Hub-Key: sh4red").strip().splitlines()[-1]

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.header_name, endpoint.header_value) == ("X-Hub-Key", "sh4red")
    body = json.dumps({"eventType": "referrer_added", "data": {}}).encode()
    assert post(client, path, body).status_code == 401


def test_it_sets_a_rotation_with_its_date(db) -> None:
    output = run(
        "invitereferrals",
        "--basic-auth",
        ":new-pw",
        "--previous-password",
        "old-pw",
        "--previous-until",
        "2999-01-31",
    )

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.basic_auth_user, endpoint.basic_auth_password) == ("", "new-pw")
    assert endpoint.previous_basic_auth_password == "old-pw"
    assert endpoint.previous_basic_auth_password_until.isoformat() == "2999-01-31T00:00:00+00:00"
    assert "HTTP Basic auth (any user)" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["invitereferrals", "--secret", "s"], "--secret: InviteReferrals signs nothing"),
        (["firstpromoter", "--basic-auth", "no-colon"], "--basic-auth takes USER:PASSWORD"),
        (["firstpromoter", "--basic-auth", "user:"], "--basic-auth takes USER:PASSWORD"),
        (["firstpromoter", "--header", "X Key:v"], "--header: A header name holds"),
        (["firstpromoter", "--header", "Authorization:v"], "--header: Authorization has"),
        (["firstpromoter", "--basic-auth-env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE is not set"),
        (["firstpromoter", "--secret", "s", "--previous-secret", "p"], "go together"),
        (
            [
                "firstpromoter",
                "--secret",
                "s",
                "--previous-secret",
                "p",
                "--previous-until",
                "2001-01-01",
            ],
            "must be in the future",
        ),
        (["firstpromoter", "--previous-secret", "p", "--previous-until", "2999-01-01"], "beside"),
        (["firstpromoter", "--secret", "s", "--previous-until", "next week"], "not a date"),
    ],
)
def test_it_refuses_checks_that_cannot_work_and_creates_nothing(db, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not WebhookEndpoint.objects.exists()


def test_a_previous_value_before_its_date_passes_beside_the_new_one(db, client, v2_body) -> None:
    until = (timezone.now() + timedelta(days=2)).isoformat()
    output = run(
        "firstpromoter",
        "--basic-auth",
        "hub:new",
        "--previous-password",
        "old",
        "--previous-until",
        until,
    )
    path = output.strip().splitlines()[-1]

    assert post(client, path, v2_body, Authorization=basic("hub", "old")).status_code == 200
    assert post(client, path, v2_body, Authorization=basic("hub", "new")).status_code == 200
