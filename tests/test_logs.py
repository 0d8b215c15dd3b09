"""LOG_FORMAT=json lines with request ids; Sentry off without a DSN and scrubbing when on."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import sentry_sdk
from django.conf import settings
from django.test import Client

from referralhub import sentry
from referralhub.logs import HEADER, request_id

if TYPE_CHECKING:
    from sentry_sdk._types import Event

TOKEN = "Abc123-very-secret-webhook-token_xyz"


@pytest.fixture
def json_log(monkeypatch) -> Iterator[io.StringIO]:
    """The JSON formatter and filter from the settings, on a handler writing to a buffer."""
    stream = io.StringIO()
    config = json.loads(json.dumps(settings.LOGGING))
    config["handlers"]["console"]["formatter"] = "json"
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


@pytest.mark.django_db
def test_a_json_line_parses_and_carries_the_request_id(client: Client, json_log):
    response = client.get("/no-such-page/", headers={"x-request-id": "req-0123456789abcdef"})

    assert response.status_code == 404
    assert response[HEADER] == "req-0123456789abcdef"
    (line,) = [line for line in _lines(json_log) if line["logger"] == "django.request"]
    assert line["request_id"] == "req-0123456789abcdef"
    assert line["level"] == "WARNING"
    assert "Not Found" in line["message"]
    assert "time" in line


def test_outside_a_request_the_id_is_a_dash(json_log):
    logging.getLogger("referralhub.test").warning("from the worker")
    (line,) = _lines(json_log)
    assert (line["message"], line["request_id"]) == ("from the worker", "-")


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["", "short", "has spaces in it", "x" * 200, "evil\nline-12345"])
def test_an_insane_request_id_is_replaced(client: Client, given: str):
    headers = {"x-request-id": given} if given else {}
    response = client.get("/no-such-page/", headers=headers)
    assert response[HEADER] != given
    assert len(response[HEADER]) == 32
    assert request_id.get() == "-"


def test_sentry_is_not_initialised_without_a_dsn():
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()
    assert sentry.init_sentry("") is False


def test_sentry_is_initialised_with_a_dsn_and_no_pii(monkeypatch) -> None:
    calls: list[dict] = []
    monkeypatch.setattr(sentry.sentry_sdk, "init", lambda **kwargs: calls.append(kwargs))

    assert sentry.init_sentry("https://key@sentry.example.com/1") is True

    (options,) = calls
    assert options["send_default_pii"] is False
    assert options["include_local_variables"] is False
    assert options["before_send"] is sentry.scrub_event


def test_the_scrubber_removes_tokens_and_secrets() -> None:
    event: Event = {
        "request": {
            "url": f"https://hub.example.com/webhooks/firstpromoter/{TOKEN}/",
            "method": "POST",
            "headers": {
                "Authorization": "Bearer api-key-123",
                "X-Webhook-Signature": "sig",
                "X-Shared-Secret-Header": "shared-value",
                "Content-Type": "application/json",
            },
            "data": '{"password": "p"}',
            "query_string": "token=abc",
        },
        "breadcrumbs": {"values": [{"message": f"Not Found: /webhooks/referralrocket/{TOKEN}/"}]},
        "exception": {"values": [{"value": f"bad path /webhooks/invitereferrals/{TOKEN}"}]},
    }

    scrubbed = sentry.scrub_event(event, {})

    assert TOKEN not in json.dumps(scrubbed)
    request = scrubbed["request"]
    assert request["url"] == "https://hub.example.com/webhooks/firstpromoter/[Filtered]/"
    headers = request["headers"]
    assert isinstance(headers, dict)  # sentry types the request's values as objects
    assert headers["Authorization"] == "[Filtered]"
    assert headers["X-Webhook-Signature"] == "[Filtered]"
    assert headers["X-Shared-Secret-Header"] == "[Filtered]"
    assert headers["Content-Type"] == "application/json"
    assert request["data"] == request["query_string"] == "[Filtered]"
    for secret in ("api-key-123", "shared-value", "abc", '"p"'):
        assert secret not in json.dumps(scrubbed)
