"""Events out in the admin: subscriptions (the secret shown once, on the page that made it) and
every delivery with its attempts, failed ones replayable. All of it needs the permission to manage
event subscriptions."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from referralhub.events import subscriptions as service
from referralhub.models import EventAttempt, EventDelivery, EventSubscription, EventType

NEW_SECRET = "_new_secret"


class ManagersOnly:
    """Every page and action: the permission to manage event subscriptions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return service.can_manage(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return service.can_manage(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return service.can_manage(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return service.can_manage(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return service.can_manage(request.user)


class SubscriptionForm(forms.ModelForm):
    url = forms.CharField(max_length=2000, help_text="https, to a public address.")
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = EventSubscription
        fields = ("url", "description", "events", "is_active")

    def clean_url(self) -> str:
        try:
            return service.clean_url(self.cleaned_data["url"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None


@admin.register(EventSubscription)
class EventSubscriptionAdmin(ManagersOnly, admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("__str__", "url", "event_list", "is_active", "state", "created")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    actions = ("rotate_secret",)
    readonly_fields = ("state", "failing_since", "previous_secret_expires_at", "created")

    @admin.display(description="events")
    def event_list(self, subscription: EventSubscription) -> str:
        return ", ".join(subscription.events) or "all"

    @admin.display(description="state")
    def state(self, subscription: EventSubscription) -> str:
        if subscription.disabled_reason:
            return format_html(
                '<strong class="event-disabled">Disabled by the hub: {}</strong>',
                subscription.disabled_reason,
            )
        if subscription.failing_since:
            return f"Failing since {subscription.failing_since:%Y-%m-%d %H:%M}"
        return "Active" if subscription.is_active else "Off"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        for subscription in EventSubscription.objects.exclude(disabled_reason="")[:10]:
            messages.warning(
                request, f"{subscription} was disabled by the hub: {subscription.disabled_reason}"
            )
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: EventSubscription, form: Any, change: bool):
        values = {name: form.cleaned_data[name] for name in service.EDITABLE}
        if change:
            # The form has already set its values on `obj`: the service compares with the row.
            stored = EventSubscription.objects.get(pk=obj.pk)
            service.subscription_update(actor=request.user, subscription=stored, **values)
        else:
            made, secret = service.subscription_create(actor=request.user, **values)
            obj.pk = made.pk
            setattr(obj, NEW_SECRET, secret)  # for response_add, this request only

    # The services record every change in the audit trail and the admin's history already.
    def log_addition(self, *args: Any) -> None:  # type: ignore[override]
        pass

    def log_change(self, *args: Any) -> None:  # type: ignore[override]
        pass

    def delete_model(self, request: HttpRequest, obj: EventSubscription) -> None:
        service.subscription_delete(actor=request.user, subscription=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for subscription in queryset:
            service.subscription_delete(actor=request.user, subscription=subscription)

    def response_add(self, request: HttpRequest, obj: EventSubscription, *args: Any):
        return self._secret_page(request, obj, getattr(obj, NEW_SECRET), "Subscription created")

    @admin.action(description="Rotate the signing secret (one subscription)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one subscription.", messages.ERROR)
            return None
        subscription = queryset.get()
        secret = service.subscription_rotate_secret(actor=request.user, subscription=subscription)
        subscription.refresh_from_db()
        return self._secret_page(request, subscription, secret, "Secret rotated", rotated=True)

    def _secret_page(
        self, request: HttpRequest, subscription: EventSubscription, secret: str, title: str, **kw
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "subscription": subscription,
            "secret": secret,
            **kw,
        }
        response = TemplateResponse(
            request, "admin/referralhub/eventsubscription/secret.html", context
        )
        response["Cache-Control"] = "no-store"
        return response


class AttemptInline(admin.TabularInline):
    model = EventAttempt
    fields = ("attempted_at", "succeeded", "status_code", "error", "response_body", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return service.can_manage(request.user)


@admin.register(EventDelivery)
class EventDeliveryAdmin(ManagersOnly, admin.ModelAdmin):
    list_display = (
        "id",
        "event_type",
        "webhook_id",
        "subscription",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "created",
    )
    list_filter = ("status", "event__type", "subscription")
    list_select_related = ("event", "subscription")
    date_hierarchy = "created"  # narrow to a period, select all, replay
    fields = (
        "webhook_id",
        "event_type",
        "subscription",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "payload",
    )
    readonly_fields = fields
    inlines = (AttemptInline,)
    actions = ("replay",)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Shown read-only; the replay action asks for the manage permission itself.
        return False

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery: EventDelivery) -> str:
        return delivery.event.type

    @admin.display(description="webhook-id")
    def webhook_id(self, delivery: EventDelivery) -> str:
        return delivery.event.webhook_id

    @admin.display(description="payload")
    def payload(self, delivery: EventDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(delivery.event.payload(), indent=2))

    @admin.action(description="Replay the selected failed deliveries")
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not service.can_manage(request.user):
            raise PermissionDenied
        done, refused = 0, []
        for delivery in queryset.order_by("pk"):
            try:
                service.delivery_replay(actor=request.user, delivery=delivery)
                done += 1
            except service.NotReplayable as exc:
                refused.append(str(exc))
        if done:
            self.message_user(request, f"Replaying {done} deliveries.", messages.SUCCESS)
        for reason in refused[:10]:
            self.message_user(request, reason, messages.WARNING)
