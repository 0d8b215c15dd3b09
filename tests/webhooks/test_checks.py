"""An endpoint's checks, for every provider: Basic auth, a shared header, the signature, rotation.

Every refused delivery is a JSON 401 and leaves nothing behind: no inbox row, nothing mirrored.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import load_payload
from tests.webhooks.conftest import nothing_mirrored, rr_signature
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.providers.checks import BASIC_CHALLENGE

PROVIDERS = ["firstpromoter", "invitereferrals", "referralrocket"]
SIGNING = ["firstpromoter", "referralrocket"]
SIGNATURE_HEADER = {"firstpromoter": "X-Webhook-Signature", "referralrocket": "X-RR-Signature"}
SAMPLES = {
    "firstpromoter": "firstpromoter_promoter_accepted.json",
    "referralrocket": "referralrocket_referrer_added_seed.json",
    "invitereferrals": "invitereferrals_conversion_seed.json",
}

Deliver = Callable[..., Any]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def deliver(client: Client) -> Deliver:
    """Send `endpoint`'s provider its sample delivery, with these headers."""

    def send(endpoint: WebhookEndpoint, **headers: str) -> Any:
        document = load_payload(SAMPLES[endpoint.provider])
        if endpoint.provider == "invitereferrals":
            return client.get(f"{endpoint.path}?{urlencode(document)}", headers=headers)
        body = json.dumps(document).encode()
        return client.post(endpoint.path, body, content_type="application/json", headers=headers)

    return send


def signed(endpoint: WebhookEndpoint, secret: str) -> dict[str, str]:
    body = json.dumps(load_payload(SAMPLES[endpoint.provider])).encode()
    return {SIGNATURE_HEADER[endpoint.provider]: rr_signature(secret.encode(), body)}


def assert_refused(response: Any, *, challenge: bool) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] in ("invalid_credentials", "invalid_signature")
    assert (response.get("WWW-Authenticate") == BASIC_CHALLENGE) is challenge
    assert WebhookDelivery.objects.count() == 0
    assert nothing_mirrored()


def assert_accepted(response: Any) -> WebhookDelivery:
    assert response.status_code == 200, response.content
    (delivery,) = WebhookDelivery.objects.all()
    return delivery


def endpoint(provider: str, **checks: Any) -> WebhookEndpoint:
    made = WebhookEndpoint(provider=provider, **checks)
    made.full_clean()
    made.save()
    return made


# --- HTTP Basic auth ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_basic_auth_passes_with_the_right_user_and_password(db, deliver, provider) -> None:
    hook = endpoint(provider, basic_auth_user="hub", basic_auth_password="pässword-1")

    delivery = assert_accepted(deliver(hook, Authorization=basic("hub", "pässword-1")))

    assert "Authorization" not in delivery.headers


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param(basic("hub", "wrong"), id="wrong-password"),
        pytest.param(basic("other", "pässword-1"), id="wrong-user"),
        pytest.param(basic("hub", "pässword-"), id="prefix"),
        pytest.param("Basic %%%", id="garbage"),
        pytest.param("Basic " + base64.b64encode(b"no-colon").decode(), id="no-colon"),
        pytest.param("Bearer pässword-1", id="other-scheme"),
    ],
)
def test_basic_auth_refuses_anything_else_with_a_challenge(
    db, deliver, provider, authorization
) -> None:
    hook = endpoint(provider, basic_auth_user="hub", basic_auth_password="pässword-1")
    headers = {"Authorization": authorization} if authorization else {}

    assert_refused(deliver(hook, **headers), challenge=True)


def test_basic_auth_without_a_user_name_takes_any(db, deliver) -> None:
    hook = endpoint("firstpromoter", basic_auth_password="pw-1")

    assert_accepted(deliver(hook, Authorization=basic("whoever", "pw-1")))


# --- a header with a shared value ---------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_header_passes_with_its_value_and_is_not_stored(db, deliver, provider) -> None:
    hook = endpoint(provider, header_name="X-Hub-Key", header_value="v4lue-1")

    delivery = assert_accepted(deliver(hook, **{"x-hub-key": "v4lue-1"}))

    assert "v4lue-1" not in json.dumps(delivery.headers)
    assert not any(name.lower() == "x-hub-key" for name in delivery.headers)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("value", [None, "", "v4lue-", "v4lue-2", "V4LUE-1"])
def test_the_header_refuses_a_missing_or_wrong_value(db, deliver, provider, value) -> None:
    hook = endpoint(provider, header_name="X-Hub-Key", header_value="v4lue-1")
    headers = {"X-Hub-Key": value} if value is not None else {}

    assert_refused(deliver(hook, **headers), challenge=False)


# --- the signature -------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", SIGNING)
def test_the_signature_passes_signed_with_the_secret(db, deliver, provider) -> None:
    hook = endpoint(provider, secret="s1gning-1")

    assert_accepted(deliver(hook, **signed(hook, "s1gning-1")))


