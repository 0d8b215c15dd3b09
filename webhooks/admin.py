"""Admin for the inbox (read-only, replayable); the endpoints' admin is `endpoint_admin`."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from referralhub.admin.base import (
    EMPTY,
    ReadOnlyAdmin,
    admin_url,
    audit_history,
    choices_filter,
    datetime_column,
    link_column,
    pre_block,
    pretty_json,
    pretty_text,
)
from webhooks import endpoint_admin, sync_admin  # noqa: F401 (they register their admins)
from webhooks.models import WebhookDelivery
from webhooks.providers import EVENT_TYPES
from webhooks.replays import REPLAYABLE, can_replay, delivery_replay

EventTypeFilter = choices_filter("event_type", "event type", EVENT_TYPES)
MAX_REPLAY = 100
OTHER_BODIES_SHOWN = 50


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "received",
        "provider",
        "event_type",
        "status_flag",
        "response_status",
        "attempts",
        "processing_attempts",
        "endpoint_link",
    )
    list_select_related = ("endpoint",)
    list_defer = ("headers", "body", "error", "query_string")
    list_filter = (
        "status",
        "provider",
        EventTypeFilter,
        ("received_at", admin.DateFieldListFilter),
        "endpoint",
    )
    search_fields = ("idempotency_key", "=event_type")
    # Matches the (-received_at, -id) index.
    ordering = ("-received_at", "-id")
    actions = ("replay_selected",)
    readonly_fields = (
        "query_pretty",
        "headers_pretty",
        "body_pretty",
        "error_pretty",
        "other_bodies",
        "history",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "endpoint",
                    "provider",
                    "event_type",
                    "idempotency_key",
                    "status",
                    "response_status",
                    ("received_at", "processed_at"),
                    ("attempts", "processing_attempts"),
                    "error_pretty",
                )
            },
        ),
        ("Request", {"fields": ("method", "query_pretty", "headers_pretty", "body_pretty")}),
        ("Other bodies sent under this key", {"fields": ("other_bodies",)}),
        ("Staff actions", {"fields": ("history",)}),
    )

    received = datetime_column("received_at", "received")

    @admin.display(description="status", ordering="status")
    def status_flag(self, obj: WebhookDelivery) -> str:
        label = obj.get_status_display()
        if obj.status in REPLAYABLE:
            return format_html('<strong class="rh-flag">{}</strong>', label)
        return label

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        delivery = self.get_object(request, object_id)
        replayable = bool(
            delivery and delivery.status in REPLAYABLE and self.has_replay_permission(request)
        )
        extra_context = {**(extra_context or {}), "replayable": replayable}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return can_replay(request.user)

    endpoint_link = link_column("endpoint", "endpoint__name")

    @admin.display(description="query string")
    def query_pretty(self, obj: WebhookDelivery) -> str:
        if not obj.query_string:
            return EMPTY
        return pretty_json(dict(parse_qsl(obj.query_string, keep_blank_values=True)))

    @admin.display(description="headers")
    def headers_pretty(self, obj: WebhookDelivery) -> str:
        return pretty_json(obj.headers)

    @admin.display(description="body")
    def body_pretty(self, obj: WebhookDelivery) -> str:
        return pretty_text(obj.body)

    @admin.display(description="not applied")
    def other_bodies(self, obj: WebhookDelivery) -> str:
        """What the provider sent under this key besides the body above (webhooks.inbox)."""
        attempts = obj.other_attempts.all()[:OTHER_BODIES_SHOWN]
        if not attempts:
            return "None: every attempt carried the body above."
        return format_html_join(
            "",
            "<p><strong>{}</strong>, {} (delivery status then: {})</p>{}{}",
            (
                (
                    a.get_outcome_display(),
                    localtime(a.recorded_at).strftime("%Y-%m-%d %H:%M:%S"),
                    a.get_status_display(),
                    pre_block(a.error) if a.error else "",
                    pretty_text(a.body),
                )
                for a in attempts
            ),
        )

    @admin.display(description="error")
    def error_pretty(self, obj: WebhookDelivery) -> str:
        return pre_block(obj.error) if obj.error else EMPTY

    @admin.display(description="audit trail")
    def history(self, obj: WebhookDelivery) -> str:
        return audit_history(obj)

    @admin.action(permissions=["replay"], description="Replay selected deliveries not processed")
    def replay_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        deliveries = list(queryset.order_by("received_at", "pk")[: MAX_REPLAY + 1])
        if len(deliveries) > MAX_REPLAY:
            messages.error(request, f"Select at most {MAX_REPLAY} deliveries at a time.")
            return None
        skipped = [d for d in deliveries if d.status not in REPLAYABLE]
        outcomes: Counter[str] = Counter()
        for delivery in deliveries:
            if delivery.status in REPLAYABLE:
                outcomes[self._replay(request, delivery)] += 1
        if skipped:
            ids = ", ".join(f"#{d.pk}" for d in skipped)
            messages.warning(request, f"Skipped {ids}: processed ones are never replayed.")
        if outcomes:
            summary = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items()))
            level = messages.WARNING if set(outcomes) & REPLAYABLE else messages.SUCCESS
            messages.add_message(request, level, f"Replayed {outcomes.total()}: {summary}.")
        if request.POST.get("_from_change") and len(deliveries) == 1:
            # Replayed from the delivery's own page: show the result there.
            return HttpResponseRedirect(admin_url(deliveries[0]))
        return None

    def _replay(self, request: HttpRequest, delivery: WebhookDelivery) -> str:
        delivery_replay(delivery=delivery, actor=request.user)
        return delivery.status
