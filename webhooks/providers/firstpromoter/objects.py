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
from webhooks.payload import Obj
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


def _amount(o: Obj, key: str, unit: str) -> Decimal | None:
    """FirstPromoter sends cash in cents; other units are counted as they are."""
    return o.cents(key) if unit == "cash" else o.decimal(key)


def reward_amount(o: Obj) -> dict[str, Any]:
    """A reward's (or v2 commission's) amount in its unit, and cash in the account's currency."""
    unit = o.str("unit", max_length=Reward._meta.get_field("unit").max_length)
    money = {"amount": _amount(o, "amount", unit)}
    if unit == "cash":
        money["currency"] = settings.FIRSTPROMOTER_CURRENCY
    return money


def balance_by_unit(o: Obj, key: str) -> dict[str, str | None] | None:
    balance = o.obj(key)
    if balance is None:
        return None
    amounts = {unit: _amount(balance, unit, unit) for unit in balance.data}
    return {unit: None if amount is None else str(amount) for unit, amount in amounts.items()}


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
            values[key] = balance_by_unit(o, key)
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
    if (p := o.obj("promoter")) is not None:
        values["promoter"] = put_promoter(snap, p)
    _put_promotion_of(snap, o, values)
    return snap.put(Lead, o.id("id"), payload=o.data, **values)


def _put_promotion_of(snap: Snapshot, o: Obj, values: dict[str, Any]) -> None:
    """The promotion a lead or reward names, with `values`' promoter, and its campaign."""
    if (promotion := o.obj("promotion")) is None:
        return
    values["promotion"] = put_promotion(snap, promotion, promoter=values.get("promoter"))
    if campaign_id := promotion.id("campaign_id", required=False):
        values["campaign"] = snap.ref(Campaign, campaign_id)


def put_reward(snap: Snapshot, o: Obj) -> Ref:
    values = read_columns(o, REWARD_FIELDS, Reward) | reward_amount(o)
    if (p := o.obj("promoter")) is not None:
        values["promoter"] = put_promoter(snap, p)
    if (lead := o.obj("lead")) is not None:
        values["lead"] = put_lead(snap, lead)
    _put_promotion_of(snap, o, values)
    if (campaign := o.obj("campaign")) is not None:
        values["campaign"] = put_campaign(snap, campaign)
    if (rule := o.obj("reward")) is not None:
        values["rule"] = put_rule(snap, RewardRule.Kind.REWARD, rule)
    # Insert-only: the hub's decision starts pending; sync_decision() settles it after saving.
    values["status"] = Reward.Status.PENDING
    values["provider_asks_fulfilment"] = True  # fulfilment_pending, for a non-monetary reward
    return snap.put(Reward, o.id("id"), payload=o.data, **values)
