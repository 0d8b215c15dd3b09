"""InviteReferrals' conversion webhook: one call per referral conversion, as GET parameters (or,
with its newer settings, a PUT/POST form or query string), optionally behind HTTP Basic auth.

There is no event id: `orderID` + `referee_email` + `conversion` identifies a delivery, so a pending
conversion that later succeeds is two deliveries updating one `Conversion`. There is no timestamp
either: the order of arrival is the order of events.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import QueryDict

from referralhub.mirror import Ref, Snapshot
from referralhub.models import Conversion, Lead, Promoter, Provider, Reward
from webhooks.models import WebhookDelivery
from webhooks.payload import BadPayload, PayloadObject, text_problem
from webhooks.providers.base import Incoming, Outcome, Parsed, parse_json_object

SLUG = Provider.INVITEREFERRALS
METHODS = frozenset({"GET", "POST", "PUT"})
SIGNATURE_HEADER = ""  # it signs nothing: Basic auth or a header protects the endpoint
EVENT_TYPE = "conversion"  # its only event, which carries no type: the inbox names it so
SETUP = (
    "Register this URL as the Conversion Webhook, with GET, POST or PUT, and turn on its HTTP "
    "Basic auth with a long random password: set the same password on this endpoint (and the "
    "user name too, to have it checked)."
)
FIELDS = (
    "conversion",
    "referrer_name",
    "referrer_email",
    "referee_name",
    "referee_email",
    "orderID",
    "purchaseValue",
    "referrer_converts",
    "referrer_customValue",
    "goal_complete",
)


def _params(incoming: Incoming) -> dict[str, str]:
    # A repeated field is its last value, as QueryDict reads it (its stubs allow lists).
    params = {k: str(v) for k, v in incoming.query.items() if k in FIELDS}
    params.update({k: v for k, v in _form(incoming).items() if k in FIELDS})
    for key, value in params.items():
        if problem := text_problem(value):
            raise BadPayload("invalid_field", f"params.{key} {problem}")
    return params


def _form(incoming: Incoming) -> dict[str, str]:
    """The fields of a form (or JSON) body; none when there is no body."""
    if not incoming.body:
        return {}
    try:
        text = incoming.body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPayload("malformed_body", "The body is not UTF-8 text.") from None
    if "json" not in incoming.content_type:
        return {k: str(v) for k, v in QueryDict(text).items()}
    document, _ = parse_json_object(incoming.body)
    return {k: "" if v is None else str(v) for k, v in document.items()}


def parse(incoming: Incoming) -> Parsed:
    params = _params(incoming)
    payload = PayloadObject(params, "params")
    conversion = payload.text("conversion").strip().lower()
    if not conversion:
        raise BadPayload("missing_field", "params.conversion is required")
    if conversion not in Conversion.Status.values:
        raise BadPayload(
            "invalid_field",
            f"params.conversion: expected success, fail or pending, got {conversion!r}",
        )
    referrer = payload.text("referrer_email", max_length=254).strip().lower()
    referee = payload.text("referee_email", max_length=254).strip().lower()
    for key, value in (("referrer_email", referrer), ("referee_email", referee)):
        if not value:
            raise BadPayload("missing_field", f"params.{key} is required")
    for key in ("referrer_name", "referee_name", "orderID", "referrer_customValue"):
        payload.text(key)
    payload.decimal("purchaseValue")
    payload.integer("referrer_converts")
    payload.boolean("goal_complete")
    params.update(conversion=conversion, referrer_email=referrer, referee_email=referee)
    key = f"{params.get('orderID', '')}:{referee}:{conversion}"
    stored = incoming.body.decode("utf-8") if incoming.body else ""
    return Parsed(EVENT_TYPE, key, params, stored)


def _split_name(name: str) -> dict[str, str]:
    first, _, last = name.strip().partition(" ")
    return {"first_name": first[:150], "last_name": last.strip()[:150]}


def process(parsed: Parsed, delivery: WebhookDelivery) -> Outcome:
    payload = PayloadObject(parsed.document, "params")
    snap = Snapshot(SLUG, delivery.received_at)
    order_id = payload.text("orderID")
    status = payload.text("conversion")
    referee_email = payload.text("referee_email")
    promoter_values: dict[str, Any] = {"email": payload.text("referrer_email")}
    if "referrer_name" in payload:
        promoter_values.update(_split_name(payload.text("referrer_name")))
    if "referrer_converts" in payload:
        promoter_values["conversions_count"] = payload.integer("referrer_converts")
    if "referrer_customValue" in payload:
        promoter_values["custom_value"] = payload.text("referrer_customValue")
    promoter = snap.put(
        Promoter, payload.text("referrer_email"), payload=payload.data, **promoter_values
    )

    lead_values: dict[str, Any] = {"email": referee_email, "promoter": promoter}
    if "referee_name" in payload:
        lead_values["name"] = payload.text("referee_name")
    lead: Ref | None
    if status == Conversion.Status.SUCCESS:
        lead = snap.put(
            Lead,
            referee_email,
            payload=payload.data,
            state="active",
            customer_since=delivery.received_at,
            **lead_values,
        )
    else:
        # A pending or failed conversion must not undo an earlier success: only a new lead is
        # created from it, never an existing one changed.
        lead = snap.ref(Lead, referee_email, payload=payload.data, state="signup", **lead_values)

    goal_complete = bool(payload.boolean("goal_complete"))
    conversion = snap.put(
        Conversion,
        order_id or f"referee:{referee_email}",
        payload=payload.data,
        promoter=promoter,
        lead=lead,
        order_id=order_id,
        status=status,
        purchase_value=payload.decimal("purchaseValue"),
        currency=settings.INVITEREFERRALS_CURRENCY,
        referrer_converts=payload.integer("referrer_converts"),
        referrer_custom_value=payload.text("referrer_customValue"),
        goal_complete=goal_complete,
    )
    if goal_complete:
        # The reward itself is configured on InviteReferrals: its amount is not in the webhook.
        snap.put(
            Reward,
            f"goal:{order_id or referee_email}",
            payload=payload.data,
            promoter=promoter,
            lead=lead,
            conversion=conversion,
            status=Reward.Status.PENDING,
        )
    snap.save()
    return Outcome(body={"status": "processed"})


def repeat(parsed: Parsed, delivery: WebhookDelivery) -> Outcome | None:
    return None
