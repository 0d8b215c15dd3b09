"""FirstPromoter's objects as the legacy webhooks send them (their documented shapes), put into a
snapshot: promoters, promotions, campaigns and their rules, leads and rewards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from referralhub.mirror import Ref, Snapshot
from referralhub.models import (
    Campaign,
    Lead,
    Promoter,
    Promotion,
    Reward,
    RewardRule,
)
from referralhub.models.base import max_length
from webhooks.payload import PayloadObject
from webhooks.providers.base import read_columns
from webhooks.providers.firstpromoter.fields import (
    CAMPAIGN_FIELDS,
    LEAD_FIELDS,
    PROFILE_FIELDS,
    PROMOTER_FIELDS,
    PROMOTION_FIELDS,
    REWARD_FIELDS,
    RULE_FIELDS,
    SOCIAL_NETWORKS,
)


def _amount(payload: PayloadObject, key: str, unit: str) -> Decimal | None:
    """FirstPromoter sends cash in cents; other units are counted as they are."""
    return payload.cents(key) if unit == "cash" else payload.decimal(key)


def reward_amount(payload: PayloadObject) -> dict[str, Any]:
    """A reward's (or v2 commission's) amount in its unit, and cash in the account's currency."""
    unit = payload.text("unit", max_length=max_length(Reward, "unit"))
    money: dict[str, Any] = {"amount": _amount(payload, "amount", unit)}
    if unit == "cash":
        money["currency"] = settings.FIRSTPROMOTER_CURRENCY
    return money


def balance_by_unit(payload: PayloadObject, key: str) -> dict[str, str | None] | None:
    balance = payload.child(key)
    if balance is None:
        return None
    amounts = {unit: _amount(balance, unit, unit) for unit in balance.data}
    return {unit: None if amount is None else str(amount) for unit, amount in amounts.items()}


def put_rule(snap: Snapshot, kind: str, payload: PayloadObject | None) -> Ref | None:
    if payload is None:
        return None
    # Every column, even those an offer lacks (type, per_of_sale): one shape per snapshot means
    # one upsert statement for all the rules a payload carries.
    values: dict[str, Any] = {
        column: None if kind_ != "text" else "" for column, _, kind_ in RULE_FIELDS
    }
    values.update(read_columns(payload, RULE_FIELDS, RewardRule))
    values["amount"] = _amount(payload, "amount", values["unit"])
    return snap.put(
        RewardRule, f"{kind}:{payload.identifier('id')}", kind=kind, payload=payload.data, **values
    )


def put_campaign(snap: Snapshot, payload: PayloadObject) -> Ref:
    values = read_columns(payload, CAMPAIGN_FIELDS, Campaign)
    for key in ("referral_reward", "promotion_reward", "target_reward"):
        if key in payload:
            values[key] = put_rule(snap, RewardRule.Kind.REWARD, payload.child(key))
    if "offer" in payload:
        values["offer"] = put_rule(snap, RewardRule.Kind.OFFER, payload.child("offer"))
    return snap.put(Campaign, payload.identifier("id"), payload=payload.data, **values)


def put_promotion(snap: Snapshot, payload: PayloadObject, promoter: Ref | None = None) -> Ref:
    values = read_columns(payload, PROMOTION_FIELDS, Promotion)
    promoter = promoter or snap.ref(Promoter, payload.identifier("promoter_id", required=False))
    if promoter:
        values["promoter"] = promoter
    if campaign_id := payload.identifier("campaign_id", required=False):
        values["campaign"] = snap.ref(Campaign, campaign_id, name=payload.text("campaign_name"))
    rules = {
        "current_offer": RewardRule.Kind.OFFER,
        "current_referral_reward": RewardRule.Kind.REWARD,
        "current_promotion_reward": RewardRule.Kind.REWARD,
        "current_target_reward": RewardRule.Kind.REWARD,
    }
    for key, kind in rules.items():
        if key in payload:
            values[key] = put_rule(snap, kind, payload.child(key))
    return snap.put(Promotion, payload.identifier("id"), payload=payload.data, **values)


def put_promoter(snap: Snapshot, payload: PayloadObject) -> Ref:
    values = read_columns(payload, PROMOTER_FIELDS, Promoter)
    for key in ("earnings_balance", "current_balance", "paid_balance"):
        if key in payload:
            values[key] = balance_by_unit(payload, key)
    if profile := payload.child("profile"):
        values.update(read_columns(profile, PROFILE_FIELDS, Promoter))
        if socials := profile.child("social_accounts"):
            for network in SOCIAL_NETWORKS:
                account = socials.child(network)
                values[f"{network}_url"] = account.text("url", max_length=500) if account else ""
    ref = snap.put(Promoter, payload.identifier("id"), payload=payload.data, **values)
    for promotion in payload.children("promotions"):
        put_promotion(snap, promotion, promoter=ref)
    return ref


def put_lead(snap: Snapshot, payload: PayloadObject) -> Ref:
    values = read_columns(payload, LEAD_FIELDS, Lead)
    limit = max_length(Lead, "state")
    state = payload.text("state", max_length=limit) or payload.text("status", max_length=limit)
    if state:
        values["state"] = state
    if (promoter := payload.child("promoter")) is not None:
        values["promoter"] = put_promoter(snap, promoter)
    _put_promotion_of(snap, payload, values)
    return snap.put(Lead, payload.identifier("id"), payload=payload.data, **values)


def _put_promotion_of(snap: Snapshot, payload: PayloadObject, values: dict[str, Any]) -> None:
    """The promotion a lead or reward names, with `values`' promoter, and its campaign."""
    if (promotion := payload.child("promotion")) is None:
        return
    values["promotion"] = put_promotion(snap, promotion, promoter=values.get("promoter"))
    if campaign_id := promotion.identifier("campaign_id", required=False):
        values["campaign"] = snap.ref(Campaign, campaign_id)


def put_reward(snap: Snapshot, payload: PayloadObject) -> Ref:
    values = read_columns(payload, REWARD_FIELDS, Reward) | reward_amount(payload)
    if (promoter := payload.child("promoter")) is not None:
        values["promoter"] = put_promoter(snap, promoter)
    if (lead := payload.child("lead")) is not None:
        values["lead"] = put_lead(snap, lead)
    _put_promotion_of(snap, payload, values)
    if (campaign := payload.child("campaign")) is not None:
        values["campaign"] = put_campaign(snap, campaign)
    if (rule := payload.child("reward")) is not None:
        values["rule"] = put_rule(snap, RewardRule.Kind.REWARD, rule)
    # Insert-only: the hub's decision starts pending; sync_decision() settles it after saving.
    values["status"] = Reward.Status.PENDING
    values["provider_asks_fulfilment"] = True  # fulfilment_pending, for a non-monetary reward
    return snap.put(Reward, payload.identifier("id"), payload=payload.data, **values)
