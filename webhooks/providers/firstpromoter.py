"""FirstPromoter webhooks, both kinds, told apart by their shape:

- legacy: `{"event": {id, type, created_at}, "data": {...}}`, the seeds' events;
- v2 (since April 2026): `{event_id, event_type, action, entity_type, entity_id, changes, data,
  timestamp}`, where `data` is the whole resource after the event.

Both use FirstPromoter's own ids, so they mirror into the same rows. Legacy webhooks sign nothing,
so the endpoint's unguessable token is the protection. v2 signs every delivery with the
subscription's secret key (`X-Webhook-Signature`, hex HMAC-SHA256 of the body): an endpoint with a
secret requires it, so v2 gets an endpoint of its own (see SETUP).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from referralhub.mirror import Ref, Snapshot
from referralhub.models import (
    Campaign,
    Lead,
    Promoter,
    Promotion,
    Provider,
    Reward,
    RewardRule,
    Unit,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.payload import BadPayload, Obj
from webhooks.providers.base import (
    Handler,
    Incoming,
    Outcome,
    Parsed,
    Spec,
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
    V2_COMMISSION_FIELDS,
    V2_PROFILE_FIELDS,
    V2_PROMOTER_CAMPAIGN_FIELDS,
    V2_PROMOTER_CAMPAIGN_STATS,
    V2_PROMOTER_FIELDS,
    V2_REFERRAL_FIELDS,
)

SLUG = Provider.FIRSTPROMOTER
METHODS = frozenset({"POST"})
CHALLENGE = ""  # a token in the URL, and an optional signature
SIGNATURE_HEADER = "X-Webhook-Signature"
# The provider status (or lead state) of a resource deleted on FirstPromoter (webhooks v2); for a
# reward, one of Reward.REFUSED_BY_PROVIDER.
V2_DELETED = "deleted"
SETUP = (
    "Register this URL as the webhook URL for the events to mirror, fulfilment_pending included. "
    "Legacy webhooks sign nothing, so the token in the URL is the only key: keep it private, and "
    "leave this endpoint without a secret. A webhooks v2 subscription (Settings, Integrations, "
    "Webhooks; the promoter.*, promoter_campaign.*, referral.* and commission.* events) signs "
    "its deliveries: give it an endpoint of its own whose secret is the subscription's secret "
    "key. Both kinds mirror into the same promoters, promotions, leads and rewards."
)


def _amount(o: Obj, key: str, unit: str) -> Decimal | None:
    """FirstPromoter sends cash in cents; other units are counted as they are."""
    return o.cents(key) if unit == "cash" else o.decimal(key)


def _reward_amount(o: Obj) -> dict[str, Any]:
    """A reward's (or v2 commission's) amount in its unit, and cash in the account's currency."""
    unit = o.str("unit", max_length=Reward._meta.get_field("unit").max_length)
    money = {"amount": _amount(o, "amount", unit)}
    if unit == "cash":
        money["currency"] = settings.FIRSTPROMOTER_CURRENCY
    return money


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
    values = read_columns(o, REWARD_FIELDS, Reward) | _reward_amount(o)
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


