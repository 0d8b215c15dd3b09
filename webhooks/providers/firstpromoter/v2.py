"""FirstPromoter's webhooks v2 (since April 2026): `{event_id, event_type, action, entity_type,
entity_id, changes, data, timestamp}`, where `data` is the whole resource after the event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.utils import timezone

from referralhub.mirror import Ref, Snapshot
from referralhub.models import (
    Campaign,
    Lead,
    Promoter,
    Promotion,
    Reward,
)
from webhooks.models import WebhookDelivery
from webhooks.payload import BadPayload, Obj
from webhooks.providers.base import (
    Handler,
    Outcome,
    Parsed,
    Spec,
    read_columns,
)
from webhooks.providers.firstpromoter.decisions import sync_decision_and_queue_v2
from webhooks.providers.firstpromoter.fields import (
    SLUG,
    V2_COMMISSION_FIELDS,
    V2_DELETED,
    V2_PROFILE_FIELDS,
    V2_PROMOTER_CAMPAIGN_FIELDS,
    V2_PROMOTER_CAMPAIGN_STATS,
    V2_PROMOTER_FIELDS,
    V2_REFERRAL_FIELDS,
)
from webhooks.providers.firstpromoter.objects import balance_by_unit, reward_amount

# `data` is the resource as FirstPromoter's v2 API serializes it. The documented examples are
# short (a commission names its referral but not its promoter); the links the v2 API adds
# (`promoter_campaign` with its promoter and campaign) are read when they are there.


KEY = "v2:"  # the idempotency key's prefix: a v2 event id is a UUID, a legacy one a number


def parse(document: dict[str, Any], stored: str) -> Parsed:
    root = Obj(document, "body")
    event_id = root.id("event_id")
    event_type = root.str("event_type", max_length=100)
    if not event_type:
        raise BadPayload("missing_field", "body.event_type is required")
    root.datetime("timestamp")
    data = root.obj("data", required=True)
    if handler_for(event_type) is not None and not _v2_test(data):
        data.id("id")
    return Parsed(event_type, f"{KEY}{event_id}", document, stored)


def _v2_test(data: Obj) -> bool:
    """FirstPromoter's "Send test" button delivers `"data": {"test": true}`."""
    return data.data.get("test") is True and "id" not in data


def _v2_snapshot(document: dict[str, Any]) -> tuple[Snapshot, Obj, bool]:
    at = Obj(document, "body").datetime("timestamp") or timezone.now()
    deleted = document.get("action") == V2_DELETED
    return Snapshot(SLUG, at), Obj(document["data"], "body.data"), deleted


# What a commission's referral, not yet mirrored, is first created with.
_V2_COMMISSION_REFERRAL: Spec = [("email", "email", "str"), ("uid", "uid", "str")]
# (model, key, what a shell of it is created with)
_V2_LINKS: tuple[tuple[type[Model], str, Spec], ...] = (
    (Promoter, "promoter", [("email", "email", "str")]),
    (Campaign, "campaign", [("name", "name", "str")]),
)


def _v2_campaign_links(snap: Snapshot, o: Obj, promoter: Ref | None = None) -> dict[str, Ref]:
    """The promoter and campaign a promoter campaign names (`promoter` or `promoter_id`,
    `campaign` or `campaign_id`); `promoter` when the promoter's own payload lists it."""
    links = {"promoter": promoter} if promoter else {}
    for model, key, shell_spec in _V2_LINKS:
        if key in links:
            continue
        nested = o.obj(key)
        external_id = nested and nested.id("id", required=False)
        external_id = external_id or o.id(f"{key}_id", required=False)
        if external_id:
            shell = read_columns(nested, shell_spec, model) if nested else {}
            links[key] = snap.ref(model, external_id, **shell)
    return links


def _v2_links(snap: Snapshot, o: Obj, values: dict[str, Any]) -> None:
    """The promotion, promoter and campaign of a referral or commission, from its
    `promoter_campaign`, when it names them."""
    if (link := o.obj("promoter_campaign")) is None:
        return
    links = _v2_campaign_links(snap, link)
    values.update(links)
    # A shell, as for the promoter and campaign: the promoter campaign's own events keep it current.
    shell = read_columns(link, V2_PROMOTER_CAMPAIGN_FIELDS, Promotion) | links
    if promotion := snap.ref(Promotion, link.id("id", required=False), **shell):
        values["promotion"] = promotion


