"""Admin for webhook endpoints (created and edited here) and the inbox (read-only, replayable)."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.views.decorators.debug import sensitive_post_parameters

from referralhub.admin.base import (
    EMPTY,
    FilterValuesMixin,
    ReadOnlyAdmin,
    admin_url,
    audit_history,
    changelist_url,
    choices_filter,
    datetime_column,
    link_column,
    pre_block,
    pretty_json,
    pretty_text,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.providers import EVENT_TYPES, PROVIDERS
from webhooks.replays import REPLAYABLE, can_replay, delivery_replay

EventTypeFilter = choices_filter("event_type", "event type", EVENT_TYPES)
MAX_REPLAY = 100
OTHER_BODIES_SHOWN = 50


class WriteOnlyInput(forms.PasswordInput):
    """A credential's input: never filled in, followed only by whether one is stored."""

    def __init__(self) -> None:
        super().__init__(render_value=False, attrs={"autocomplete": "new-password"})
        self.is_set = False

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        field = super().render(name, None, attrs, renderer)
        state = "currently set" if self.is_set else "currently not set"
        return format_html('{} <span class="rh-write-only">{}</span>', field, state)


def write_only_field(help_text: str) -> forms.CharField:
    return forms.CharField(
        required=False, max_length=255, strip=True, widget=WriteOnlyInput(), help_text=help_text
    )


class EndpointForm(forms.ModelForm):
    """Credentials are write-only: never rendered back, kept when their field is left blank, and
    removed only by ticking their "remove" box."""

    WRITE_ONLY = {"secret": "secret", "api_key": "API key"}

    secret = write_only_field(
        "Signing secret (Referral Rocket, FirstPromoter v2) or the HTTP Basic auth "
        "password (InviteReferrals)."
    )
    clear_secret = forms.BooleanField(required=False, label="Remove the secret")
    api_key = write_only_field(
        "FirstPromoter API key (Settings, Integrations, Manage API keys at FirstPromoter), "
        "used with the account ID to read from FirstPromoter's API."
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the API key")

    class Meta:
        model = WebhookEndpoint
        fields = ("provider", "name", "is_active", "secret", "api_key", "api_account_id")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.fields.keys() & self.WRITE_ONLY.keys():
            self.fields[name].widget.is_set = bool(getattr(self.instance, name))
            if self.instance.pk is not None:
                self.fields[name].help_text += " Leave blank to keep the current one."

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in self.fields.keys() & self.WRITE_ONLY.keys():
            if data.get(f"clear_{name}") and data.get(name):
                label = self.WRITE_ONLY[name]
                self.add_error(name, f"Either enter a new {label} or remove it, not both.")
            elif data.get(f"clear_{name}"):
                data[name] = ""
            elif not data.get(name):
                data[name] = getattr(self.instance, name)  # blank means "unchanged"
        return data


CREDENTIALS = ("url", "token", "secret", "clear_secret", "api_key", "clear_api_key")
WRITE_ONLY_COLUMNS = frozenset(EndpointForm.WRITE_ONLY)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(FilterValuesMixin, admin.ModelAdmin):
    form = EndpointForm
    list_display = (
        "__str__",
        "provider",
        "is_active",
        "has_secret",
        "has_api_credentials",
        "created_at",
        "deliveries",
    )
    list_filter = ("provider", "is_active")
    search_fields = ("name",)
    actions = ("activate", "deactivate")

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        if obj is None:
            return ("provider", "name", "is_active", "secret", "api_key", "api_account_id")
        fields = (
            "name",
            "provider",
            "url",
            "setup",
            "token",
            "is_active",
            "has_secret",
            "secret",
            "clear_secret",
            "api_key_state",
            "api_key",
            "clear_api_key",
            "api_account_id",
            "created",
            "deliveries",
        )
        if self.has_change_permission(request, obj):
            return tuple(f for f in fields if f != "api_key_state")  # the input says it
        # A view-only page would render every field read-only, the secret in clear included; the
        # token (in the URL) is as much a key, since FirstPromoter signs nothing.
        return tuple(f for f in fields if f not in CREDENTIALS)

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        if obj is None:
            return ()
        # The provider decides how deliveries are parsed: changing it would orphan the inbox.
        return (
            "provider",
            "url",
            "setup",
            "token",
            "has_secret",
            "api_key_state",
            "created",
            "deliveries",
        )

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # ?api_key__startswith=a would tell a credential letter by letter from the row count.
        if lookup.partition("__")[0] in WRITE_ONLY_COLUMNS:
            return False
        return super().lookup_allowed(lookup, value, request)

    @method_decorator(sensitive_post_parameters(*EndpointForm.WRITE_ONLY))
    def changeform_view(self, *args: Any, **kwargs: Any) -> HttpResponse:
        # Error reports (a 500's email or debug page) must not carry a credential just typed.
        return super().changeform_view(*args, **kwargs)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        endpoint = super().get_object(request, object_id, from_field)
        if endpoint is not None:
            # Display methods are given only the object: it carries its URL as this request
            # reaches the site (scheme and host included, behind the load balancer too).
            endpoint.url = request.build_absolute_uri(endpoint.path)
        return endpoint

    def response_add(
        self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        response = super().response_add(request, obj, post_url_continue)
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return response
        # An endpoint is added to get its URL: land on its page, where the URL is shown.
        messages.info(
            request,
            f"Give {obj.get_provider_display()} this URL: {request.build_absolute_uri(obj.path)}",
        )
        return HttpResponseRedirect(admin_url(obj))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Endpoints with deliveries are protected; deactivate them instead of deleting.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.deliveries.exists():
            return False
        return super().has_delete_permission(request, obj)

    created_at = datetime_column("created", "created")

    @admin.display(description="URL to give the provider")
    def url(self, obj: WebhookEndpoint) -> str:
        return format_html("<code>{}</code>", getattr(obj, "url", obj.path))

    @admin.display(description="at the provider")
    def setup(self, obj: WebhookEndpoint) -> str:
        return PROVIDERS[obj.provider].SETUP

    @admin.display(description="secret set", boolean=True)
    def has_secret(self, obj: WebhookEndpoint) -> bool:
        return bool(obj.secret)

    @admin.display(description="API credentials", boolean=True)
    def has_api_credentials(self, obj: WebhookEndpoint) -> bool:
        return obj.has_api_credentials

    @admin.display(description="API key")
    def api_key_state(self, obj: WebhookEndpoint) -> str:
        return "set" if obj.api_key else "not set"

    @admin.display(description="inbox")
    def deliveries(self, obj: WebhookEndpoint) -> str:
        return format_html(
            '<a href="{}">deliveries</a>', changelist_url(WebhookDelivery, endpoint=obj.pk)
        )

    @admin.action(permissions=["change"], description="Activate selected endpoints")
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(is_active=True)
        messages.success(request, f"Activated {count} endpoint(s).")

    @admin.action(permissions=["change"], description="Deactivate selected endpoints (404 them)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(is_active=False)
        messages.success(request, f"Deactivated {count} endpoint(s).")


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