# The hub adopts FirstPromoter's approval or denial, or the campaign's auto-approval, for a reward
# no person has decided: a staff decision, or a fulfilment, is never overridden by a webhook, but an
# automatic one follows FirstPromoter's later word (webhooks v2 sends a commission again when it
# is approved, denied or deleted there). Raw SQL, built once: the same statement through the
# ORM's Case/When/Exists took about 5 ms per delivery to compile, more than all of the delivery's
# other statements together.
# Only these constant fragments and the models' table names are put together; every value is a
# parameter.
# A commission deleted on FirstPromoter (webhooks v2) is denied like a denied one.
_AUTOMATIC = "(r.decided_by_id IS NULL AND r.fulfilment <> %(fulfilled)s)"
_REFUSED_PARAMS = {f"refused{i}": s for i, s in enumerate(sorted(Reward.REFUSED_BY_PROVIDER))}
_REFUSED = f"r.provider_status IN ({', '.join(f'%({k})s' for k in _REFUSED_PARAMS)})"
_DENIED = f"({_AUTOMATIC} AND r.status <> %(denied)s AND {_REFUSED})"
_APPROVED = (
    f"({_AUTOMATIC} AND r.status <> %(approved)s AND NOT {_REFUSED}"  # noqa: S608
    f" AND (r.provider_status = %(approved)s OR (r.status = %(pending)s AND EXISTS ("
    f"SELECT 1 FROM {Campaign._meta.db_table} c"
    " WHERE c.id = r.campaign_id AND c.auto_approve_rewards))))"
)
# Every CASE reads the row as it was, so the decision can share one UPDATE with other changes.
DECISION = (
    f"status = CASE WHEN {_DENIED} THEN %(denied)s WHEN {_APPROVED} THEN %(approved)s"
    " ELSE r.status END, "
    f"decided_at = CASE WHEN {_DENIED} OR {_APPROVED} THEN %(now)s ELSE r.decided_at END, "
    f"decision_reason = CASE WHEN {_DENIED} OR {_APPROVED} THEN CASE r.provider_status"
    " WHEN %(approved)s THEN %(by_provider)s WHEN %(denied)s THEN %(by_provider)s"
    " WHEN %(deleted)s THEN %(by_deletion)s ELSE %(auto)s END"
    " ELSE r.decision_reason END, "
)
_UPDATE = f"UPDATE {Reward._meta.db_table} AS r SET "  # noqa: S608
_FULFILMENT = (
    "fulfilment = %(queued)s, "
    "fulfilment_requested_at = COALESCE(r.fulfilment_requested_at, %(now)s), "
    "fulfilment_last_requested_at = %(now)s, "
    "fulfilment_request_count = r.fulfilment_request_count + 1, updated = %(now)s "
    "WHERE r.id = %(pk)s AND r.fulfilment <> %(fulfilled)s RETURNING status"
)
SYNC_DECISION = f"{_UPDATE}{DECISION}updated = %(now)s WHERE r.id = %(pk)s"
# Webhooks v2 never send fulfilment_pending: FirstPromoter expects the company to deliver an
# approved non-monetary commission and mark it fulfilled there. So one approved after this event
# (the CASEs read the row before it) joins the fulfilment queue without an ask.
_V2_QUEUES = (
    "(r.fulfilment = %(not_requested)s AND r.unit NOT IN ('', %(cash)s)"
    f" AND ((r.status = %(approved)s AND NOT {_DENIED}) OR {_APPROVED}))"
)
SYNC_DECISION_AND_QUEUE_V2 = (
    f"{_UPDATE}{DECISION}"
    f"fulfilment = CASE WHEN {_V2_QUEUES} THEN %(queued)s ELSE r.fulfilment END, "
    f"fulfilment_requested_at = CASE WHEN {_V2_QUEUES} THEN %(now)s"
    " ELSE r.fulfilment_requested_at END, "
    "updated = %(now)s WHERE r.id = %(pk)s"
)
REQUEST_FULFILMENT = f"{_UPDATE}{_FULFILMENT}"
REQUEST_FULFILMENT_AND_DECIDE = f"{_UPDATE}{DECISION}{_FULFILMENT}"


# The statements' constant values; each call adds the reward's pk and the time.
_REWARD_VALUES = {
    "pending": Reward.Status.PENDING,
    "approved": Reward.Status.APPROVED,
    "denied": Reward.Status.DENIED,
    "deleted": V2_DELETED,
    "by_provider": "Decided on FirstPromoter.",
    "by_deletion": "Deleted on FirstPromoter.",
    "auto": "The campaign auto-approves rewards.",
    "queued": Reward.Fulfilment.PENDING,
    "not_requested": Reward.Fulfilment.NOT_REQUESTED,
    "cash": Unit.CASH,
    "fulfilled": Reward.Fulfilment.FULFILLED,
    **_REFUSED_PARAMS,
}


