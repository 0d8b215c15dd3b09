from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dashboard import selectors
from dashboard.access import can_replay, forbidden, staff_required
from dashboard.forms import DeliveryFilterForm
from dashboard.pagination import PAGE_SIZES, paginate
from referralhub import services
from webhooks import inbox
from webhooks.models import WebhookDelivery

REPLAYABLE = (WebhookDelivery.Status.FAILED, WebhookDelivery.Status.REJECTED)


@staff_required
def delivery_list(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(selectors.deliveries(filters), request)
    context = {"form": form, "page": page, "sizes": PAGE_SIZES}
    return render(request, "dashboard/deliveries.html", context)


@staff_required
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    context = {
        "delivery": delivery,
        "history": selectors.audit_history(delivery),
        "can_replay": can_replay(request.user) and delivery.status in REPLAYABLE,
    }
    return render(request, "dashboard/delivery.html", context)


@staff_required
@require_POST
def delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_replay(request.user):
        return forbidden(request, "You do not have permission to replay webhook deliveries.")
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    if delivery.status not in REPLAYABLE:
        messages.error(
            request,
            f"Delivery #{delivery.pk} is {delivery.status}: only failed or rejected "
            "deliveries can be replayed.",
        )
        return redirect("dashboard:delivery", pk=delivery.pk)
    before = delivery.status
    answer = inbox.replay(delivery)
    delivery.refresh_from_db()
    services.audit(
        actor=request.user,
        action="replay",
        obj=delivery,
        note=f"Answered HTTP {answer.status_code}",
        changes={"status": [before, delivery.status]} if before != delivery.status else {},
    )
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
