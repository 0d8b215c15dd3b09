"""Webhook endpoints in the admin: created and edited here, credentials write-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.views.decorators.debug import sensitive_post_parameters

from referralhub.admin.base import (
    EMPTY,
    FilterValuesMixin,
    admin_url,
    changelist_url,
    datetime_column,
)
from referralhub.models import Provider
from webhooks.endpoint_forms import WRITE_ONLY, EndpointForm
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.providers import PROVIDERS
from webhooks.providers.checks import ROTATED, accepted, checks_summary

# Columns no filter in the address may look at: ?secret__startswith=a would tell a credential
# letter by letter from the row count. The token is as much a key.
SECRET_COLUMNS = frozenset({"token", *WRITE_ONLY, *(previous for _, previous, _ in ROTATED)})
SIGNATURE = ("secret", "clear_secret", "rotate_secret_until", "previous_secret_state")
BASIC_AUTH = (
    "basic_auth_user",
    "basic_auth_password",
    "clear_basic_auth_password",
    "rotate_basic_auth_password_until",
    "previous_basic_auth_password_state",
)
HEADER = (
    "header_name",
    "header_value",
    "clear_header_value",
    "rotate_header_value_until",
    "previous_header_value_state",
)
API = ("api_key", "clear_api_key", "api_account_id")
READ_ONLY = (
    "provider",
    "url",
    "setup",
    "token",
    "checks",
    "api_key_state",
    "created",
    "deliveries",
    "previous_secret_state",
    "previous_basic_auth_password_state",
    "previous_header_value_state",
)


Section = tuple[str | None, dict[str, Any]]


def _section(title: str, fields: tuple[str, ...], description: str = "") -> Section:
    return (title, {"fields": fields, "description": description})


def _check_sections(provider: str) -> list[Section]:
    """The credentials' sections of an endpoint's page: a signature only where the provider
    signs, API credentials only for FirstPromoter."""
    sections: list[Section] = []
    if header := PROVIDERS[provider].SIGNATURE_HEADER:
        sections.append(_section("Signature", SIGNATURE, f"Checks {header}."))
    sections.append(_section("HTTP Basic auth", BASIC_AUTH))
    sections.append(_section("Header with a shared value", HEADER))
    if provider == Provider.FIRSTPROMOTER:
        sections.append(_section("FirstPromoter API", API))
    return sections


def _previous_state(field: str, label: str) -> Callable[[Any, WebhookEndpoint], str]:
    @admin.display(description=f"previous {label}")
    def state(self: Any, obj: WebhookEndpoint) -> str:
        until = getattr(obj, f"previous_{field}_until")
        if not getattr(obj, f"previous_{field}") or until is None:
            return EMPTY
        if len(accepted(obj, field)) == 1:
            return f"expired on {localtime(until):%Y-%m-%d %H:%M}"
        return f"set, accepted until {localtime(until):%Y-%m-%d %H:%M}"

    return state


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(FilterValuesMixin, admin.ModelAdmin):
    form = EndpointForm
    list_display = (
        "__str__",
        "provider",
        "is_active",
        "checks",
        "has_api_credentials",
        "created_at",
        "deliveries",
    )
    list_filter = ("provider", "is_active")
    search_fields = ("name",)
    actions = ("activate", "deactivate")

    def get_fieldsets(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        if obj is None:
            return [
                (None, {"fields": ("provider", "name", "is_active", "expected_every")}),
                _section("Signature", ("secret",), "Referral Rocket and FirstPromoter only."),
                _section("HTTP Basic auth", ("basic_auth_user", "basic_auth_password")),
                _section("Header with a shared value", ("header_name", "header_value")),
                _section("FirstPromoter API", ("api_key", "api_account_id"), "FirstPromoter only."),
            ]
        main = (
            "name",
            "provider",
            "url",
            "setup",
            "token",
            "is_active",
            "expected_every",
            "checks",
        )
        end = _section("Inbox", ("created", "deliveries"))
        if self.has_change_permission(request, obj):
            return [(None, {"fields": main}), *_check_sections(obj.provider), end]
        # A view-only page renders every field read-only, credentials in clear included; the
        # token (in the URL) is as much a key. Only whether each is set is shown.
        shown: list[Section] = [
            (None, {"fields": tuple(f for f in main if f not in ("url", "token"))})
        ]
        if obj.provider == Provider.FIRSTPROMOTER:
            shown.append(_section("FirstPromoter API", ("api_key_state", "api_account_id")))
        return [*shown, end]

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        # The provider decides how deliveries are parsed: changing it would orphan the inbox.
        return () if obj is None else READ_ONLY

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup.partition("__")[0] in SECRET_COLUMNS:
            return False
        return super().lookup_allowed(lookup, value, request)

    @method_decorator(sensitive_post_parameters(*WRITE_ONLY))
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
    previous_secret_state = _previous_state("secret", "signing secret")
    previous_basic_auth_password_state = _previous_state("basic_auth_password", "password")
    previous_header_value_state = _previous_state("header_value", "header value")

    @admin.display(description="URL to give the provider")
    def url(self, obj: WebhookEndpoint) -> str:
        return format_html("<code>{}</code>", getattr(obj, "url", obj.path))

    @admin.display(description="at the provider")
    def setup(self, obj: WebhookEndpoint) -> str:
        return PROVIDERS[obj.provider].SETUP

    @admin.display(description="checks")
    def checks(self, obj: WebhookEndpoint) -> str:
        return ", ".join(checks_summary(obj))

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
        messages.success(request, f"Activated {count} endpoint{pluralize(count)}.")

    @admin.action(permissions=["change"], description="Deactivate selected endpoints (404 them)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(is_active=False)
        messages.success(request, f"Deactivated {count} endpoint{pluralize(count)}.")
