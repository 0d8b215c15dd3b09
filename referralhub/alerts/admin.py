"""Alerts in the admin: read-only, each with its messages' state; failed ones can be sent again
by staff with the permission to."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from referralhub.alerts.models import Alert, AlertMessage
from referralhub.alerts.sending import can_resend, messages_resend


class MessageInline(admin.TabularInline):
    model = AlertMessage
    fields = ("channel", "state", "attempts", "sent_at", "next_attempt_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("alerts.view_alert")  # the messages are part of the alert

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("title", "sending", "kind", "count", "created")
    list_filter = ("kind", "messages__state")
    fields = ("kind", "title", "text", "count", "window", "created")
    readonly_fields = fields
    inlines = (MessageInline,)
    actions = ("resend",)
    date_hierarchy = "created"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                failed=Count("messages", filter=Q(messages__state=AlertMessage.State.FAILED)),
                pending=Count("messages", filter=Q(messages__state=AlertMessage.State.PENDING)),
                channels=Count("messages"),
            )
        )

    @admin.display(description="messages")
    def sending(self, alert: Any) -> str:
        if not alert.channels:
            return "No channel configured"
        if alert.failed:
            return f"{alert.failed} failed"
        return f"{alert.pending} sending" if alert.pending else "Sent"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return can_resend(request.user)

    @admin.action(description="Send failed messages again", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        failed = AlertMessage.objects.filter(alert__in=queryset, state=AlertMessage.State.FAILED)
        count = messages_resend(actor=request.user, messages=list(failed))
        self.message_user(request, f"Sending {count} message(s) again.", messages.SUCCESS)
