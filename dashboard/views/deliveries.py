from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dashboard import selectors
from dashboard.access import forbidden, staff_required
from dashboard.exports import Column, ListExport, wanted
from dashboard.forms import DeliveryFilterForm
from dashboard.pagination import PAGE_SIZES, paginate
from dashboard.templatetags.dashboard import http_status
from webhooks import replays
from webhooks.models import WebhookDelivery
from webhooks.replays import REPLAYABLE, NotReplayable, can_replay

OTHER_ATTEMPTS_SHOWN = 50


DELIVERIES = ListExport(
    "deliveries",
    [
        Column("Delivery", lambda delivery: delivery.pk),
        Column("Received", lambda delivery: delivery.received_at),
        Column("Provider", lambda row: row.get_provider_display()),
        Column("Event", lambda delivery: delivery.event_type),
        Column("Status", lambda row: row.get_status_display()),
        Column("Answer", lambda delivery: http_status(delivery.response_status)),
        Column("Times sent", lambda delivery: delivery.attempts),
        Column("Endpoint", lambda delivery: delivery.endpoint),
    ],
)


@staff_required
def delivery_list(request: HttpRequest) -> HttpResponseBase:
    form = DeliveryFilterForm(request.GET)
    if wanted(request):
        return DELIVERIES.download(request, form, selectors.deliveries)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(selectors.deliveries(filters), request)
    context = {"form": form, "page": page, "sizes": PAGE_SIZES}
    return render(request, "dashboard/deliveries.html", context)


@staff_required
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    context = {
        "delivery": delivery,
        # Bodies sent under its key that it does not hold (webhooks.inbox): rare, and few.
        "other_attempts": delivery.other_attempts.all()[:OTHER_ATTEMPTS_SHOWN],
        "history": selectors.audit_history(delivery),
        "can_replay": can_replay(request.user) and delivery.status in REPLAYABLE,
    }
    return render(request, "dashboard/delivery.html", context)


@staff_required
@require_POST
def delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    try:
        answer = replays.delivery_replay(delivery=delivery, actor=request.user)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except NotReplayable as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:delivery", pk=delivery.pk)
    if delivery.status in REPLAYABLE:
        messages.warning(
            request,
            f"Replayed delivery #{delivery.pk}: still {delivery.status} "
            f"(HTTP {answer.status_code}).",
        )
    else:
        messages.success(
            request,
            f"Replayed delivery #{delivery.pk}: now {delivery.status} (HTTP {answer.status_code}).",
        )
    return redirect("dashboard:delivery", pk=delivery.pk)