def _reward_update(sql: str, reward_pk: int) -> list[tuple]:
    """Run one of the statements above for a reward; return the rows it returned."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {**_REWARD_VALUES, "pk": reward_pk, "now": now}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def sync_decision(reward_pk: int) -> None:
    _reward_update(SYNC_DECISION, reward_pk)


def sync_decision_and_queue_v2(reward_pk: int) -> None:
    _reward_update(SYNC_DECISION_AND_QUEUE_V2, reward_pk)


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


def request_fulfilment(reward_pk: int, *, decide: bool = False) -> str:
    """Queue the reward for fulfilment (or count one more ask); return "fulfilled" once it is,
    else its decision ("pending", "approved" or "denied").

    With `decide`, the reward's decision is synced in the same statement (see DECISION): a
    fulfilled reward was approved first, so skipping it skips nothing.
    """
    sql = REQUEST_FULFILMENT_AND_DECIDE if decide else REQUEST_FULFILMENT
    rows = _reward_update(sql, reward_pk)  # none when it was fulfilled already
    return rows[0][0] if rows else Reward.Fulfilment.FULFILLED


def fulfilment_answer(state: str, reward_id: str) -> Outcome:
    """Exactly 200 tells FirstPromoter the reward is fulfilled; 202 keeps it pending there.

    A reward staff denied will never be fulfilled: the answer is an error, which FirstPromoter
    retries a few times and then marks the reward `has_issues`, for someone to deny it there too.
    """
    if state == Reward.Fulfilment.FULFILLED:
        return Outcome(body={"status": "fulfilled", "reward_id": reward_id})
    if state == Reward.Status.DENIED:
        detail = "Denied in ReferralHub: it will not be fulfilled. Deny it in FirstPromoter too."
        return Outcome(
            http_status=409,
            body={"error": "reward_denied", "detail": detail, "reward_id": reward_id},
        )
    return Outcome(
        http_status=202,
        body={"status": "pending", "fulfilment": "pending", "reward_id": reward_id},
    )


def on_fulfilment_pending(document: dict[str, Any], delivery: WebhookDelivery) -> Outcome:
    snap, data = _snapshot(document)
    ref = put_reward(snap, data)
    state = request_fulfilment(snap.save()[ref], decide=True)
    return fulfilment_answer(state, str(data.id("id")))


LEGACY_HANDLERS: dict[str, Handler] = {
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


# --- webhooks v2 -------------------------------------------------------------------------------
# `data` is the resource as FirstPromoter's v2 API serializes it. The documented examples are
# brief (a commission names its referral but not its promoter); the links the v2 API adds
# (`promoter_campaign` with its promoter and campaign) are read when they are there.


V2_KEY = "v2:"  # the idempotency key's prefix: a v2 event id is a UUID, a legacy one a number


def _parse_v2(document: dict[str, Any], stored: str) -> Parsed:
    root = Obj(document, "body")
    event_id = root.id("event_id")
    event_type = root.str("event_type", max_length=100)
    if not event_type:
        raise BadPayload("missing_field", "body.event_type is required")
    root.datetime("timestamp")
    data = root.obj("data", required=True)
    if v2_handler(event_type) is not None and not _v2_test(data):
        data.id("id")
    return Parsed(event_type, f"{V2_KEY}{event_id}", document, stored)


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


def _v2_campaign_links(snap: Snapshot, o: Obj, **known: Ref) -> dict[str, Ref]:
    """The promoter and campaign a promoter campaign names (`promoter` or `promoter_id`,
    `campaign` or `campaign_id`), unless `known`."""
    links = dict(known)
    for model, key, shell_spec in _V2_LINKS:
        if key in known:
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
    known = {"promoter": promoter} if promoter else {}
    values.update(_v2_campaign_links(snap, o, **known))
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
        values["earnings_balance"] = _balance(o, "balances")
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
    values = read_columns(o, V2_COMMISSION_FIELDS, Reward) | _reward_amount(o)
    if (referral := o.obj("referral")) is not None:
        shell = read_columns(referral, _V2_COMMISSION_REFERRAL, Lead)
        values["lead"] = snap.ref(Lead, referral.id("id"), **shell)
    _v2_links(snap, o, values)
    if deleted:
        values["provider_status"] = V2_DELETED
    values["status"] = Reward.Status.PENDING  # insert-only, as for reward_created
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
# Every other v2 event (payouts, payout methods, contract documents) is acknowledged as ignored;
# the inbox keeps its body.
V2_HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(
        (
            "promoter.created",
            "promoter.updated",
            "promoter.deleted",
            "promoter.profile.updated",
            "promoter.balance.updated",
        ),
        _ON_V2_PROMOTER,
    ),
    **dict.fromkeys(
        (
            "promoter_campaign.created",
            "promoter_campaign.updated",
            "promoter_campaign.deleted",
        ),
        _ON_V2_PROMOTER_CAMPAIGN,
    ),
    **dict.fromkeys(
        ("referral.created", "referral.updated", "referral.deleted", "referral.moved"),
        _ON_V2_REFERRAL,
    ),
    **dict.fromkeys(
        ("commission.created", "commission.updated", "commission.deleted"), _ON_V2_COMMISSION
    ),
}

# An event type not in the list above whose resource is one of these (`referral.converted`, which
# FirstPromoter's announcement named, or a type added later) carries that resource all the same.
_V2_RESOURCES: dict[str, Handler] = {
    "promoter": _ON_V2_PROMOTER,
    "promoter_campaign": _ON_V2_PROMOTER_CAMPAIGN,
    "referral": _ON_V2_REFERRAL,
    "commission": _ON_V2_COMMISSION,
}


def v2_handler(event_type: str) -> Handler | None:
    """The handler of a v2 event type, by name or else by its resource (`referral.<action>`)."""
    resource, dot, _ = event_type.partition(".")
    return V2_HANDLERS.get(event_type) or (_V2_RESOURCES.get(resource) if dot else None)


HANDLERS: dict[str, Handler] = {**LEGACY_HANDLERS, **V2_HANDLERS}


def process(parsed: Parsed, delivery: WebhookDelivery) -> Outcome:
    if parsed.idempotency_key.startswith(V2_KEY):
        handler = v2_handler(parsed.event_type)
    else:
        handler = LEGACY_HANDLERS.get(parsed.event_type)
    return (handler or ignore)(parsed.document, delivery)


# --- the provider interface --------------------------------------------------------------------


def verify(endpoint: WebhookEndpoint, incoming: Incoming) -> bool:
    if not endpoint.secret:
        return True
    signature = incoming.headers.get(SIGNATURE_HEADER, "")
    return bool(signature) and hmac_matches(endpoint.secret, incoming.body, signature)


def parse(incoming: Incoming) -> Parsed:
    document, stored = parse_json_object(incoming.body)
    if "event" not in document and ("event_id" in document or "event_type" in document):
        return _parse_v2(document, stored)
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
