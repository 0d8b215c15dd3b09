"""FirstPromoter legacy webhooks: `{"event": {id, type, created_at}, "data": {...}}`.

FirstPromoter signs nothing, so the endpoint's unguessable token is the protection. When the
endpoint has a secret, the v2-style `X-Webhook-Signature` (hex HMAC-SHA256 of the body) is required.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, Exists, F, OuterRef, Q, TextField, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from referralhub.mirror import Ref, Snapshot
from referralhub.models import Campaign, Lead, Promoter, Promotion, Provider, Reward, RewardRule
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.payload import BadPayload, Obj
from webhooks.providers.base import (
    Incoming,
    Outcome,
    Parsed,
    dispatch,
    hmac_matches,
    ignore,
    parse_json_object,
    read_columns,
)
from webhooks.providers.firstpromoter_fields import (
    CAMPAIGN_FIELDS,
    LEAD_FIELDS,
    PROFILE_FIELDS,
    PROMOTER_FIELDS,
    PROMOTION_FIELDS,
    REWARD_FIELDS,
    RULE_FIELDS,
    SOCIAL_NETWORKS,
)

SLUG = Provider.FIRSTPROMOTER
METHODS = frozenset({"POST"})
SIGNATURE_HEADER = "X-Webhook-Signature"


def _amount(o: Obj, key: str, unit: str) -> Decimal | None:
    """FirstPromoter sends cash in cents; other units are counted as they are."""
    return o.cents(key) if unit == "cash" else o.decimal(key)


def _balance(o: Obj, key: str) -> dict[str, str | None] | None:
    balance = o.obj(key)
    if balance is None:
        return None
    amounts = {unit: _amount(balance, unit, unit) for unit in balance.data}
    return {unit: None if amount is None else str(amount) for unit, amount in amounts.items()}


# --- objects -----------------------------------------------------------------------------------


def put_rule(snap: Snapshot, kind: str, o: Obj | None) -> Ref | None:
    if o is None:
        return None
    # Every column, even those an offer lacks (type, per_of_sale): one shape per snapshot means
    # one upsert statement for all the rules a payload carries.
    values = {column: None if kind_ != "str" else "" for column, _, kind_ in RULE_FIELDS}
    values.update(read_columns(o, RULE_FIELDS, RewardRule))
    values["amount"] = _amount(o, "amount", values["unit"])
    return snap.put(RewardRule, f"{kind}:{o.id('id')}", kind=kind, payload=o.data, **values)


def put_campaign(snap: Snapshot, o: Obj) -> Ref:
    values = read_columns(o, CAMPAIGN_FIELDS, Campaign)
    for key in ("referral_reward", "promotion_reward", "target_reward"):
        if key in o:
            values[key] = put_rule(snap, RewardRule.Kind.REWARD, o.obj(key))
    if "offer" in o:
        values["offer"] = put_rule(snap, RewardRule.Kind.OFFER, o.obj("offer"))
    return snap.put(Campaign, o.id("id"), payload=o.data, **values)


def put_promotion(snap: Snapshot, o: Obj, promoter: Ref | None = None) -> Ref:
    values = read_columns(o, PROMOTION_FIELDS, Promotion)
    promoter = promoter or snap.ref(Promoter, o.id("promoter_id", required=False))
    if promoter:
        values["promoter"] = promoter
    if campaign_id := o.id("campaign_id", required=False):
        values["campaign"] = snap.ref(Campaign, campaign_id, name=o.str("campaign_name"))
    rules = {
        "current_offer": RewardRule.Kind.OFFER,
        "current_referral_reward": RewardRule.Kind.REWARD,
        "current_promotion_reward": RewardRule.Kind.REWARD,
        "current_target_reward": RewardRule.Kind.REWARD,
    }
    for key, kind in rules.items():
        if key in o:
            values[key] = put_rule(snap, kind, o.obj(key))
    return snap.put(Promotion, o.id("id"), payload=o.data, **values)


def put_promoter(snap: Snapshot, o: Obj) -> Ref:
    values = read_columns(o, PROMOTER_FIELDS, Promoter)
    for key in ("earnings_balance", "current_balance", "paid_balance"):
        if key in o:
            values[key] = _balance(o, key)
    if profile := o.obj("profile"):
        values.update(read_columns(profile, PROFILE_FIELDS, Promoter))
        if socials := profile.obj("social_accounts"):
            for network in SOCIAL_NETWORKS:
                account = socials.obj(network)
                values[f"{network}_url"] = account.str("url", max_length=500) if account else ""
    ref = snap.put(Promoter, o.id("id"), payload=o.data, **values)
    for promotion in o.objs("promotions"):
        put_promotion(snap, promotion, promoter=ref)
    return ref


def put_lead(snap: Snapshot, o: Obj) -> Ref:
    values = read_columns(o, LEAD_FIELDS, Lead)
    limit = Lead._meta.get_field("state").max_length
    state = o.str("state", max_length=limit) or o.str("status", max_length=limit)
    if state:
        values["state"] = state
    promoter = put_promoter(snap, p) if (p := o.obj("promoter")) else None
    if promoter:
        values["promoter"] = promoter
    if promotion_obj := o.obj("promotion"):
        values["promotion"] = put_promotion(snap, promotion_obj, promoter=promoter)
        if campaign_id := promotion_obj.id("campaign_id", required=False):
            values["campaign"] = snap.ref(Campaign, campaign_id)
    return snap.put(Lead, o.id("id"), payload=o.data, **values)


def put_reward(snap: Snapshot, o: Obj) -> Ref:
    values = read_columns(o, REWARD_FIELDS, Reward)
    unit = values.get("unit", "")
    values["amount"] = _amount(o, "amount", unit)
    if unit == "cash":
        values["currency"] = settings.FIRSTPROMOTER_CURRENCY
    if (p := o.obj("promoter")) is not None:
        values["promoter"] = put_promoter(snap, p)
    if (lead := o.obj("lead")) is not None:
        values["lead"] = put_lead(snap, lead)
    if (promotion := o.obj("promotion")) is not None:
        values["promotion"] = put_promotion(snap, promotion, promoter=values.get("promoter"))
        if campaign_id := promotion.id("campaign_id", required=False):
            values["campaign"] = snap.ref(Campaign, campaign_id)
    if (campaign := o.obj("campaign")) is not None:
        values["campaign"] = put_campaign(snap, campaign)
    if (rule := o.obj("reward")) is not None:
        values["rule"] = put_rule(snap, RewardRule.Kind.REWARD, rule)
    # Insert-only: the hub's decision starts pending; sync_decision() settles it after saving.
    values["status"] = Reward.Status.PENDING
    return snap.put(Reward, o.id("id"), payload=o.data, **values)


def decision(now: datetime) -> dict[str, Any]:
    """Column updates that adopt FirstPromoter's approval or denial, or the campaign's
    auto-approval, for a reward nobody has decided yet (staff decisions are never overridden by a
    webhook). All CASEs read the row as it was, so they can share one UPDATE with other changes."""
    undecided = Q(status=Reward.Status.PENDING, decided_at=None)
    by_provider = undecided & Q(provider_status__in=[Reward.Status.APPROVED, Reward.Status.DENIED])
    auto = Exists(Campaign.objects.filter(pk=OuterRef("campaign_id"), auto_approve_rewards=True))
    denied = undecided & Q(provider_status=Reward.Status.DENIED)
    approved = (
        undecided
        & ~Q(provider_status=Reward.Status.DENIED)
        & (Q(provider_status=Reward.Status.APPROVED) | Q(auto))
    )
    return {
        "status": Case(
            When(denied, then=Value(Reward.Status.DENIED)),
            When(approved, then=Value(Reward.Status.APPROVED)),
            default=F("status"),
        ),
        "decided_at": Case(When(denied | approved, then=Value(now)), default=F("decided_at")),
        "decision_reason": Case(
            When(by_provider, then=Value("Decided on FirstPromoter.")),
            When(approved, then=Value("The campaign auto-approves rewards.")),
            default=F("decision_reason"),
            output_field=TextField(),
        ),
    }


def sync_decision(reward_pk: int) -> None:
    now = timezone.now()
    Reward.objects.filter(pk=reward_pk).update(**decision(now), updated=now)


# --- events ------------------------------------------------------------------------------------


def _snapshot(document: dict[str, Any]) -> tuple[Snapshot, Obj]:
    event = Obj(document["event"], "event")
    at = event.datetime("created_at") or timezone.now()
    return Snapshot(SLUG, at), Obj(document["data"], "data")


def _saved(snap: Snapshot, **body: Any) -> Outcome:
    snap.save()
    return Outcome(body={"status": "processed", **body})


def on_lead(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    put_lead(snap, data)
    return _saved(snap)


def on_promoter_signed_up(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    promoter = put_promoter(snap, data.obj("promoter", required=True))
    for promotion in data.objs("promotions"):
        put_promotion(snap, promotion, promoter=promoter)
    return _saved(snap)


def on_promoter_accepted(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    promoter = put_promoter(snap, data.obj("promoter", required=True))
    campaign = put_campaign(snap, c) if (c := data.obj("campaign")) else None
    if (promotion := data.obj("promotion")) is not None:
        put_promotion(snap, promotion, promoter=promoter)
    if campaign:
        snap.put(Promoter, promoter.external_id, campaign=campaign)
    return _saved(snap)


def on_reward_created(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    ref = put_reward(snap, data)
    sync_decision(snap.save()[ref])
    return Outcome(body={"status": "processed"})


def request_fulfilment(reward_pk: int, *, decide: bool = False) -> bool:
    """Queue the reward for fulfilment (or count one more ask); True once it is fulfilled.

    With `decide`, the reward's decision is synced in the same statement (see `decision`): a
    fulfilled reward was approved first, so skipping it skips nothing.
    """
    now = timezone.now()
    queued = (
        Reward.objects.filter(pk=reward_pk)
        .exclude(fulfilment=Reward.Fulfilment.FULFILLED)
        .update(
            **(decision(now) if decide else {}),
            fulfilment=Reward.Fulfilment.PENDING,
            fulfilment_requested_at=Coalesce(F("fulfilment_requested_at"), Value(now)),
            fulfilment_last_requested_at=now,
            fulfilment_request_count=F("fulfilment_request_count") + 1,
            updated=now,
        )
    )
    return queued == 0


def fulfilment_answer(fulfilled: bool, reward_id: str) -> Outcome:
    """Exactly 200 tells FirstPromoter the reward is fulfilled; 202 keeps it pending there."""
    if fulfilled:
        return Outcome(body={"status": "fulfilled", "reward_id": reward_id})
    return Outcome(
        http_status=202,
        body={"status": "pending", "fulfilment": "pending", "reward_id": reward_id},
    )


def on_fulfilment_pending(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    ref = put_reward(snap, data)
    fulfilled = request_fulfilment(snap.save()[ref], decide=True)
    return fulfilment_answer(fulfilled, str(data.id("id")))


HANDLERS: dict[str, Callable[[Any, WebhookDelivery], Outcome]] = {
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
# Events whose data is one object that must carry an id.
_DATA_ID_REQUIRED = {
    "lead_signup",
    "lead_becomes_referral",
    "new_customer",
    "customer_created",
    "lead_cancelled",
    "reward_created",
    "fulfilment_pending",
}

process = dispatch(HANDLERS, ignore)


# --- the provider interface --------------------------------------------------------------------


def verify(endpoint: WebhookEndpoint, incoming: Incoming) -> bool:
    if not endpoint.secret:
        return True
    signature = incoming.headers.get(SIGNATURE_HEADER, "")
    return bool(signature) and hmac_matches(endpoint.secret, incoming.body, signature)


def parse(incoming: Incoming) -> Parsed:
    document, stored = parse_json_object(incoming.body)
    root = Obj(document, "body")
    event = root.obj("event", required=True)
    event_id = event.id("id")
    event_type = event.str("type", max_length=100)
    if not event_type:
        raise BadPayload("missing_field", "event.type is required")
    event.datetime("created_at")
    data = root.obj("data", required=True)
    if event_type in _DATA_ID_REQUIRED:
        data.id("id")
    return Parsed(event_type, f"event:{event_id}", document, stored)


def repeat(parsed: Parsed, delivery: WebhookDelivery) -> Outcome | None:
    """A redelivered fulfilment_pending is answered from the reward's state now, so that the
    answer becomes 200 once staff have fulfilled it; other repeats get their first answer."""
    if parsed.event_type != "fulfilment_pending":
        return None
    reward_id = str(Obj(parsed.document["data"], "data").id("id"))
    pk = Reward.objects.filter(provider=SLUG, external_id=reward_id).values_list("pk", flat=True)
    if not pk:
        return None
    return fulfilment_answer(request_fulfilment(pk[0]), reward_id)
