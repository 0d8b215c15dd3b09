"""FirstPromoter webhooks, both kinds, told apart by their shape:

- legacy: `{"event": {id, type, created_at}, "data": {...}}`, the documented events;
- v2 (since April 2026): `{event_id, event_type, action, entity_type, entity_id, changes, data,
  timestamp}`, where `data` is the whole resource after the event.

Both use FirstPromoter's own ids, so they mirror into the same rows. Legacy webhooks sign nothing;
v2 documents HTTP Basic auth and custom headers, and once documented a signature
(`X-Webhook-Signature`, hex HMAC-SHA256 of the body) that its docs no longer describe. So an
endpoint is protected by its token and, as SETUP says, Basic auth or a header (`checks`).

This module is the provider interface; `legacy` and `v2` read each kind, `objects` puts the legacy
objects into a snapshot (v2 reuses their amounts), `decisions` holds the reward decision and
fulfilment statements, and `fields` maps FirstPromoter's fields to the mirrored columns.
"""

from __future__ import annotations

from referralhub.models import Reward
from webhooks.models import WebhookDelivery
from webhooks.payload import PayloadObject
from webhooks.providers.base import (
    Incoming,
    Outcome,
    Parsed,
    ignore,
    parse_json_object,
)
from webhooks.providers.firstpromoter import legacy, v2
from webhooks.providers.firstpromoter.decisions import fulfilment_answer, request_fulfilment
from webhooks.providers.firstpromoter.fields import SLUG

METHODS = frozenset({"POST"})
SIGNATURE_HEADER = "X-Webhook-Signature"
SETUP = (
    "Create a webhooks v2 subscription (Settings, Integrations, Webhooks; the promoter.*, "
    "promoter_campaign.*, referral.* and commission.* events) with this URL, and protect it with "
    "HTTP Basic auth (recommended): give the subscription a user name and a long random "
    "password, and this endpoint the same. Or add a custom header with a long random value and "
    "give this endpoint its name and value. Leave the signing secret empty: FirstPromoter no "
    "longer documents its signature, and its test send is signed with a random key. Legacy "
    "webhooks (fulfilment_pending included) may use the same endpoint, with the user name and "
    "password in the URL (https://user:password@host/...). Both kinds mirror into the same "
    "promoters, promotions, leads and rewards."
)


# Every event type the hub knows by name, for the inbox's filters.
EVENT_TYPES: tuple[str, ...] = (*legacy.HANDLERS, *v2.EVENT_TYPES)


# --- the provider interface --------------------------------------------------------------------


def parse(incoming: Incoming) -> Parsed:
    """Legacy webhooks or v2, told apart by their shape."""
    document, stored = parse_json_object(incoming.body)
    if "event" not in document and ("event_id" in document or "event_type" in document):
        return v2.parse(document, stored)
    return legacy.parse(document, stored)


def process(parsed: Parsed, delivery: WebhookDelivery) -> Outcome:
    if parsed.idempotency_key.startswith(v2.KEY):
        handler = v2.handler_for(parsed.event_type)
    else:
        handler = legacy.HANDLERS.get(parsed.event_type)
    return (handler or ignore)(parsed.document, delivery)


def repeat(parsed: Parsed, delivery: WebhookDelivery) -> Outcome | None:
    """A redelivered fulfilment_pending is answered from the reward's state now, so that the
    answer becomes 200 once staff have fulfilled it; other repeats get their first answer."""
    if parsed.event_type != "fulfilment_pending":
        return None
    reward_id = str(PayloadObject(parsed.document["data"], "data").identifier("id"))
    pk = Reward.objects.filter(provider=SLUG, external_id=reward_id).values_list("pk", flat=True)
    if not pk:
        return None
    return fulfilment_answer(request_fulfilment(pk[0]), reward_id)
