"""Events out in the dashboard: subscriptions, their deliveries and attempts, replays. Every page
needs the permission to manage event subscriptions; the secret is shown on the page that made it
(creation or rotation) and never again."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dashboard.access import View, forbidden, staff_required
from dashboard.exports import Column, ListExport, wanted
from dashboard.pagination import PAGE_SIZES, paginate
from referralhub.events import subscriptions as service
from referralhub.models import EventDelivery, EventSubscription, EventType


class SubscriptionForm(forms.Form):
    url = forms.CharField(label="URL", max_length=2000, help_text="https, to a public address.")
    description = forms.CharField(max_length=255, required=False)
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Events (none ticked: all)",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class ReplaySinceForm(forms.Form):
    since = forms.DateTimeField(
        label="Failed since", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


def managers_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not service.can_manage(request.user):
            return forbidden(request, "You do not have permission to manage event subscriptions.")
        return view(request, *args, **kwargs)

    return staff_required(wrapper)


def _save(request: HttpRequest, form: forms.Form, call: Callable[..., Any]) -> Any:
    """Run the service with the form's values; its refusals become the form's errors."""
    try:
        return call(actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    return None


def _secret_page(request: HttpRequest, subscription: EventSubscription, secret: str, title: str):
    response = render(
        request,
        "dashboard/event_secret.html",
        {"subscription": subscription, "secret": secret, "title": title},
    )
    response["Cache-Control"] = "no-store"
    return response


def subscription_state(subscription: EventSubscription) -> str:
    if subscription.disabled_reason:
        return "Disabled by the hub"
    if not subscription.is_active:
        return "Off"
    if subscription.failing_since:
        return "Failing"
    return "Active"


def _site(url: str) -> str:
    """Only the address's site: the rest of a URL can hold a token, and exports travel."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


SUBSCRIPTIONS = ListExport(
    "event-subscriptions",
    [
        Column("Subscription", lambda subscription: subscription.pk),
        Column("Description", lambda subscription: subscription.description),
        Column("Site", lambda subscription: _site(subscription.url)),
        Column("Events", lambda subscription: " ".join(subscription.events) or "all"),
        Column("State", subscription_state),
        Column("Failing since", lambda subscription: subscription.failing_since),
        Column("Created", lambda subscription: subscription.created),
    ],
)
DELIVERIES = ListExport(
    "event-deliveries",
    [
        Column("Delivery", lambda delivery: delivery.pk),
        Column("Event", lambda delivery: delivery.event.type),
        Column("Happened", lambda delivery: delivery.event.created),
        Column("Status", lambda delivery: delivery.get_status_display()),
        Column("Attempts", lambda delivery: delivery.attempt_count),
        Column("Last answer", lambda delivery: delivery.last_status_code),
        Column("Next attempt", lambda delivery: delivery.next_attempt_at),
    ],
)


@managers_only
def subscription_list(request: HttpRequest) -> HttpResponseBase:
    if wanted(request):
        return SUBSCRIPTIONS.stream(EventSubscription.objects.order_by("-created", "-id"))
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        made = _save(request, form, service.subscription_create)
        if made is not None:
            subscription, secret = made
            return _secret_page(request, subscription, secret, "Subscription created")
    subscriptions = EventSubscription.objects.order_by("-created", "-id")[:200]
    return render(
        request,
        "dashboard/event_subscriptions.html",
        {"form": form, "subscriptions": subscriptions},
    )


@managers_only
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    subscription = get_object_or_404(EventSubscription, pk=pk)
    deliveries = EventDelivery.objects.filter(subscription=subscription).select_related("event")
    status = request.GET.get("status", "")
    if status in EventDelivery.Status.values:
        deliveries = deliveries.filter(status=status)
    deliveries = deliveries.order_by("-created", "-id")
    if wanted(request):
        return DELIVERIES.stream(deliveries)
    initial = {name: getattr(subscription, name) for name in service.EDITABLE}
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():

        def update(**values: Any) -> EventSubscription:
            return service.subscription_update(subscription=subscription, **values)

        if _save(request, form, update) is not None:
            messages.success(request, "Subscription saved.")
            return redirect("dashboard:event_subscription", pk=subscription.pk)
    context = {
        "subscription": subscription,
        "form": form,
        "replay_form": ReplaySinceForm(),
        "page": paginate(deliveries, request),
        "sizes": PAGE_SIZES,
        "statuses": EventDelivery.Status.choices,
        "status": status,
    }
    return render(request, "dashboard/event_subscription.html", context)


@managers_only
@require_POST
def subscription_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(EventSubscription, pk=pk)
    secret = service.subscription_rotate_secret(actor=request.user, subscription=subscription)
    subscription.refresh_from_db()
    return _secret_page(request, subscription, secret, "Secret rotated")


@managers_only
@require_POST
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(EventSubscription, pk=pk)
    service.subscription_delete(actor=request.user, subscription=subscription)
    messages.success(request, f"Deleted the subscription {subscription}.")
    return redirect("dashboard:event_subscriptions")


@managers_only
@require_POST
def subscription_replay(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(EventSubscription, pk=pk)
    form = ReplaySinceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the time to replay failed deliveries from.")
    else:
        try:
            count = service.deliveries_replay_since(
                actor=request.user, since=form.cleaned_data["since"], subscription=subscription
            )
        except service.NotReplayable as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Replaying {count} failed deliveries.")
    return redirect("dashboard:event_subscription", pk=subscription.pk)


@managers_only
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(
        EventDelivery.objects.select_related("event", "subscription"), pk=pk
    )
    context = {"delivery": delivery, "attempts": delivery.attempts.order_by("-attempted_at")}
    return render(request, "dashboard/event_delivery.html", context)


@managers_only
@require_POST
def delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(EventDelivery, pk=pk)
    try:
        service.delivery_replay(actor=request.user, delivery=delivery)
    except service.NotReplayable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Sending delivery #{delivery.pk} again.")
    return redirect("dashboard:event_delivery", pk=delivery.pk)
