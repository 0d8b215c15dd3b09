"""Referral Rocket: `{"eventType", "data": <participant>, "createdAt", "updatedAt"}` (epoch ms).

Signed with `X-RR-Signature` when the endpoint has a secret. Referral Rocket refers to a referrer by
its referral `code` (a referee's `referredByCode`), so the code is the promoter's external id and
the participant id is kept beside it; a referee is a lead keyed by its participant id.

Only `referrer_added` is documented with its name. "Referee Created" and "Participant unlocked a
Reward" are accepted as `referee_added` (or any participant event whose data has `referredByCode`)
and any event type mentioning "reward"; other event types are stored and answered as ignored.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from referralhub.mirror import Ref, Snapshot
from referralhub.models import Campaign, Lead, Promoter, Provider, Reward
from webhooks.models import WebhookDelivery
from webhooks.payload import BadPayload, PayloadObject, epoch_ms
from webhooks.providers.base import (
    Incoming,
    Outcome,
    Parsed,
    Spec,
    body_hash,
    ignore,
    parse_json_object,
    read_columns,
)

SLUG = Provider.REFERRALROCKET
METHODS = frozenset({"POST"})
SIGNATURE_HEADER = "X-RR-Signature"
SETUP = (
    "Register this URL for the campaign's webhook events and set this endpoint's signing secret "
    "to the campaign's webhook signing secret: every delivery's X-RR-Signature is checked "
    "against it."
)
MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last moment a datetime holds
PARTICIPANT_EVENTS = frozenset(
    {
        "referrer_added",
        "referee_added",
        "referrer_created",
        "referee_created",
        "participant_added",
        "participant_updated",
    }
)

PARTICIPANT_FIELDS: Spec = [
    ("referral_reward", "referralReward", "decimal"),
    ("referral_reward_balance", "referralRewardBalance", "decimal"),
    ("referral_reward_redeemed", "referralRewardRedeemed", "decimal"),
    ("referee_reward", "refereeReward", "decimal"),
    ("referee_reward_balance", "refereeRewardBalance", "decimal"),
    ("referee_reward_redeemed", "refereeRewardRedeemed", "decimal"),
    ("referee_action_completed", "refereeActionCompleted", "boolean"),
    ("approval", "approval", "boolean"),
    ("total_referred", "totalReferred", "integer"),
    ("total_completed_referred", "totalCompletedReferred", "integer"),
    ("amount_paid", "amountPaid", "decimal"),
    ("payment_count", "paymentCount", "integer"),
    ("revenue_generated", "revenueGenerated", "decimal"),
    ("reward_due", "rewardDue", "decimal"),
    ("reward_paid", "rewardPaid", "decimal"),
    ("impression_count", "impressionCount", "integer"),
    ("provider_created_at", "createdOn", "timestamp"),
    ("first_name", "firstName", "text"),
    ("last_name", "lastName", "text"),
    ("email", "email", "text"),
    ("referee_action_completed_label", "refereeActionCompletedLabel", "text"),
    ("reward_type", "rewardType", "text"),
    ("reward_currency", "rewardCurrency", "text"),
    ("score", "score", "text"),
    ("referred_by_code", "referredByCode", "text"),
]


def _campaign(snap: Snapshot, data: PayloadObject) -> Ref | None:
    return snap.ref(Campaign, data.identifier("campaignId", required=False))


def put_referrer(snap: Snapshot, data: PayloadObject) -> Ref:
    code = data.identifier("code")
    values: dict[str, Any] = read_columns(data, PARTICIPANT_FIELDS, Promoter)
    values["participant_id"] = data.identifier("participantId")
    values["code"] = code
    if campaign := _campaign(snap, data):
        values["campaign"] = campaign
    return snap.put(Promoter, code, payload=data.data, **values)


def put_referee(snap: Snapshot, data: PayloadObject) -> Ref:
    referred_by = data.identifier("referredByCode")
    campaign = _campaign(snap, data)
    promoter = snap.ref(Promoter, referred_by, code=referred_by, campaign=campaign)
    name = f"{data.text('firstName')} {data.text('lastName')}".strip()
    completed = data.boolean("refereeActionCompleted")
    values: dict[str, Any] = {
        "email": data.text("email", max_length=254),
        "name": name[:255],
        "referred_by_code": referred_by,
        "promoter": promoter,
        "state": "active" if completed else "signup",
        "provider_created_at": data.timestamp("createdOn"),
    }
    if campaign:
        values["campaign"] = campaign
    if completed:
        values["customer_since"] = data.timestamp("updatedOn") or snap.at
    return snap.put(Lead, data.identifier("participantId"), payload=data.data, **values)


def on_participant(data: PayloadObject, snap: Snapshot, event_type: str) -> Outcome:
    if event_type.startswith("referrer") or not data.data.get("referredByCode"):
        put_referrer(snap, data)
    if data.data.get("referredByCode"):
        put_referee(snap, data)
    snap.save()
    return Outcome(body={"status": "processed"})


def on_reward(data: PayloadObject, snap: Snapshot, event_type: str, at_ms: int | None) -> Outcome:
    participant = data.identifier("participantId")
    is_referee = bool(data.data.get("referredByCode"))
    reward = data.child("reward")
    reward_id = (reward.identifier("id", required=False) if reward else None) or data.identifier(
        "rewardId", required=False
    )
    amount_source = reward or data
    values: dict[str, Any] = {
        "amount": amount_source.decimal("amount")
        if "amount" in amount_source
        else data.decimal("rewardAmount"),
        "unit": (
            amount_source.text("unit", max_length=20) or data.text("rewardType", 20) or "cash"
        ),
        "currency": data.text("rewardCurrency", max_length=10),
        "provider_status": amount_source.text("status", max_length=20),
        "status": Reward.Status.PENDING,
        "campaign": _campaign(snap, data),
    }
    if is_referee:
        values["beneficiary"] = Reward.Beneficiary.LEAD
        values["lead"] = put_referee(snap, data)
        values["promoter"] = snap.ref(Promoter, data.identifier("referredByCode"))
    else:
        values["promoter"] = put_referrer(snap, data)
    external_id = reward_id or f"{participant}:{event_type}:{at_ms or ''}"
    snap.put(Reward, external_id, payload=data.data, **values)
    snap.save()
    return Outcome(body={"status": "processed"})


def process(parsed: Parsed, delivery: WebhookDelivery) -> Outcome:
    event_type = parsed.event_type
    if not _is_known(event_type):
        return ignore(parsed.document, delivery)
    root = PayloadObject(parsed.document, "body")
    at_ms = root.integer("updatedAt", MAX_EPOCH_MS) or root.integer("createdAt", MAX_EPOCH_MS)
    at = (epoch_ms(at_ms) if at_ms else None) or timezone.now()
    snap = Snapshot(SLUG, at)
    data = root.child("data", required=True)
    if "reward" in event_type.lower():
        return on_reward(data, snap, event_type, at_ms)
    return on_participant(data, snap, event_type)


def _is_known(event_type: str) -> bool:
    return event_type in PARTICIPANT_EVENTS or "reward" in event_type.lower()


def parse(incoming: Incoming) -> Parsed:
    document, stored = parse_json_object(incoming.body)
    root = PayloadObject(document, "body")
    event_type = root.text("eventType", max_length=100)
    if not event_type:
        raise BadPayload("missing_field", "body.eventType is required")
    updated_at = root.integer("updatedAt", MAX_EPOCH_MS)
    root.integer("createdAt", MAX_EPOCH_MS)
    # An event type nobody has documented yet may have any shape: it is kept, as ignored.
    known = _is_known(event_type)
    data = root.child("data", required=known)
    participant = data.identifier("participantId", required=known) if data else None
    if data is not None and known and event_type.startswith("referrer"):
        data.identifier("code")
    if participant and updated_at:
        key = f"{event_type}:{participant}:{updated_at}"
    else:
        key = f"sha256:{body_hash(incoming.body)}"
    return Parsed(event_type, key, document, stored)


def repeat(parsed: Parsed, delivery: WebhookDelivery) -> Outcome | None:
    return None
