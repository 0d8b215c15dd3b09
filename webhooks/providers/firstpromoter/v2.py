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
from webhooks.payload import BadPayload, PayloadObject
from webhooks.providers.base import (
    Handler,
    Outcome,
    Parsed,
    Spec,
    read_columns,
)
from webhooks.providers.firstpromoter import push
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
    root = PayloadObject(document, "body")
    event_id = root.identifier("event_id")
    event_type = root.text("event_type", max_length=100)
    if not event_type:
        raise BadPayload("missing_field", "body.event_type is required")
    root.timestamp("timestamp")
    data = root.child("data", required=True)
    if handler_for(event_type) is not None and not _is_test(data):
        data.identifier("id")
    return Parsed(event_type, f"{KEY}{event_id}", document, stored)


def _is_test(data: PayloadObject) -> bool:
    """FirstPromoter's "Send test" button delivers `"data": {"test": true}`."""
    return data.data.get("test") is True and "id" not in data


def _snapshot(document: dict[str, Any]) -> tuple[Snapshot, PayloadObject, bool]:
    at = PayloadObject(document, "body").timestamp("timestamp") or timezone.now()
    deleted = document.get("action") == V2_DELETED
    return Snapshot(SLUG, at), PayloadObject(document["data"], "body.data"), deleted


# What a commission's referral, not yet mirrored, is first created with.
_COMMISSION_REFERRAL: Spec = [("email", "email", "text"), ("uid", "uid", "text")]
# (model, key, what a shell of it is created with)
_LINKS: tuple[tuple[type[Model], str, Spec], ...] = (
    (Promoter, "promoter", [("email", "email", "text")]),
    (Campaign, "campaign", [("name", "name", "text")]),
)


def _campaign_links(
    snap: Snapshot, payload: PayloadObject, promoter: Ref | None = None
) -> dict[str, Ref | None]:
    """The promoter and campaign a promoter campaign names (`promoter` or `promoter_id`,
    `campaign` or `campaign_id`); `promoter` when the promoter's own payload lists it."""
    links: dict[str, Ref | None] = {"promoter": promoter} if promoter else {}
    for model, key, shell_spec in _LINKS:
        if key in links:
            continue
        nested = payload.child(key)
        external_id = nested and nested.identifier("id", required=False)
        external_id = external_id or payload.identifier(f"{key}_id", required=False)
        if external_id:
            shell = read_columns(nested, shell_spec, model) if nested else {}
            links[key] = snap.ref(model, external_id, **shell)
    return links


def _links(snap: Snapshot, payload: PayloadObject, values: dict[str, Any]) -> None:
    """The promotion, promoter and campaign of a referral or commission, from its
    `promoter_campaign`, when it names them."""
    if (link := payload.child("promoter_campaign")) is None:
        return
    links = _campaign_links(snap, link)
    values.update(links)
    # A shell, as for the promoter and campaign: the promoter campaign's own events keep it current.
    shell = read_columns(link, V2_PROMOTER_CAMPAIGN_FIELDS, Promotion) | links
    if promotion := snap.ref(Promotion, link.identifier("id", required=False), **shell):
        values["promotion"] = promotion


def put_promoter_campaign(
    snap: Snapshot, payload: PayloadObject, deleted: bool = False, promoter: Ref | None = None
) -> Ref:
    """`promoter`: the promoter whose payload lists this promoter campaign."""
    values = read_columns(payload, V2_PROMOTER_CAMPAIGN_FIELDS, Promotion)
    if (stats := payload.child("stats")) is not None:
        values.update(read_columns(stats, V2_PROMOTER_CAMPAIGN_STATS, Promotion))
    values.update(_campaign_links(snap, payload, promoter))
    if (campaign := payload.child("campaign")) is not None and "name" in campaign:
        values["campaign_name"] = campaign.text("name")
    if deleted:
        values["status"] = V2_DELETED
    return snap.put(Promotion, payload.identifier("id"), payload=payload.data, **values)


def put_promoter(snap: Snapshot, payload: PayloadObject, deleted: bool = False) -> Ref:
    values = read_columns(payload, V2_PROMOTER_FIELDS, Promoter)
    if profile := payload.child("profile"):
        values.update(read_columns(profile, V2_PROFILE_FIELDS, Promoter))
    # v2's one balance is what it earned, by unit (legacy's earnings_balance).
    if "balances" in payload:
        values["earnings_balance"] = balance_by_unit(payload, "balances")
    if deleted:
        values["status"] = V2_DELETED
    ref = snap.put(Promoter, payload.identifier("id"), payload=payload.data, **values)
    for promoter_campaign in payload.children("promoter_campaigns"):
        put_promoter_campaign(snap, promoter_campaign, promoter=ref)
    return ref


def put_referral(snap: Snapshot, payload: PayloadObject, deleted: bool = False) -> Ref:
    values = read_columns(payload, V2_REFERRAL_FIELDS, Lead)
    _links(snap, payload, values)
    if deleted:
        values["state"] = V2_DELETED
    return snap.put(Lead, payload.identifier("id"), payload=payload.data, **values)


def put_commission(snap: Snapshot, payload: PayloadObject, deleted: bool = False) -> Ref:
    values = read_columns(payload, V2_COMMISSION_FIELDS, Reward) | reward_amount(payload)
    if (referral := payload.child("referral")) is not None:
        shell = read_columns(referral, _COMMISSION_REFERRAL, Lead)
        values["lead"] = snap.ref(Lead, referral.identifier("id"), **shell)
    _links(snap, payload, values)
    if deleted:
        values["provider_status"] = V2_DELETED
    values["status"] = Reward.Status.PENDING  # insert-only, as for reward_created
    values["provider_asks_fulfilment"] = False  # v2 sends no fulfilment_pending
    return snap.put(Reward, payload.identifier("id"), payload=payload.data, **values)


def _handler(
    put: Callable[[Snapshot, PayloadObject, bool], Ref],
    then: Callable[[int, PayloadObject], None] | None = None,
) -> Handler:
    def handle(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
        snap, data, deleted = _snapshot(document)
        if _is_test(data):
            return Outcome(
                status=WebhookDelivery.Status.IGNORED,
                body={"status": "ignored", "detail": "A test delivery: nothing to mirror."},
            )
        ref = put(snap, data, deleted)
        pks = snap.save()
        if then is not None:
            then(pks[ref], data)
        return Outcome(body={"status": "processed"})

    return handle


_ON_PROMOTER = _handler(put_promoter)
_ON_REFERRAL = _handler(put_referral)
_ON_PROMOTER_CAMPAIGN = _handler(put_promoter_campaign)


def _after_commission(reward_pk: int, data: PayloadObject) -> None:
    sync_decision_and_queue_v2(reward_pk)
    # FirstPromoter echoes a decision the hub sent it (commission.updated): it has it.
    push.confirm(reward_pk, data.data.get("status"))


_ON_COMMISSION = _handler(put_commission, then=_after_commission)
# A v2 event type names its resource first (`promoter.profile.updated`), so the resource picks the
# handler; that also covers a type not in FirstPromoter's list (`referral.converted`, which its
# announcement named, or one added later). Every other resource (payouts, payout methods, contract
# documents) is acknowledged as ignored; the inbox keeps its body.
_BY_RESOURCE: dict[str, Handler] = {
    "promoter": _ON_PROMOTER,
    "promoter_campaign": _ON_PROMOTER_CAMPAIGN,
    "referral": _ON_REFERRAL,
    "commission": _ON_COMMISSION,
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
