"""Error tracking with Sentry when `SENTRY_DSN` is set: nothing secret leaves the hub.

- `send_default_pii=False`: no cookies, user data or client addresses;
- no local variables of stack frames, where an endpoint's secrets may sit;
- `scrub_event` (before sending): every webhook URL's token replaced, headers kept only from a
  short list (so Authorization, signatures and an endpoint's own shared-value header go), request
  bodies, query strings and cookies dropped. Sentry's own scrubber then removes values under keys
  such as `secret`, `password`, `token` and `api_key` anywhere in the event.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

if TYPE_CHECKING:
    from sentry_sdk._types import Event

FILTERED = "[Filtered]"
# /webhooks/<provider>/<token>/: the token alone lets anyone post deliveries.
WEBHOOK_TOKEN = re.compile(r"(/webhooks/[^/\s]+/)[^/\s?#\"']+")
SAFE_HEADERS = frozenset(
    {"accept", "content-length", "content-type", "host", "user-agent", "x-request-id"}
)
EXTRA_DENYLIST = [
    "basic_auth_password",
    "previous_secret",
    "previous_basic_auth_password",
    "header_value",
    "previous_header_value",
    "x-webhook-signature",
    "x-rr-signature",
]


def _scrub_strings(value: Any) -> Any:
    if isinstance(value, str):
        return WEBHOOK_TOKEN.sub(rf"\1{FILTERED}", value)
    if isinstance(value, dict):
        return {key: _scrub_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_strings(item) for item in value]
    return value


def scrub_event(event: Event, hint: dict[str, Any] | None = None) -> Event:
    """Sentry's `before_send` (and `before_send_transaction`)."""
    request: Any = event.get("request")
    if isinstance(request, dict):
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: (value if name.lower() in SAFE_HEADERS else FILTERED)
                for name, value in headers.items()
            }
        for part in ("data", "query_string", "cookies"):
            if request.get(part):
                request[part] = FILTERED
    scrubbed: Event = _scrub_strings(event)
    return scrubbed


def init_sentry(dsn: str, *, environment: str | None = None) -> bool:
    """Start Sentry if a DSN is given; returns whether it did."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(denylist=DEFAULT_DENYLIST + EXTRA_DENYLIST, recursive=True),
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )
    return True
