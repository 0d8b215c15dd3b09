"""The OpenAPI document's `webhooks`: every event the hub sends, with its payload and an example.

The payload's `data` is the object as the REST API returns it, so each event reuses the API's
serializer and example.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from referralhub.api import examples
from referralhub.api import serializers as s
from referralhub.models import EventType

HEADERS = (
    "Sent per the Standard Webhooks specification: headers `webhook-id` (the same on every "
    "attempt of this event), `webhook-timestamp` (Unix seconds) and `webhook-signature` "
    "(`v1,<base64 HMAC-SHA256>`, two of them while a rotated secret is still valid). Answer "
    "2xx within 15 s; anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and "
    "10 h; 410 switches the subscription off."
)
_TIMESTAMP = "2026-11-02T10:00:00.123456Z"
_SHAPES: dict[str, tuple[type, dict[str, Any]]] = {
    "promoter": (s.PromoterSerializer, examples.PROMOTER),
    "lead": (s.LeadSerializer, examples.LEAD),
    "reward": (s.RewardSerializer, examples.REWARD),
    "conversion": (s.ConversionSerializer, examples.CONVERSION),
    "delivery": (s.DeliverySerializer, examples.DELIVERY),
}
_EXAMPLE_CHANGES: dict[str, dict[str, Any]] = {
    EventType.LEAD_CONVERTED: {"customer_since": _TIMESTAMP, "state": "active"},
    EventType.LEAD_CANCELLED: {"cancelled_at": _TIMESTAMP, "state": "cancelled"},
    EventType.REWARD_APPROVED: {"status": "approved"},
    EventType.REWARD_DENIED: {"status": "denied", "decision_reason": "self-referral"},
    EventType.REWARD_FULFILLED: {"fulfilment": "fulfilled", "fulfilled_at": _TIMESTAMP},
    EventType.REWARD_PAID: {"date_paid": _TIMESTAMP},
    EventType.DELIVERY_FAILED: {"status": "failed", "error": "Traceback (most recent call…"},
}


def _payload(event_type: str, serializer: type) -> type[serializers.Serializer]:
    name = "".join(part.capitalize() for part in event_type.split(".")) + "Event"
    fields = {
        "type": serializers.ChoiceField(choices=[event_type]),
        "timestamp": serializers.DateTimeField(help_text="When the change happened."),
        "data": serializer(help_text="The object as the REST API returns it."),
    }
    return type(name, (serializers.Serializer,), fields)


def _webhook(event_type: EventType) -> OpenApiWebhook:
    serializer, example = _SHAPES[event_type.value.split(".")[0]]
    data = {**example, **_EXAMPLE_CHANGES.get(event_type, {})}
    return OpenApiWebhook(
        name=event_type.value,
        decorator=extend_schema(
            summary=event_type.label,
            description=HEADERS,
            request=_payload(event_type.value, serializer),
            responses={"2XX": OpenApiResponse(description="Received.")},
            examples=[
                OpenApiExample(
                    event_type.value,
                    value={"type": event_type.value, "timestamp": _TIMESTAMP, "data": data},
                )
            ],
        ),
    )


PROMOTER_CREATED = _webhook(EventType.PROMOTER_CREATED)
PROMOTER_UPDATED = _webhook(EventType.PROMOTER_UPDATED)
LEAD_CREATED = _webhook(EventType.LEAD_CREATED)
LEAD_UPDATED = _webhook(EventType.LEAD_UPDATED)
LEAD_CONVERTED = _webhook(EventType.LEAD_CONVERTED)
LEAD_CANCELLED = _webhook(EventType.LEAD_CANCELLED)
REWARD_CREATED = _webhook(EventType.REWARD_CREATED)
REWARD_APPROVED = _webhook(EventType.REWARD_APPROVED)
REWARD_DENIED = _webhook(EventType.REWARD_DENIED)
REWARD_FULFILLED = _webhook(EventType.REWARD_FULFILLED)
REWARD_PAID = _webhook(EventType.REWARD_PAID)
CONVERSION_CREATED = _webhook(EventType.CONVERSION_CREATED)
DELIVERY_FAILED = _webhook(EventType.DELIVERY_FAILED)
