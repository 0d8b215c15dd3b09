"""`/api/v1/payouts/`: payout batches, from a preview to the payment files and the record of
payment. Reading needs `referralhub.view_payoutbatch`; previewing and creating
`referralhub.add_payoutbatch`; marking paid, cancelling and reversing
`referralhub.pay_payoutbatch`. Every state change is made in referralhub.payouts.batches.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from django_filters import rest_framework as django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from referralhub.api import schema as docs
from referralhub.api.bodies import MAX_TEXT, Id, Text
from referralhub.api.filters import StrictOrdering
from referralhub.api.views import Conflict, ReadViewSet
from referralhub.models import MAX_ID, Campaign, PayoutBatch, PayoutItem, Provider
from referralhub.payouts import batches, selectors
from referralhub.payouts.files import FORMATS, payout_response
from referralhub.payouts.lines import BatchLines

BATCH_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "status": "open",
    "grouping": "reward",
    "filters": {
        "provider": "firstpromoter",
        "campaign": None,
        "currency": "USD",
        "approved_from": "2026-11-01",
        "approved_to": "2026-11-30",
    },
    "created": "2026-12-01T09:00:00Z",
    "created_by": "pam",
    "paid_at": None,
    "paid_by": None,
    "closed_at": None,
    "closed_by": None,
    "close_reason": "",
    "reward_count": 2,
    "totals": [{"currency": "USD", "count": 2, "total": "34.50"}],
}
DETAIL_EXAMPLE: dict[str, Any] = {
    **BATCH_EXAMPLE,
    "excluded": [],
    "warned": [{"reward": 14, "warnings": ["refused_by_provider"]}],
    "rewards": "/api/v1/rewards/?payout=7",
    "files": {fmt: f"/api/v1/payouts/7/files/{fmt}/" for fmt in FORMATS},
}

PREVIEW_EXAMPLE: dict[str, Any] = {
    "count": 2,
    "totals": [{"currency": "USD", "count": 2, "total": "34.5000"}],
    "warned": [
        {
            "reward": 14,
            "external_id": "9912",
            "provider": "firstpromoter",
            "payee": "jane@example.com",
            "amount": "12.00 USD",
            "warnings": ["refused_by_provider"],
            "blocking": False,
        }
    ],
    "warned_count": 1,
}


class CanCreate(BasePermission):
    message = "You do not have permission to create payout batches."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and batches.can_create(request.user))


class CanPay(BasePermission):
    message = "You do not have permission to mark payout batches paid, cancel or reverse them."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and batches.can_pay(request.user))


class RewardIds(serializers.ListField):
    child = Id(min_value=1, max_value=MAX_ID)

    def to_internal_value(self, data: Any) -> list[int]:
        ids = super().to_internal_value(data)
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Give each id once.")
        return ids


class FiltersBody(serializers.Serializer):
    provider = serializers.ChoiceField(
        choices=Provider.choices, required=False, help_text="Only this provider's rewards."
    )
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, help_text="Campaign id."
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217 code, e.g. `USD`."
    )
    approved_from = serializers.DateField(required=False, help_text="Approved on or after.")
    approved_to = serializers.DateField(required=False, help_text="Approved on or before.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("approved_from"), attrs.get("approved_to")
        if start and end and start > end:
            raise serializers.ValidationError({"approved_to": ["Before approved_from."]})
        return attrs

    @property
    def filters(self) -> selectors.BatchFilters:
        data = self.validated_data
        return selectors.BatchFilters(
            provider=data.get("provider", ""),
            campaign=data["campaign"].pk if data.get("campaign") else None,
            currency=data.get("currency", "").upper(),
            approved_from=data.get("approved_from"),
            approved_to=data.get("approved_to"),
        )


class CreateBody(FiltersBody):
    include = RewardIds(
        required=False,
        max_length=batches.MAX_INCLUDED,
        help_text="Warned rewards (see the preview) to pay all the same, chosen one by one.",
    )
    grouping = serializers.ChoiceField(
        choices=PayoutBatch.Grouping.choices,
        required=False,
        help_text="`reward`: one payout line per reward; `person`: one per payee and currency.",
    )


class MarkPaidBody(serializers.Serializer):
    exclude = RewardIds(
        required=False,
        max_length=100_000,
        help_text="Rewards of the batch that were not paid: they go back to unpaid.",
    )
    note = Text(required=False, allow_blank=True, max_length=MAX_TEXT)


class ReasonBody(serializers.Serializer):
    reason = Text(min_length=1, max_length=MAX_TEXT, help_text="Kept in the audit trail.")


class TotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=24, decimal_places=4, coerce_to_string=True)


class WarnedSerializer(serializers.Serializer):
    reward = serializers.IntegerField(source="reward_id")
    external_id = serializers.CharField()
    provider = serializers.CharField()
    payee = serializers.CharField(help_text="Payout email, or the promoter's name.")
    amount = serializers.CharField(help_text="As people read it.")
    warnings = serializers.ListField(
        source="codes",
        child=serializers.ChoiceField(choices=[w.code for w in selectors.WARNINGS]),
    )
    blocking = serializers.BooleanField(help_text="Cannot be included (nothing to pay).")


class PreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Rewards the batch would hold without warnings.")
    totals = TotalSerializer(many=True)
    warned = WarnedSerializer(many=True, help_text="The first 500 warned rewards.")
    warned_count = serializers.IntegerField()


class BatchSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    paid_by = serializers.CharField(source="paid_by.username", allow_null=True, read_only=True)
    closed_by = serializers.CharField(source="closed_by.username", allow_null=True, read_only=True)
    reward_count = serializers.IntegerField(help_text="Rewards it pays (or paid).")
    totals = serializers.SerializerMethodField()

    class Meta:
        model = PayoutBatch
        fields: tuple[str, ...] = (
            "id",
            "status",
            "grouping",
            "filters",
            "created",
            "created_by",
            "paid_at",
            "paid_by",
            "closed_at",
            "closed_by",
            "close_reason",
            "reward_count",
            "totals",
        )

    @extend_schema_field(TotalSerializer(many=True))
    def get_totals(self, batch: PayoutBatch) -> Any:
        return TotalSerializer(selectors.batch_totals(batch), many=True).data


class WarnedItemSerializer(serializers.Serializer):
    reward = serializers.IntegerField(source="reward_id")
    warnings = serializers.ListField(child=serializers.CharField())


class BatchDetailSerializer(BatchSerializer):
    excluded = serializers.SerializerMethodField(help_text="Rewards left out when it was paid.")
    warned = serializers.SerializerMethodField(help_text="Rewards included despite a warning.")
    rewards = serializers.SerializerMethodField(help_text="Its rewards, in the rewards list.")
    files = serializers.SerializerMethodField(help_text="Download URLs, one per format.")

    class Meta(BatchSerializer.Meta):
        fields = (
            *BatchSerializer.Meta.fields,
            "excluded",
            "warned",
            "rewards",
            "files",
        )

    def get_excluded(self, batch: PayoutBatch) -> list[int]:
        items = batch.items.filter(state=PayoutItem.State.EXCLUDED).order_by("reward_id")
        return list(items.values_list("reward_id", flat=True))

    @extend_schema_field(WarnedItemSerializer(many=True))
    def get_warned(self, batch: PayoutBatch) -> Any:
        items = batch.items.exclude(warnings=[]).order_by("reward_id")
        return WarnedItemSerializer(items, many=True).data

    def get_rewards(self, batch: PayoutBatch) -> str:
        return f"/api/v1/rewards/?payout={batch.pk}"

    def get_files(self, batch: PayoutBatch) -> dict[str, str]:
        return {fmt: f"/api/v1/payouts/{batch.pk}/files/{fmt}/" for fmt in FORMATS}


class PayoutBatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=PayoutBatch.Status.choices, help_text="Open, paid, cancelled or reversed."
    )

    class Meta:
        model = PayoutBatch
        fields = ["status"]


_FORMAT_PATTERN = "|".join(FORMATS)
_CHANGE_ERRORS = docs.errors(400, 401, 403, 404, 409)


def _refused(exc: batches.BatchRefused) -> Exception:
    if exc.errors:
        return Conflict({str(pk): reason for pk, reason in exc.errors.items()})
    return Conflict({"non_field_errors": [str(exc)]})


@extend_schema_view(
    list=extend_schema(
        summary="List payout batches",
        responses={200: BatchSerializer, **docs.errors(*docs.READ_ERRORS)},
        examples=docs.example("Batch", BATCH_EXAMPLE),
    ),
    retrieve=extend_schema(
        summary="One payout batch",
        description="With its totals per currency, the rewards left out when it was paid, the "
        "rewards included despite a warning, and where to read its rewards and files.",
        responses={200: BatchDetailSerializer, **docs.errors(*docs.DETAIL_ERRORS)},
        examples=docs.example("Batch", DETAIL_EXAMPLE),
    ),
)
class PayoutBatchViewSet(ReadViewSet):
    queryset = selectors.batch_list().select_related("closed_by")
    serializer_class = BatchSerializer
    filterset_class = PayoutBatchFilter
    filter_backends = [DjangoFilterBackend, StrictOrdering]
    ordering_fields = ("id", "created")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return BatchDetailSerializer if self.action != "list" else BatchSerializer

    def get_permissions(self) -> Any:
        if self.action == "create":
            return [CanCreate()]
        return super().get_permissions()

    def _answer(self, batch: PayoutBatch, code: int = status.HTTP_200_OK) -> Response:
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(BatchDetailSerializer(batch).data, status=code)

    @extend_schema(
        summary="Create a payout batch",
        description="From the approved rewards in no open or paid batch that the filters select, "
        "without the warned ones except those listed in `include`. 409 when an included reward "
        "cannot be, when nothing is left to pay, or when someone batched some of the same "
        "rewards at the same moment (nothing is created: preview again).",
        request=CreateBody,
        responses={201: BatchDetailSerializer, **_CHANGE_ERRORS},
        examples=[
            OpenApiExample(
                "November, USD",
                value={
                    "provider": "firstpromoter",
                    "currency": "USD",
                    "approved_from": "2026-11-01",
                    "approved_to": "2026-11-30",
                    "include": [14],
                },
                request_only=True,
            ),
            *docs.example("Created", DETAIL_EXAMPLE),
        ],
    )
    def create(self, request: Request) -> Response:
        body = CreateBody(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            batch = batches.payout_batch_create(
                actor=request.user,
                filters=body.filters,
                include=body.validated_data.get("include", []),
                grouping=body.validated_data.get("grouping", PayoutBatch.Grouping.REWARD),
            )
        except batches.BatchRefused as exc:
            raise _refused(exc) from exc
        except batches.BatchConflict as exc:
            raise Conflict({"non_field_errors": [str(exc)]}) from exc
        return self._answer(batch, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Preview a payout batch",
        description="What `POST /payouts/` with the same filters would hold now: totals per "
        "currency and the warned rewards, which are left out unless listed in `include`.",
        request=FiltersBody,
        responses={200: PreviewSerializer, **docs.errors(400, 401, 403)},
        examples=[
            OpenApiExample("December, USD", value={"currency": "USD"}, request_only=True),
            *docs.example("Preview", PREVIEW_EXAMPLE),
        ],
    )
    @action(detail=False, methods=["post"], permission_classes=[CanCreate])
    def preview(self, request: Request) -> Response:
        body = FiltersBody(data=request.data)
        body.is_valid(raise_exception=True)
        preview = selectors.batch_preview(body.filters)
        data = {
            "count": preview.count,
            "totals": preview.totals,
            "warned": preview.warned,
            "warned_count": preview.warned_count,
        }
        return Response(PreviewSerializer(data).data)

    @extend_schema(
        summary="Mark a payout batch paid",
        description="Only an open batch. Rewards listed in `exclude` were not paid: they leave "
        "the batch and are unpaid again. Sends `reward.paid` for each paid reward.",
        request=MarkPaidBody,
        responses={200: BatchDetailSerializer, **_CHANGE_ERRORS},
        examples=[
            OpenApiExample("Paid but one", value={"exclude": [15]}, request_only=True),
            *docs.example("Paid", {**DETAIL_EXAMPLE, "status": "paid"}),
        ],
    )
    @action(detail=True, methods=["post"], permission_classes=[CanPay])
    def mark_paid(self, request: Request, pk: str) -> Response:
        batch = self.get_object()
        body = MarkPaidBody(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            batches.payout_batch_mark_paid(
                batch=batch,
                actor=request.user,
                exclude=body.validated_data.get("exclude", []),
                note=body.validated_data.get("note", ""),
            )
        except batches.BatchRefused as exc:
            raise _refused(exc) from exc
        return self._answer(batch)

    @extend_schema(
        summary="Cancel an open payout batch",
        description="Nothing was paid: its rewards are unpaid again. A reason is required.",
        request=ReasonBody,
        responses={200: BatchDetailSerializer, **_CHANGE_ERRORS},
        examples=[
            OpenApiExample("Cancel", value={"reason": "wrong month"}, request_only=True),
            *docs.example("Cancelled", {**DETAIL_EXAMPLE, "status": "cancelled"}),
        ],
    )
    @action(detail=True, methods=["post"], permission_classes=[CanPay])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._close(request, batches.payout_batch_cancel)

    @extend_schema(
        summary="Reverse a paid payout batch",
        description="A correction of a batch marked paid by mistake (or whose payment came "
        "back): its rewards are unpaid again, the batch keeps its record. A reason is required.",
        request=ReasonBody,
        responses={200: BatchDetailSerializer, **_CHANGE_ERRORS},
        examples=[
            OpenApiExample("Reverse", value={"reason": "PayPal returned it"}, request_only=True),
            *docs.example("Reversed", {**DETAIL_EXAMPLE, "status": "reversed"}),
        ],
    )
    @action(detail=True, methods=["post"], permission_classes=[CanPay])
    def reverse(self, request: Request, pk: str) -> Response:
        return self._close(request, batches.payout_batch_reverse)

    def _close(self, request: Request, close: Any) -> Response:
        batch = self.get_object()
        body = ReasonBody(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            close(batch=batch, actor=request.user, reason=body.validated_data["reason"])
        except batches.BatchRefused as exc:
            raise _refused(exc) from exc
        return self._answer(batch)

    @extend_schema(
        summary="Download a payout batch's file",
        description="`paypal`: PayPal Payouts' web upload (one currency per file, 5,000 rows); "
        "`wise`: Wise's batch payment by email (1,000 rows); `csv`: a spreadsheet. One CSV, or a "
        "ZIP of parts when the format's limits split the batch. 409 when a line cannot be "
        "written in that format (an included reward without a payout email, for example).",
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/zip"): OpenApiTypes.BINARY,
            **docs.errors(*docs.DETAIL_ERRORS, 409),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=rf"files/(?P<fmt>{_FORMAT_PATTERN})",
        url_name="files",
    )
    def files(self, request: Request, pk: str, fmt: str) -> HttpResponseBase:
        batch = self.get_object()
        if not batch.is_active:
            raise Conflict({str(batch.pk): f"the batch is {batch.status}: nothing to pay"})
        try:
            return payout_response(fmt, BatchLines(batch), label=f"payout-{batch.pk}")
        except ValueError as exc:
            raise Conflict({str(batch.pk): str(exc)}) from exc
