"""`/api/v1/event-subscriptions/` and `/api/v1/event-deliveries/`: managing events out.

Every route needs the permission to manage event subscriptions, reading included: a
subscription's URL may carry a receiver's own token, and attempts keep what receivers answered.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from referralhub.api import schema as docs
from referralhub.api.bodies import Id, Text
from referralhub.api.pagination import Cursor
from referralhub.api.views import Conflict, ReadViewSet
from referralhub.events import subscriptions as service
from referralhub.models import EventAttempt, EventDelivery, EventSubscription, EventType
from referralhub.models.events import _iso

SUBSCRIPTION_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "url": "https://crm.example.com/hooks/referralhub",
    "description": "CRM: new customers and paid rewards",
    "events": ["lead.converted", "reward.paid"],
    "is_active": True,
    "disabled_at": None,
    "disabled_reason": "",
    "failing_since": None,
    "previous_secret_valid_until": None,
    "created": "2026-11-02T09:30:00Z",
    "updated": "2026-11-02T09:30:00Z",
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": 81,
    "subscription": 3,
    "event": {
        "id": "msg_5f0b0c2e8a4d4d1f9b6e2a7c3d4e5f60",
        "type": "reward.approved",
        "timestamp": "2026-11-02T10:00:00.123456Z",
    },
    "status": "pending",
    "attempt_count": 1,
    "next_attempt_at": "2026-11-02T10:00:05.200000Z",
    "last_attempt_at": "2026-11-02T10:00:00.200000Z",
    "last_status_code": 503,
    "last_error": "The endpoint answered HTTP 503.",
    "attempts": [
        {
            "attempted_at": "2026-11-02T10:00:00.200000Z",
            "succeeded": False,
            "status_code": 503,
            "error": "The endpoint answered HTTP 503.",
            "response_body": "Service Unavailable",
            "duration_ms": 41,
        }
    ],
}


class CanManageEvents(BasePermission):
    message = "You do not have permission to manage event subscriptions."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and service.can_manage(request.user))


class EventTypes(serializers.ListField):
    child = serializers.ChoiceField(choices=EventType.choices)

    def to_internal_value(self, data: Any) -> list[str]:
        return sorted(set(super().to_internal_value(data)))


class SubscriptionSerializer(serializers.ModelSerializer):
    url = Text(max_length=2000, help_text="https, to a public address (see the docs).")
    description = Text(max_length=255, required=False, allow_blank=True, default="")
    events = EventTypes(
        required=False,
        max_length=len(EventType.values),
        default=list,
        help_text="The event types to receive; an empty list means all of them.",
    )
    is_active = serializers.BooleanField(required=False, default=True)
    previous_secret_valid_until = serializers.DateTimeField(
        source="previous_secret_expires_at",
        read_only=True,
        allow_null=True,
        help_text="After a rotation, until when the previous secret also signs.",
    )

    class Meta:
        model = EventSubscription
        fields: tuple[str, ...] = (
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "previous_secret_valid_until",
            "created",
            "updated",
        )
        read_only_fields = ("disabled_at", "disabled_reason", "failing_since")


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret: shown in this answer only, never again."
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = (*SubscriptionSerializer.Meta.fields, "secret")


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret: shown this once.")
    previous_secret_valid_until = serializers.DateTimeField()


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventAttempt
        fields = (
            "attempted_at",
            "succeeded",
            "status_code",
            "error",
            "response_body",
            "duration_ms",
        )


class EventSummarySerializer(serializers.Serializer):
    id = serializers.CharField(source="webhook_id", help_text="The webhook-id header.")
    type = serializers.ChoiceField(choices=EventType.choices)
    timestamp = serializers.SerializerMethodField()

    def get_timestamp(self, event: Any) -> str:
        return _iso(event.created)


class EventDeliverySerializer(serializers.ModelSerializer):
    event = EventSummarySerializer()
    attempts = AttemptSerializer(many=True)

    class Meta:
        model = EventDelivery
        fields = (
            "id",
            "subscription",
            "event",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "attempts",
        )


class ReplaySinceBody(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Replay failed deliveries of events since then.")
    subscription = Id(required=False, min_value=1, help_text="Only this subscription's.")


class ReplayCount(serializers.Serializer):
    count = serializers.IntegerField()


def _refused(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


_SUBSCRIPTION_ERRORS = docs.errors(400, 401, 403)
_ONE_ERRORS = docs.errors(*docs.DETAIL_ERRORS)


@extend_schema_view(
    list=extend_schema(
        summary="List event subscriptions",
        responses={200: SubscriptionSerializer, **docs.errors(*docs.READ_ERRORS)},
        examples=docs.example("Subscription", SUBSCRIPTION_EXAMPLE),
    ),
    retrieve=extend_schema(
        summary="One event subscription",
        responses={200: SubscriptionSerializer, **_ONE_ERRORS},
        examples=docs.example("Subscription", SUBSCRIPTION_EXAMPLE),
    ),
    create=extend_schema(
        summary="Subscribe a URL to events",
        description="Answers the signing secret (`secret`) once: it is never shown again.",
        request=SubscriptionSerializer,
        responses={201: CreatedSubscriptionSerializer, **_SUBSCRIPTION_ERRORS},
        examples=[
            OpenApiExample(
                "Subscribe",
                value={
                    "url": SUBSCRIPTION_EXAMPLE["url"],
                    "events": SUBSCRIPTION_EXAMPLE["events"],
                    "description": SUBSCRIPTION_EXAMPLE["description"],
                },
                request_only=True,
            ),
            *docs.example("Created", {**SUBSCRIPTION_EXAMPLE, "secret": SECRET_EXAMPLE}),
        ],
    ),
    update=extend_schema(
        summary="Change an event subscription",
        responses={200: SubscriptionSerializer, **docs.errors(400, 401, 403, 404)},
        examples=[
            OpenApiExample(
                "Change",
                value={"url": SUBSCRIPTION_EXAMPLE["url"], "events": [], "description": "All"},
                request_only=True,
            ),
            *docs.example("Changed", {**SUBSCRIPTION_EXAMPLE, "events": []}),
        ],
    ),
    partial_update=extend_schema(
        summary="Change some fields of an event subscription",
        description="`is_active: true` switches a disabled subscription on again.",
        responses={200: SubscriptionSerializer, **docs.errors(400, 401, 403, 404)},
        examples=[
            OpenApiExample("Switch on", value={"is_active": True}, request_only=True),
            *docs.example("Changed", SUBSCRIPTION_EXAMPLE),
        ],
    ),
    destroy=extend_schema(
        summary="Delete an event subscription", responses={204: None, **_ONE_ERRORS}
    ),
)
class EventSubscriptionViewSet(
    ReadViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin
):
    queryset = EventSubscription.objects.all()
    serializer_class = SubscriptionSerializer
    permission_classes = [CanManageEvents]
    filter_backends: list = []
    ordering_fields = ("id", "created")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = SubscriptionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            subscription, secret = service.subscription_create(
                actor=request.user, **body.validated_data
            )
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        subscription.secret = secret
        return Response(CreatedSubscriptionSerializer(subscription).data, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription = self.get_object()
        partial = kwargs.get("partial", False)
        body = SubscriptionSerializer(subscription, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        try:
            service.subscription_update(
                actor=request.user, subscription=subscription, **body.validated_data
            )
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return Response(SubscriptionSerializer(subscription).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        service.subscription_delete(actor=request.user, subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rotate the signing secret",
        description="Answers the new secret once. The previous one also signs every message "
        "for a day (two signatures in `webhook-signature`), time to update the receiver.",
        request=None,
        responses={200: SecretSerializer, **_ONE_ERRORS},
        examples=docs.example(
            "Rotated",
            {"secret": SECRET_EXAMPLE, "previous_secret_valid_until": "2026-11-03T09:30:00Z"},
        ),
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        secret = service.subscription_rotate_secret(actor=request.user, subscription=subscription)
        subscription.refresh_from_db()
        valid_until = subscription.previous_secret_expires_at
        return Response(
            SecretSerializer({"secret": secret, "previous_secret_valid_until": valid_until}).data
        )


class EventDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EventDelivery.Status.choices)
    event_type = django_filters.ChoiceFilter(field_name="event__type", choices=EventType.choices)

    class Meta:
        model = EventDelivery
        fields = ("subscription", "status", "event_type")


@docs.read_docs("event-deliveries", EventDeliverySerializer, DELIVERY_EXAMPLE)
class EventDeliveryViewSet(ReadViewSet):
    queryset = EventDelivery.objects.select_related("event").prefetch_related("attempts")
    serializer_class = EventDeliverySerializer
    permission_classes = [CanManageEvents]
    filterset_class = EventDeliveryFilter
    pagination_class = Cursor  # a table that grows by every event times every subscription
    search_fields: tuple[str, ...] = ()
    ordering_fields = ("id", "created")

    @extend_schema(
        summary="Send a failed delivery again",
        description="With the same `webhook-id`, on a fresh retry schedule. Only failed "
        "deliveries of active subscriptions (409 otherwise).",
        request=None,
        responses={200: EventDeliverySerializer, **_ONE_ERRORS, **docs.errors(409)},
        examples=docs.example("Replayed", {**DELIVERY_EXAMPLE, "status": "pending"}),
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str) -> Response:
        delivery = self.get_object()
        try:
            service.delivery_replay(actor=request.user, delivery=delivery)
        except service.NotReplayable as exc:
            raise Conflict({str(delivery.pk): str(exc)}) from None
        return Response(EventDeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data)

    @extend_schema(
        summary="Send every failed delivery since a time again",
        operation_id="v1_event_deliveries_replay_since",
        request=ReplaySinceBody,
        responses={200: ReplayCount, **docs.errors(400, 401, 403)},
        examples=[
            OpenApiExample("Since", value={"since": "2026-11-01T00:00:00Z"}, request_only=True),
            *docs.example("Replayed", {"count": 12}),
        ],
    )
    @action(detail=False, methods=["post"], url_path="replay")
    def replay_since(self, request: Request) -> Response:
        body = ReplaySinceBody(data=request.data)
        body.is_valid(raise_exception=True)
        subscription = None
        if pk := body.validated_data.get("subscription"):
            subscription = EventSubscription.objects.filter(pk=pk).first()
            if subscription is None:
                raise ValidationError({"subscription": ["No such subscription."]})
        count = service.deliveries_replay_since(
            actor=request.user, since=body.validated_data["since"], subscription=subscription
        )
        return Response(ReplayCount({"count": count}).data)