def put_v2_promoter_campaign(
    snap: Snapshot, o: Obj, deleted: bool = False, promoter: Ref | None = None
) -> Ref:
    """`promoter`: the promoter whose payload lists this promoter campaign."""
    values = read_columns(o, V2_PROMOTER_CAMPAIGN_FIELDS, Promotion)
    if (stats := o.obj("stats")) is not None:
        values.update(read_columns(stats, V2_PROMOTER_CAMPAIGN_STATS, Promotion))
    values.update(_v2_campaign_links(snap, o, promoter))
    if (campaign := o.obj("campaign")) is not None and "name" in campaign:
        values["campaign_name"] = campaign.str("name")
    if deleted:
        values["status"] = V2_DELETED
    return snap.put(Promotion, o.id("id"), payload=o.data, **values)


def put_v2_promoter(snap: Snapshot, o: Obj, deleted: bool = False) -> Ref:
    values = read_columns(o, V2_PROMOTER_FIELDS, Promoter)
    if profile := o.obj("profile"):
        values.update(read_columns(profile, V2_PROFILE_FIELDS, Promoter))
    if "balances" in o:  # v2's one balance is what it earned, by unit (legacy's earnings_balance)
        values["earnings_balance"] = balance_by_unit(o, "balances")
    if deleted:
        values["status"] = V2_DELETED
    ref = snap.put(Promoter, o.id("id"), payload=o.data, **values)
    for promoter_campaign in o.objs("promoter_campaigns"):
        put_v2_promoter_campaign(snap, promoter_campaign, promoter=ref)
    return ref


def put_v2_referral(snap: Snapshot, o: Obj, deleted: bool = False) -> Ref:
    values = read_columns(o, V2_REFERRAL_FIELDS, Lead)
    _v2_links(snap, o, values)
    if deleted:
        values["state"] = V2_DELETED
    return snap.put(Lead, o.id("id"), payload=o.data, **values)


def put_v2_commission(snap: Snapshot, o: Obj, deleted: bool = False) -> Ref:
    values = read_columns(o, V2_COMMISSION_FIELDS, Reward) | reward_amount(o)
    if (referral := o.obj("referral")) is not None:
        shell = read_columns(referral, _V2_COMMISSION_REFERRAL, Lead)
        values["lead"] = snap.ref(Lead, referral.id("id"), **shell)
    _v2_links(snap, o, values)
    if deleted:
        values["provider_status"] = V2_DELETED
    values["status"] = Reward.Status.PENDING  # insert-only, as for reward_created
    values["provider_asks_fulfilment"] = False  # v2 sends no fulfilment_pending
    return snap.put(Reward, o.id("id"), payload=o.data, **values)


def _v2_handler(
    put: Callable[[Snapshot, Obj, bool], Ref], then: Callable[[int], None] | None = None
) -> Handler:
    def handle(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
        snap, data, deleted = _v2_snapshot(document)
        if _v2_test(data):
            return Outcome(
                status=WebhookDelivery.Status.IGNORED,
                body={"status": "ignored", "detail": "A test delivery: nothing to mirror."},
            )
        ref = put(snap, data, deleted)
        pks = snap.save()
        if then is not None:
            then(pks[ref])
        return Outcome(body={"status": "processed"})

    return handle


_ON_V2_PROMOTER = _v2_handler(put_v2_promoter)
_ON_V2_REFERRAL = _v2_handler(put_v2_referral)
_ON_V2_PROMOTER_CAMPAIGN = _v2_handler(put_v2_promoter_campaign)
_ON_V2_COMMISSION = _v2_handler(put_v2_commission, then=sync_decision_and_queue_v2)
# A v2 event type names its resource first (`promoter.profile.updated`), so the resource picks the
# handler; that also covers a type not in FirstPromoter's list (`referral.converted`, which its
# announcement named, or one added later). Every other resource (payouts, payout methods, contract
# documents) is acknowledged as ignored; the inbox keeps its body.
_BY_RESOURCE: dict[str, Handler] = {
    "promoter": _ON_V2_PROMOTER,
    "promoter_campaign": _ON_V2_PROMOTER_CAMPAIGN,
    "referral": _ON_V2_REFERRAL,
    "commission": _ON_V2_COMMISSION,
}
# FirstPromoter's list of the types of those resources, for the inbox's filters.
EVENT_TYPES = (
    "promoter.created",
    "promoter.updated",
    "promoter.deleted",
    "promoter.profile.updated",
    "promoter.balance.updated",
    "promoter_campaign.created",
    "promoter_campaign.updated",
    "promoter_campaign.deleted",
    "referral.created",
    "referral.updated",
    "referral.deleted",
    "referral.moved",
    "commission.created",
    "commission.updated",
    "commission.deleted",
)


def handler_for(event_type: str) -> Handler | None:
    """The handler of a v2 event type, by its resource (`referral.<action>`)."""
    resource, dot, _ = event_type.partition(".")
    return _BY_RESOURCE.get(resource) if dot else None
