"""FirstPromoter's legacy webhooks, as its documentation shows them:
`{"event": {id, type, created_at}, "data": {...}}`."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from referralhub.mirror import Snapshot
from referralhub.models import Promoter
from webhooks.models import WebhookDelivery
from webhooks.payload import BadPayload, PayloadObject
from webhooks.providers.base import Handler, Outcome, Parsed
from webhooks.providers.firstpromoter.decisions import (
    fulfilment_answer,
    request_fulfilment,
    sync_decision,
)
from webhooks.providers.firstpromoter.fields import SLUG
from webhooks.providers.firstpromoter.objects import (
    put_campaign,
    put_lead,
    put_promoter,
    put_promotion,
    put_reward,
)


def _snapshot(document: dict[str, Any]) -> tuple[Snapshot, PayloadObject]:
    event = PayloadObject(document["event"], "event")
    at = event.timestamp("created_at") or timezone.now()
    return Snapshot(SLUG, at), PayloadObject(document["data"], "data")


def _saved(snap: Snapshot, **body: Any) -> Outcome:
    snap.save()
    return Outcome(body={"status": "processed", **body})


def on_lead(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    put_lead(snap, data)
    return _saved(snap)


def on_promoter_signed_up(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    promoter = put_promoter(snap, data.child("promoter", required=True))
    for promotion in data.children("promotions"):
        put_promotion(snap, promotion, promoter=promoter)
    return _saved(snap)


def on_promoter_accepted(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    promoter = put_promoter(snap, data.child("promoter", required=True))
    campaign = put_campaign(snap, fields) if (fields := data.child("campaign")) else None
    if (promotion := data.child("promotion")) is not None:
        put_promotion(snap, promotion, promoter=promoter)
    if campaign:
        snap.put(Promoter, promoter.external_id, campaign=campaign)
    return _saved(snap)


def on_reward_created(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    ref = put_reward(snap, data)
    sync_decision(snap.save()[ref])
    return Outcome(body={"status": "processed"})


def on_fulfilment_pending(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    ref = put_reward(snap, data)
    state = request_fulfilment(snap.save()[ref], decide=True)
    return fulfilment_answer(state, str(data.identifier("id")))


HANDLERS: dict[str, Handler] = {
    "lead_signup": on_lead,
    "lead_becomes_referral": on_lead,
    "new_customer": on_lead,
    "customer_created": on_lead,
    "lead_cancelled": on_lead,
    "promoter_signed_up": on_promoter_signed_up,
    "promoter_accepted": on_promoter_accepted,
    "reward_created": on_reward_created,
    "fulfilment_pending": on_fulfilment_pending,
}
# Events whose data is one object that must carry an id: all but the promoter events, whose data
# holds the promoter (and its promotions) under keys of its own.
_DATA_ID_REQUIRED = frozenset(HANDLERS) - {"promoter_signed_up", "promoter_accepted"}


def parse(document: dict[str, Any], stored: str) -> Parsed:
    root = PayloadObject(document, "body")
    event = root.child("event", required=True)
    event_id = event.identifier("id")
    event_type = event.text("type", max_length=100)
    if not event_type:
        raise BadPayload("missing_field", "event.type is required")
    event.timestamp("created_at")
    data = root.child("data", required=True)
    if event_type in _DATA_ID_REQUIRED:
        data.identifier("id")
    return Parsed(event_type, f"event:{event_id}", document, stored)
