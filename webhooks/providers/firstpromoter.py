"""FirstPromoter legacy webhooks: `{"event": {id, type, created_at}, "data": {...}}`.

FirstPromoter signs nothing, so the endpoint's unguessable token is the protection. When the
endpoint has a secret, the v2-style `X-Webhook-Signature` (hex HMAC-SHA256 of the body) is required.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, F, Model, Q, Value, When
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
)

SLUG = Provider.FIRSTPROMOTER
METHODS = frozenset({"POST"})
SIGNATURE_HEADER = "X-Webhook-Signature"

# (column, payload key, Obj getter): a column is written only when its key is in the payload.
Spec = list[tuple[str, str, str]]
PROMOTER_FIELDS: Spec = [
    ("status", "status", "str"),
    ("email", "email", "str"),
    ("cust_id", "cust_id", "str"),
    ("provider_created_at", "created_at", "datetime"),
    ("default_promotion_external_id", "default_promotion_id", "str"),
    ("pref", "pref", "str"),
    ("default_ref_id", "default_ref_id", "str"),
    ("note", "note", "str"),
    ("w8_form_url", "w8_form_url", "str"),
    ("w9_form_url", "w9_form_url", "str"),
    ("parent_promoter_external_id", "parent_promoter_id", "str"),
]
PROFILE_FIELDS: Spec = [
    ("profile_external_id", "id", "str"),
    ("first_name", "first_name", "str"),
    ("last_name", "last_name", "str"),
    ("website", "website", "str"),
    ("company_name", "company_name", "str"),
    ("phone_number", "phone_number", "str"),
    ("address", "address", "str"),
    ("vat_id", "vat_id", "str"),
    ("country", "country", "str"),
    ("paypal_email", "paypal_email", "str"),
    ("avatar_url", "avatar_url", "str"),
    ("description", "description", "str"),
]
SOCIAL_NETWORKS = ("twitter", "youtube", "facebook", "linkedin", "instagram", "tiktok", "twitch")
PROMOTION_FIELDS: Spec = [
    ("status", "status", "str"),
    ("ref_id", "ref_id", "str"),
    ("promo_code", "promo_code", "str"),
    ("customer_promo_code", "customer_promo_code", "str"),
    ("target_reached_at", "target_reached_at", "datetime"),
    ("referral_link", "referral_link", "str"),
    ("campaign_name", "campaign_name", "str"),
    ("hidden", "hidden", "bool"),
    ("visitors_count", "visitors_count", "int"),
    ("leads_count", "leads_count", "int"),
    ("customers_count", "customers_count", "int"),
    ("active_customers_count", "active_customers_count", "int"),
    ("sales_count", "sales_count", "int"),
    ("sales_total", "sales_total", "cents"),
    ("refunds_count", "refunds_count", "int"),
    ("refunds_total", "refunds_total", "cents"),
    ("cancellations_count", "cancellations_count", "int"),
]
CAMPAIGN_FIELDS: Spec = [
    ("name", "name", "str"),
    ("landing_url", "landing_url", "str"),
    ("description", "description", "str"),
    ("private", "private", "bool"),
    ("color", "color", "str"),
    ("default_webhook_url", "default_webhook_url", "str"),
    ("auto_approve_rewards", "auto_approve_rewards", "bool"),
    ("auto_approve_promoters", "auto_approve_promoters", "bool"),
]
LEAD_FIELDS: Spec = [
    ("email", "email", "str"),
    ("uid", "uid", "str"),
    ("customer_since", "customer_since", "datetime"),
    ("cancelled_at", "cancelled_at", "datetime"),
    ("plan_name", "plan_name", "str"),
    ("suspicion", "suspicion", "str"),
    ("username", "username", "str"),
    ("website", "website", "str"),
    ("provider_created_at", "created_at", "datetime"),
    ("split_promotion_external_id", "split_promotion_id", "str"),
    ("split_percentage_value", "split_percentage_value", "decimal"),
    ("custom_fields", "custom_fields", "json"),
    ("visitor_sub_id", "visitor_sub_id", "str"),
]
REWARD_FIELDS: Spec = [
    ("provider_status", "status", "str"),
    ("unit", "unit", "str"),
    ("provider_created_at", "created_at", "datetime"),
    ("sale_external_id", "event_id", "str"),
    ("conversion_amount", "conversion_amount", "cents"),
    ("tier_level", "tier_level", "int"),
    ("split_type", "split_type", "str"),
    ("date_paid", "date_paid", "datetime"),
    ("due_date", "due_date", "datetime"),
    ("has_issues", "has_issues", "bool"),
]
RULE_FIELDS: Spec = [
    ("name", "name", "str"),
    ("type", "type", "str"),
    ("unit", "unit", "str"),
    ("per_of_sale", "per_of_sale", "decimal"),
    ("default_promo_code", "default_promo_code", "str"),
]


def _read(o: Obj, spec: Spec, model: type[Model]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, key, kind in spec:
        if key not in o:
            continue
        if kind == "str":
            # Checked against the column so that an over-long value is a 400, not a 500.
            values[column] = o.str(
                key, max_length=model._meta.get_field(column).max_length or 10**5
            )
        else:
            values[column] = getattr(o, kind)(key)
    return values


def _amount(o: Obj, key: str, unit: str) -> Decimal | None:
    """FirstPromoter sends cash in cents; other units are counted as they are."""
    return o.cents(key) if unit == "cash" else o.decimal(key)


def _balance(o: Obj, key: str) -> dict[str, str] | None:
    balance = o.obj(key)
    if balance is None:
        return None
    return {unit: str(_amount(balance, unit, unit)) for unit in balance.data}


# --- objects -----------------------------------------------------------------------------------


def put_rule(snap: Snapshot, kind: str, o: Obj | None) -> Ref | None:
    if o is None:
        return None
    values = _read(o, RULE_FIELDS, RewardRule)
    if "amount" in o:
        values["amount"] = _amount(o, "amount", values.get("unit", ""))
    return snap.put(RewardRule, f"{kind}:{o.id('id')}", kind=kind, payload=o.data, **values)


def put_campaign(snap: Snapshot, o: Obj) -> Ref:
    values = _read(o, CAMPAIGN_FIELDS, Campaign)
    for key in ("referral_reward", "promotion_reward", "target_reward"):
        if key in o:
            values[key] = put_rule(snap, RewardRule.Kind.REWARD, o.obj(key))
    if "offer" in o:
        values["offer"] = put_rule(snap, RewardRule.Kind.OFFER, o.obj("offer"))
    return snap.put(Campaign, o.id("id"), payload=o.data, **values)


def put_promotion(snap: Snapshot, o: Obj, promoter: Ref | None = None) -> Ref:
    values = _read(o, PROMOTION_FIELDS, Promotion)
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
    values = _read(o, PROMOTER_FIELDS, Promoter)
    for key in ("earnings_balance", "current_balance", "paid_balance"):
        if key in o:
            values[key] = _balance(o, key)
    if profile := o.obj("profile"):
        values.update(_read(profile, PROFILE_FIELDS, Promoter))
        if socials := profile.obj("social_accounts"):
            for network in SOCIAL_NETWORKS:
                account = socials.obj(network)
                values[f"{network}_url"] = account.str("url", max_length=500) if account else ""
    ref = snap.put(Promoter, o.id("id"), payload=o.data, **values)
    for promotion in o.objs("promotions"):
        put_promotion(snap, promotion, promoter=ref)
    return ref


def put_lead(snap: Snapshot, o: Obj) -> Ref:
    values = _read(o, LEAD_FIELDS, Lead)
    state = o.str("state") or o.str("status")
    if state:
        values["state"] = state
    promoter = put_promoter(snap, p) if (p := o.obj("promoter")) else None
    if promoter:
        values["promoter"] = promoter
    if promotion_obj := o.obj("promotion"):
        values["promotion"] = put_promotion(snap, promotion_obj, promoter=promoter)
        if campaign_id := promotion_obj.id("campaign_id", required=False):
            values["campaign"] = Ref(Campaign, campaign_id)
    return snap.put(Lead, o.id("id"), payload=o.data, **values)


def put_reward(snap: Snapshot, o: Obj) -> Ref:
    values = _read(o, REWARD_FIELDS, Reward)
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
            values["campaign"] = Ref(Campaign, campaign_id)
    if (campaign := o.obj("campaign")) is not None:
        values["campaign"] = put_campaign(snap, campaign)
    if (rule := o.obj("reward")) is not None:
        values["rule"] = put_rule(snap, RewardRule.Kind.REWARD, rule)
    # Insert-only: the hub's decision starts pending; sync_decision() settles it after saving.
    values["status"] = Reward.Status.PENDING
    return snap.put(Reward, o.id("id"), payload=o.data, **values)


def sync_decision(reward_pk: int) -> None:
    """Adopt FirstPromoter's approval or denial, or the campaign's auto-approval, unless the
    reward has already been decided (staff decisions are never overridden by a webhook)."""
    Reward.objects.filter(pk=reward_pk, status=Reward.Status.PENDING, decided_at=None).filter(
        Q(provider_status__in=[Reward.Status.APPROVED, Reward.Status.DENIED])
        | Q(campaign__auto_approve_rewards=True)
    ).update(
        status=Case(
            When(provider_status=Reward.Status.DENIED, then=Value(Reward.Status.DENIED)),
            default=Value(Reward.Status.APPROVED),
        ),
        decided_at=timezone.now(),
        decision_reason=Case(
            When(
                provider_status__in=[Reward.Status.APPROVED, Reward.Status.DENIED],
                then=Value("Decided on FirstPromoter."),
            ),
            default=Value("The campaign auto-approves rewards."),
        ),
    )


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


def _save_reward(snap: Snapshot, data: Obj) -> int:
    ref = put_reward(snap, data)
    pk = snap.save()[ref]
    sync_decision(pk)
    return pk


def on_reward_created(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    _save_reward(snap, data)
    return Outcome(body={"status": "processed"})


def request_fulfilment(reward_pk: int) -> bool:
    """Queue the reward for fulfilment (or count one more ask); True once it is fulfilled."""
    now = timezone.now()
    queued = (
        Reward.objects.filter(pk=reward_pk)
        .exclude(fulfilment=Reward.Fulfilment.FULFILLED)
        .update(
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
    pk = _save_reward(snap, data)
    return fulfilment_answer(request_fulfilment(pk), str(data.id("id")))


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
