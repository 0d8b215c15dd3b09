"""Payout batches, read-only: they are made, paid and reversed on the dashboard or the API, where
every step is checked and audited. Its rewards are listed on the dashboard's batch page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from referralhub.admin.base import ReadOnlyAdmin
from referralhub.models import PayoutBatch


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "created", "created_by", "paid_at", "paid_by")
    list_filter = ("status",)
    list_select_related = ("created_by", "paid_by")
    readonly_fields = (
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
    )
    fields = readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record of a payment: reversed on the dashboard, never deleted
