"""Signatures and Basic auth: real ones pass, tampered or missing ones are refused unstored."""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request

import pytest

from tests.webhooks.conftest import nothing_mirrored, rr_signature
from webhooks.models import WebhookDelivery, WebhookEndpoint

HEX_SECRET = "8f1c2b7e9a0d4c3b5e6f7a8b9c0d1e2f"


@pytest.fixture
def seed_body(payload) -> bytes:
    return json.dumps(payload("referralrocket_referrer_added_seed.json")).encode()


def test_it_accepts_a_signature_keyed_with_the_secrets_utf8_bytes(
    rr_secret_endpoint, post_json, seed_body
) -> None:
    signature = rr_signature(b"rr-signing-secret", seed_body)

    response = post_json(rr_secret_endpoint, seed_body, **{"X-RR-Signature": signature})

    assert response.status_code == 200
    assert WebhookDelivery.objects.get().status == "processed"


def test_it_accepts_a_signature_keyed_with_the_hex_decoded_secret(db, post_json, seed_body) -> None:
    endpoint = WebhookEndpoint.objects.create(provider="referralrocket", secret=HEX_SECRET)
    signature = rr_signature(bytes.fromhex(HEX_SECRET), seed_body)

    response = post_json(endpoint, seed_body, **{"X-RR-Signature": signature.upper()})

    assert response.status_code == 200


def test_it_reads_the_signature_header_whatever_its_case(
    rr_secret_endpoint, post_json, seed_body
) -> None:
    signature = rr_signature(b"rr-signing-secret", seed_body)

    response = post_json(rr_secret_endpoint, seed_body, **{"x-rr-signature": signature})

    assert response.status_code == 200


def tampered(body: bytes) -> bytes:
    index = body.index(b"karan")
    return body[:index] + b"K" + body[index + 1 :]


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda body: rr_signature(b"rr-signing-secret", tampered(body)), id="tamper"),
        pytest.param(lambda body: rr_signature(b"another-secret", body), id="wrong-key"),
        pytest.param(lambda body: "", id="empty"),
        pytest.param(lambda body: "not hex at all", id="garbage"),
        pytest.param(lambda body: "é" * 64, id="non-ascii"),
    ],
)
def test_it_refuses_a_bad_signature_and_stores_nothing(
    rr_secret_endpoint, post_json, seed_body, signature
) -> None:
    response = post_json(rr_secret_endpoint, seed_body, **{"X-RR-Signature": signature(seed_body)})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert WebhookDelivery.objects.count() == 0
    assert nothing_mirrored()


def test_it_refuses_a_body_changed_by_one_byte_after_signing(
    rr_secret_endpoint, post_json, seed_body
) -> None:
    signature = rr_signature(b"rr-signing-secret", seed_body)

    response = post_json(rr_secret_endpoint, tampered(seed_body), **{"X-RR-Signature": signature})

    assert response.status_code == 401
    assert WebhookDelivery.objects.count() == 0


def test_it_refuses_a_missing_signature(rr_secret_endpoint, post_json, seed_body) -> None:
    response = post_json(rr_secret_endpoint, seed_body)

    assert response.status_code == 401
    assert WebhookDelivery.objects.count() == 0


def test_it_requires_firstpromoters_signature_header_when_a_secret_is_set(
    db, post_json, payload
) -> None:
    endpoint = WebhookEndpoint.objects.create(provider="firstpromoter", secret="fp-secret")
    body = json.dumps(payload("firstpromoter_lead_signup.json")).encode()

    assert post_json(endpoint, body).status_code == 401
    signature = rr_signature(b"fp-secret", body)
    assert post_json(endpoint, body, **{"X-Webhook-Signature": signature}).status_code == 200


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def ir_secret_endpoint(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        provider="invitereferrals", basic_auth_password="ir-pässword"
    )


def test_it_accepts_invitereferrals_basic_auth_with_the_password(
    ir_secret_endpoint, ir_get, ir_params
) -> None:
    response = ir_get(ir_secret_endpoint, ir_params, Authorization=basic("hub", "ir-pässword"))

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert "Authorization" not in delivery.headers
    assert "ir-pässword" not in json.dumps(delivery.headers, ensure_ascii=False)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param(basic("hub", "wrong"), id="wrong-password"),
        pytest.param(basic("hub", "ir-pässwor"), id="prefix"),
        pytest.param("Basic %%%not-base64", id="garbage"),
        pytest.param("Bearer ir-pässword", id="other-scheme"),
    ],
)
def test_it_refuses_invitereferrals_without_the_right_basic_auth(
    ir_secret_endpoint, ir_get, ir_params, authorization
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = ir_get(ir_secret_endpoint, ir_params, **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="ReferralHub webhooks", charset="UTF-8"'
    assert WebhookDelivery.objects.count() == 0
    assert nothing_mirrored()


@pytest.mark.django_db(transaction=True)
def test_a_client_that_waits_for_the_challenge_gets_its_invitereferrals_delivery_in(
    live_server, ir_params
) -> None:
    """Many HTTP clients send Basic credentials only once a 401 asks for them (the challenge in
    WWW-Authenticate): urllib's handler is one."""
    endpoint = WebhookEndpoint.objects.create(
        provider="invitereferrals", basic_auth_password="ir-pässword"
    )
    url = f"{live_server.url}{endpoint.path}?{urllib.parse.urlencode(ir_params)}"
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, live_server.url, "hub", "ir-pässword")
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(passwords))

    with opener.open(url, timeout=10) as response:
        assert response.status == 200
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PROCESSED


def test_signed_providers_are_refused_without_a_basic_challenge(
    rr_secret_endpoint, post_json, seed_body
) -> None:
    response = post_json(rr_secret_endpoint, seed_body)

    assert response.status_code == 401
    assert "WWW-Authenticate" not in response  # a signature is not something to prompt for
