"""Request and response bodies of the actions, and the one error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from referralhub.api.serializers import DeliverySerializer, RewardSerializer
from referralhub.models import MAX_ID
from referralhub.services import MAX_BULK, REASON_REQUIRED, TRANSITIONS

MAX_TEXT = 2000


class Text(serializers.CharField):
    """A JSON string; DRF's CharField would also take 25 or true and store "25" or "True"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Id(serializers.IntegerField):
    """A JSON integer; DRF's IntegerField would also take "12" and 12.0."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="Machine-readable code, e.g. `invalid`, `not_found`.")
    detail = serializers.JSONField(
        help_text="What went wrong: a message, or per field (400) or per id (404, 409) messages."
    )


class ApproveBody(serializers.Serializer):
    note = Text(
        required=False, allow_blank=True, max_length=MAX_TEXT, help_text="Kept in the audit trail."
    )


class DenyBody(serializers.Serializer):
    reason = Text(min_length=1, max_length=MAX_TEXT, help_text="Why it is denied (required).")


class ReopenBody(serializers.Serializer):
    reason = Text(
        min_length=1, max_length=MAX_TEXT, help_text="Why it is pending again (required)."
    )


class FulfilBody(serializers.Serializer):
    note = Text(
        required=False, allow_blank=True, max_length=MAX_TEXT, help_text="e.g. what was sent."
    )


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "minItems": 1,
        "maxItems": MAX_BULK,
        "uniqueItems": True,
        "example": [12, 13],
    }
)
class IdList(serializers.ListField):
    child = Id(min_value=1, max_value=MAX_ID)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=1, max_length=MAX_BULK, **kwargs)

    def to_internal_value(self, data: Any) -> list[int]:
        ids = super().to_internal_value(data)
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise serializers.ValidationError(f"Give each id once; repeated: {dupes}.")
        return ids


class BulkBody(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(TRANSITIONS))
    ids = IdList(help_text=f"1 to {MAX_BULK} distinct reward ids.")
    reason = Text(
        required=False,
        min_length=1,
        max_length=MAX_TEXT,
        help_text="Required to deny and to reopen; ignored otherwise.",
    )
    note = Text(
        required=False,
        allow_blank=True,
        max_length=MAX_TEXT,
        help_text="Optional note for approve and fulfil.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["action"] in REASON_REQUIRED and not attrs.get("reason"):
            message = f"A reason is required to {attrs['action']}."
            raise serializers.ValidationError({"reason": [message]})
        return attrs

    @property
    def text(self) -> str:
        data = self.validated_data
        reasoned = data["action"] in REASON_REQUIRED
        return data.get("reason", "") if reasoned else data.get("note", "")


class BulkResult(serializers.Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField(help_text="How many rewards changed (all of those asked).")
    rewards = RewardSerializer(many=True)


class EndpointResponseSerializer(serializers.Serializer):
    status_code = serializers.IntegerField(help_text="What the webhook endpoint would answer.")
    body = serializers.JSONField()


class ReplayResult(serializers.Serializer):
    delivery = DeliverySerializer()
    answer = EndpointResponseSerializer()