@pytest.mark.parametrize("provider", SIGNING)
@pytest.mark.parametrize("secret", [None, "s1gning-2"])
def test_the_signature_refuses_a_missing_or_wrong_one(db, deliver, provider, secret) -> None:
    hook = endpoint(provider, secret="s1gning-1")
    headers = signed(hook, secret) if secret else {}

    assert_refused(deliver(hook, **headers), challenge=False)


def test_a_secret_on_a_provider_that_signs_nothing_refuses_every_delivery(db, deliver) -> None:
    # The admin and the command refuse it; a row set by hand fails closed, not open.
    hook = WebhookEndpoint.objects.create(provider="invitereferrals", secret="s1gning-1")

    assert_refused(deliver(hook), challenge=False)


# --- together ------------------------------------------------------------------------------------


def test_every_check_turned_on_must_pass(db, deliver) -> None:
    hook = endpoint(
        "referralrocket",
        secret="s1gning-1",
        basic_auth_password="pw-1",
        header_name="X-Hub-Key",
        header_value="v4lue-1",
    )
    right = {
        "Authorization": basic("u", "pw-1"),
        "X-Hub-Key": "v4lue-1",
        **signed(hook, "s1gning-1"),
    }

    for missing in right:
        headers = {k: v for k, v in right.items() if k != missing}
        assert_refused(deliver(hook, **headers), challenge=missing == "Authorization")
    assert_accepted(deliver(hook, **right))


def test_the_checks_cost_no_query(db, deliver) -> None:
    def queries(hook: WebhookEndpoint, **headers: str) -> int:
        # Each in a state of its own: rolled back, so that both deliveries mirror the same rows.
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            assert_accepted(deliver(hook, **headers))
            transaction.set_rollback(True)
        return len(captured)

    plain = endpoint("firstpromoter")
    hook = endpoint(
        "firstpromoter",
        basic_auth_password="pw-2",
        previous_basic_auth_password="pw-1",
        previous_basic_auth_password_until=timezone.now() + timedelta(days=1),
        header_name="X-Hub-Key",
        header_value="v4lue-1",
    )

    checked = queries(hook, Authorization=basic("u", "pw-1"), **{"X-Hub-Key": "v4lue-1"})
    assert checked == queries(plain)


# --- rotation ------------------------------------------------------------------------------------

ROTATIONS = [
    pytest.param(
        "firstpromoter",
        {"basic_auth_password": "new-pw", "previous_basic_auth_password": "old-pw"},
        "previous_basic_auth_password_until",
        lambda hook, password: {"Authorization": basic("u", password)},
        {"old": "old-pw", "new": "new-pw"},
        id="basic-auth",
    ),
    pytest.param(
        "invitereferrals",
        {"header_name": "X-Hub-Key", "header_value": "new-v", "previous_header_value": "old-v"},
        "previous_header_value_until",
        lambda hook, value: {"X-Hub-Key": value},
        {"old": "old-v", "new": "new-v"},
        id="header",
    ),
    pytest.param(
        "referralrocket",
        {"secret": "new-s", "previous_secret": "old-s"},
        "previous_secret_until",
        signed,
        {"old": "old-s", "new": "new-s"},
        id="signature",
    ),
]


@pytest.mark.parametrize(("provider", "values", "until", "credentials", "which"), ROTATIONS)
def test_a_rotated_credential_passes_old_and_new_until_the_date_then_only_new(
    db, client, deliver, monkeypatch, provider, values, until, credentials, which
) -> None:
    deadline = timezone.now() + timedelta(hours=2)
    hook = endpoint(provider, **values, **{until: deadline})

    assert_accepted(deliver(hook, **credentials(hook, which["old"])))
    WebhookDelivery.objects.all().delete()
    assert_accepted(deliver(hook, **credentials(hook, which["new"])))
    WebhookDelivery.objects.all().delete()

    later = deadline + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert deliver(hook, **credentials(hook, which["old"])).status_code == 401
    assert WebhookDelivery.objects.count() == 0
    assert_accepted(deliver(hook, **credentials(hook, which["new"])))


# --- what an endpoint may be set to -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"provider": "invitereferrals", "secret": "s"}, "secret", "signs nothing"),
        ({"basic_auth_user": "hub"}, "basic_auth_password", "needs a password"),
        ({"basic_auth_user": "a:b", "basic_auth_password": "p"}, "basic_auth_user", "colon"),
        ({"header_name": "X-Key"}, "header_value", "needs the value"),
        ({"header_value": "v"}, "header_name", "Name the header"),
        ({"header_name": "X Key", "header_value": "v"}, "header_name", "letters, digits"),
        ({"header_name": "Authorization", "header_value": "v"}, "header_name", "meaning"),
        ({"secret": "s", "previous_secret": "p"}, "previous_secret", "go together"),
        (
            {"previous_secret": "p", "previous_secret_until": timezone.now()},
            "previous_secret",
            "beside a current one",
        ),
    ],
)
def test_it_refuses_checks_that_cannot_work(db, values, field, message) -> None:
    hook = WebhookEndpoint(**{"provider": "firstpromoter", **values})

    with pytest.raises(ValidationError) as refused:
        hook.full_clean()

    assert message in " ".join(refused.value.message_dict[field])
