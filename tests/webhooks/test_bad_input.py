"""Bad input gets a clear 4xx with a JSON `{"error", "detail"}`, is kept as `rejected` when it got
past the endpoint checks, and never writes a mirrored row; a processing bug is a 500 that keeps the
delivery as `failed` with its traceback and writes nothing half-way."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.webhooks.conftest import nothing_mirrored, only_delivery
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.providers import firstpromoter


def assert_error(response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["detail"]
    return body


def assert_rejected(response, error: str) -> WebhookDelivery:
    body = assert_error(response, 400, error)
    delivery = only_delivery()
    assert delivery.status == WebhookDelivery.Status.REJECTED
    assert delivery.response_status == 400
    assert error in delivery.error
    assert str(body["detail"]) in delivery.error
    assert nothing_mirrored()
    return delivery


# --- endpoint, method, size ----------------------------------------------------------------------


def test_it_answers_404_for_an_unknown_provider(client, fp_endpoint, payload) -> None:
    path = fp_endpoint.path.replace("firstpromoter", "rewardful")

    response = client.post(path, payload("firstpromoter_lead_signup.json"), "application/json")

    assert_error(response, 404, "not_found")
    assert WebhookDelivery.objects.count() == 0


def test_it_answers_404_for_an_unknown_token(client, fp_endpoint, payload) -> None:
    path = fp_endpoint.path.replace(fp_endpoint.token, "guessed-token")

    response = client.post(path, payload("firstpromoter_lead_signup.json"), "application/json")

    assert_error(response, 404, "not_found")
    assert WebhookDelivery.objects.count() == 0


def test_it_answers_404_for_another_providers_token(client, rr_endpoint, payload) -> None:
    path = rr_endpoint.path.replace("referralrocket", "firstpromoter")

    response = client.post(path, payload("firstpromoter_lead_signup.json"), "application/json")

    assert_error(response, 404, "not_found")


def test_it_answers_404_for_an_inactive_endpoint(fp_endpoint, post_json, payload) -> None:
    WebhookEndpoint.objects.filter(pk=fp_endpoint.pk).update(is_active=False)

    response = post_json(fp_endpoint, payload("firstpromoter_lead_signup.json"))

    assert_error(response, 404, "not_found")
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    ["/webhooks/", "/webhooks/firstpromoter/", "/webhooks/firstpromoter/{token}/extra/"],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_a_json_404_for_any_other_webhook_path_and_logs_no_token(
    client, fp_endpoint, caplog, path, method
) -> None:
    path = path.format(token=fp_endpoint.token)

    response = client.generic(method.upper(), path, b"{}", content_type="application/json")

    assert_error(response, 404, "not_found")
    assert fp_endpoint.token not in caplog.text
    assert "webhooks path" in caplog.text
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize("token", ["abc%00def", "abc\x00def", "a.b", "a%25b", "a~b", "é"])
@pytest.mark.parametrize("slash", ["/", ""])
def test_it_answers_a_json_404_for_a_token_no_endpoint_can_have(
    client, fp_endpoint, caplog, token, slash
) -> None:
    # Tokens are token_urlsafe: a NUL (which PostgreSQL text cannot hold) must not reach a query.
    response = client.post(
        f"/webhooks/firstpromoter/{token}{slash}", b"{}", content_type="application/json"
    )

    assert_error(response, 404, "not_found")
    assert "abc" not in caplog.text
    assert WebhookDelivery.objects.count() == 0


def test_it_takes_a_delivery_to_its_url_pasted_without_the_last_slash(
    fp_endpoint, client, payload
) -> None:
    # Django would redirect to the slashed URL; providers do not follow a redirect with a POST.
    response = client.post(
        fp_endpoint.path.rstrip("/"), payload("firstpromoter_lead_signup.json"), "application/json"
    )

    assert response.status_code == 200
    assert only_delivery().status == WebhookDelivery.Status.PROCESSED


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png"])
def test_it_stores_and_answers_json_whatever_the_accept_header(
    fp_endpoint, post_json, fp_event, accept
) -> None:
    # A 406 would come before the delivery is stored, and a provider redelivers in vain.
    response = post_json(fp_endpoint, fp_event("lead_signup"), Accept=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "processed"
    assert only_delivery().status == WebhookDelivery.Status.PROCESSED


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_it_answers_405_for_a_method_firstpromoter_does_not_use(
    client, fp_endpoint, method
) -> None:
    response = getattr(client, method)(fp_endpoint.path)

    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]
    assert WebhookDelivery.objects.count() == 0


def test_it_answers_405_for_delete_on_invitereferrals(client, ir_endpoint) -> None:
    assert_error(client.delete(ir_endpoint.path), 405, "method_not_allowed")


def test_it_answers_413_for_a_body_over_one_mebibyte(fp_endpoint, post_json) -> None:
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'

    response = post_json(fp_endpoint, body)

    assert_error(response, 413, "payload_too_large")
    assert WebhookDelivery.objects.count() == 0


def test_it_accepts_a_body_of_exactly_the_limit(fp_endpoint, post_json, settings) -> None:
    settings.WEBHOOK_MAX_BODY_BYTES = 64
    body = json.dumps({"event": {"id": 1, "type": "x"}, "data": {}, "p": ""}).encode()
    body = body[:-2] + b"p" * (64 - len(body)) + b'"}'
    assert len(body) == 64

    assert post_json(fp_endpoint, body).status_code == 200
    assert post_json(fp_endpoint, body + b" ").status_code == 413


# --- malformed and invalid payloads --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"event": {"id": 1,', "malformed_json"),
        (b"", "malformed_json"),
        (b"\xff\xfe{\x00}\x00", "malformed_json"),
        ('{"event": 1}'.encode("utf-16"), "malformed_json"),
        (b'{"event": {"id": NaN, "type": "lead_signup"}, "data": {}}', "malformed_json"),
        (b'{"event": {"id": 1e999, "type": "lead_signup"}, "data": {}}', "malformed_json"),
        (b'{"event": {"id": ' + b"9" * 5000 + b', "type": "x"}, "data": {}}', "malformed_json"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed_json"),
        (b"[]", "invalid_body"),
        (b'"text"', "invalid_body"),
        (b"42", "invalid_body"),
        (b"null", "invalid_body"),
    ],
    ids=lambda value: value[:20] if isinstance(value, bytes) else value,
)
def test_it_rejects_a_body_that_is_not_a_json_object(fp_endpoint, post_json, body, error) -> None:
    assert_rejected(post_json(fp_endpoint, body), error)


def test_it_rejects_nesting_deeper_than_any_provider_sends(fp_endpoint, post_json) -> None:
    body = b'{"event": {"id": 1, "type": "x"}, "data": ' + b'{"a": ' * 200 + b"1" + b"}" * 201

    assert_rejected(post_json(fp_endpoint, body), "invalid_body")


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("\x00", "NUL"),
        ("\udc00", "surrogate"),
        # Beside escapes that are harmless: a surrogate pair (one emoji) and an escaped backslash.
        ("\U0001f600 \\u0000 \ud800", "surrogate"),
    ],
)
def test_it_finds_a_string_no_column_can_hold_among_harmless_escapes(
    fp_endpoint, post_json, fp_event, value, detail
) -> None:
    document = fp_event("lead_signup")
    document["data"]["custom_fields"] = {"note": value}

    delivery = assert_rejected(post_json(fp_endpoint, json.dumps(document)), "invalid_body")

    assert detail in delivery.error


def test_it_stores_escapes_that_only_look_like_a_problem(fp_endpoint, post_json, fp_event) -> None:
    document = fp_event("lead_signup")
    document["data"]["custom_fields"] = {"note": "\U0001f600 \\u0000"}

    assert post_json(fp_endpoint, json.dumps(document)).status_code == 200
    assert only_delivery().status == WebhookDelivery.Status.PROCESSED


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = doc
        for key in parents:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return change


FP_CASES = [
    ("event", KeyError, "missing_field", "body.event is required"),
    ("event.id", KeyError, "missing_field", "event.id is required"),
    ("event.type", KeyError, "missing_field", "event.type is required"),
    ("data", KeyError, "missing_field", "body.data is required"),
    ("data.id", KeyError, "missing_field", "data.id is required"),
    ("event.id", {"nested": 1}, "invalid_field", "event.id: expected an id"),
    ("event.id", True, "invalid_field", "event.id"),
    ("event.id", "x" * 101, "invalid_field", "event.id"),
    ("event", [1], "invalid_field", "body.event: expected an object"),
    ("event.created_at", "yesterday", "invalid_field", "event.created_at"),
    ("event.created_at", "0001-01-01T00:00:00+14:00", "invalid_field", "event.created_at"),
    ("data", "lead", "invalid_field", "body.data: expected an object"),
    ("data.promoter.id", [5], "invalid_field", "data.promoter.id"),
    ("data.promoter.email", "a" * 300 + "@example.com", "invalid_field", "data.promoter.email"),
    ("data.promoter.earnings_balance", {"cash": "abc"}, "invalid_field", "earnings_balance.cash"),
    ("data.promoter.earnings_balance", [882], "invalid_field", "earnings_balance"),
    ("data.promoter.profile.social_accounts", {"twitter": "@x"}, "invalid_field", "twitter"),
    ("data.state", "s" * 31, "invalid_field", "data.state"),
    ("data.state", {"a": 1}, "invalid_field", "data.state"),
    ("data.email", "\x00@example.com", "invalid_body", "NUL"),
    ("data.custom_fields", {"k": "\ud800"}, "invalid_body", "surrogate"),
    ("data.customer_since", "not a date", "invalid_field", "data.customer_since"),
    ("data.split_percentage_value", "12%", "invalid_field", "data.split_percentage_value"),
    ("data.split_percentage_value", 10**6, "invalid_field", "data.split_percentage_value"),
    ("data.promotion.visitors_count", 2**40, "invalid_field", "visitors_count"),
    ("data.promotion.visitors_count", 1.5, "invalid_field", "visitors_count"),
    ("data.promotion.sales_total", 10**20, "invalid_field", "sales_total"),
    ("data.promotion.current_referral_reward.per_of_sale", 10**6, "invalid_field", "per_of_sale"),
    ("data.promotion.current_referral_reward.unit", "u" * 21, "invalid_field", "unit"),
    ("data.promotion.hidden", "maybe", "invalid_field", "data.promotion.hidden"),
    ("data.promotion", [], "invalid_field", "data.promotion: expected an object"),
]


@pytest.mark.parametrize(("path", "value", "error", "detail"), FP_CASES)
def test_it_rejects_a_firstpromoter_payload_with_a_bad_field(
    fp_endpoint, post_json, fp_event, path, value, error, detail
) -> None:
    document = fp_event("lead_signup")
    _set(path, value)(document)

    delivery = assert_rejected(post_json(fp_endpoint, document), error)

    assert detail in delivery.error


@pytest.mark.parametrize(
    ("path", "value", "detail"),
    [
        ("data.amount", "abc", "data.amount: expected a number"),
        ("data.amount", [], "data.amount"),
        ("data.amount", 10**20, "data.amount"),
        ("data.lead", 7, "data.lead: expected an object"),
        ("data.tier_level", "first", "data.tier_level"),
        ("data.conversion_amount", "NaN", "data.conversion_amount"),
    ],
)
def test_it_rejects_a_reward_with_a_bad_field(
    fp_endpoint, post_json, fp_event, path, value, detail
) -> None:
    document = fp_event("reward_created")
    _set(path, value)(document)

    delivery = assert_rejected(post_json(fp_endpoint, document), "invalid_field")

    assert detail in delivery.error


def test_it_rejects_a_promoter_event_without_its_promoter(fp_endpoint, post_json, fp_event):
    document = fp_event("promoter_signed_up")
    del document["data"]["promoter"]

    delivery = assert_rejected(post_json(fp_endpoint, document), "missing_field")

    assert "data.promoter is required" in delivery.error


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (_set("eventType", KeyError), "missing_field"),
        (_set("eventType", ["referrer_added"]), "invalid_field"),
        (_set("data", KeyError), "missing_field"),
        (_set("data.participantId", KeyError), "missing_field"),
        (_set("data.code", KeyError), "missing_field"),
        (_set("data.code", {"c": 1}), "invalid_field"),
        (_set("data.email", "e" * 300), "invalid_field"),
        (_set("data.totalReferred", "many"), "invalid_field"),
        (_set("data.revenueGenerated", "lots"), "invalid_field"),
        (_set("data.approval", "perhaps"), "invalid_field"),
        (_set("updatedAt", "2025-02-09"), "invalid_field"),
        (_set("updatedAt", 10**30), "invalid_field"),
    ],
)
def test_it_rejects_a_referral_rocket_payload_with_a_bad_field(
    rr_endpoint, post_json, payload, change, error
) -> None:
    document = payload("referralrocket_referrer_added_seed.json")
    change(document)

    assert_rejected(post_json(rr_endpoint, document), error)


def test_it_rejects_a_referral_rocket_reward_event_type_too_long_to_keep(
    rr_endpoint, post_json, payload
) -> None:
    document = payload("referralrocket_reward_unlocked.json")
    document["eventType"] = "reward_" + "x" * 200

    assert_rejected(post_json(rr_endpoint, document), "invalid_field")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"conversion": None}, "missing_field"),
        ({"conversion": "maybe"}, "invalid_field"),
        ({"referrer_email": None}, "missing_field"),
        ({"referee_email": ""}, "missing_field"),
        ({"referee_email": "x" * 300}, "invalid_field"),
        ({"purchaseValue": "a lot"}, "invalid_field"),
        ({"purchaseValue": "1e30"}, "invalid_field"),
        ({"referrer_converts": "two"}, "invalid_field"),
        ({"referrer_converts": str(2**40)}, "invalid_field"),
        ({"goal_complete": "yes"}, "invalid_field"),
        ({"orderID": "o" * 300}, "invalid_field"),
        ({"referee_name": "Nul\x00Byte"}, "invalid_field"),
    ],
)
def test_it_rejects_an_invitereferrals_conversion_with_a_bad_parameter(
    ir_endpoint, ir_get, ir_params, change, error
) -> None:
    params = {k: v for k, v in {**ir_params, **change}.items() if v is not None}

    assert_rejected(ir_get(ir_endpoint, params), error)


def test_it_rejects_an_invitereferrals_json_body_that_is_not_an_object(client, ir_endpoint):
    response = client.post(ir_endpoint.path, "[1, 2]", content_type="application/json")

    assert_rejected(response, "invalid_body")


def test_it_rejects_an_invitereferrals_body_that_is_not_utf8(client, ir_endpoint) -> None:
    response = client.post(
        ir_endpoint.path, b"conversion=success&x=\xff", content_type="text/plain"
    )

    assert_rejected(response, "malformed_body")


# --- processing bugs -----------------------------------------------------------------------------


def test_it_answers_500_for_a_processing_bug_and_writes_nothing_half_way(
    fp_endpoint, post_json, fp_event, monkeypatch
) -> None:
    def broken(reward_pk: int) -> None:
        raise RuntimeError("decision service exploded")

    # Fails after every mirrored row of the payload has been written.
    monkeypatch.setattr(firstpromoter.legacy, "sync_decision", broken)

    response = post_json(fp_endpoint, fp_event("reward_created"))

    assert_error(response, 500, "processing_failed")
    delivery = only_delivery()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.response_status == 500
    assert "Traceback" in delivery.error
    assert "RuntimeError: decision service exploded" in delivery.error
    assert nothing_mirrored()


@pytest.mark.parametrize(
    ("endpoint", "method", "allow"),
    [
        ("fp_endpoint", "get", "POST"),
        ("fp_endpoint", "delete", "POST"),
        ("ir_endpoint", "delete", "GET, POST, PUT"),
    ],
)
def test_it_names_the_providers_own_methods_in_allow(
    client, request, endpoint, method, allow
) -> None:
    response = getattr(client, method)(request.getfixturevalue(endpoint).path)

    assert response.status_code == 405
    assert response["Allow"] == allow
