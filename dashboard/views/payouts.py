"""Payouts: batches of approved rewards, from a preview to the files and the record of payment.
Every change goes through referralhub.payouts.batches, which checks the permission again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard import selectors as dashboard_selectors
from dashboard.access import forbidden, staff_required
from dashboard.forms import PayoutFilterForm, PayoutIdsForm
from dashboard.pagination import PAGE_SIZES, paginate
from referralhub.models import PayoutBatch
from referralhub.payouts import batches, selectors
from referralhub.payouts.files import FORMATS, payout_response
from referralhub.payouts.lines import BatchLines

VIEW_PERMISSION = "referralhub.view_payoutbatch"


def _can_view(request: HttpRequest) -> bool:
    return request.user.has_perm(VIEW_PERMISSION)


def _refused_view(request: HttpRequest) -> HttpResponse:
    return forbidden(request, "You do not have permission to see payout batches.")


@staff_required
def payout_list(request: HttpRequest) -> HttpResponse:
    if not _can_view(request):
        return _refused_view(request)
    page = paginate(selectors.batch_list(), request)
    context = {"page": page, "sizes": PAGE_SIZES, "can_create": batches.can_create(request.user)}
    return render(request, "dashboard/payouts.html", context)


def _filters(data: dict[str, Any]) -> selectors.BatchFilters:
    return selectors.BatchFilters(
        provider=data.get("provider") or "",
        campaign=data["campaign"].pk if data.get("campaign") else None,
        currency=(data.get("currency") or "").upper(),
        approved_from=data.get("approved_from"),
        approved_to=data.get("approved_to"),
    )


@staff_required
def payout_new(request: HttpRequest) -> HttpResponseBase:
    """GET with filters: the preview; POST: the batch, with the warned rewards checked."""
    if not batches.can_create(request.user):
        return forbidden(request, "You do not have permission to create payout batches.")
    data = request.POST if request.method == "POST" else request.GET
    form = PayoutFilterForm(data if "preview" in data or request.method == "POST" else None)
    preview = None
    if form.is_bound and form.is_valid():
        filters = _filters(form.cleaned_data)
        if request.method == "POST":
            chosen = PayoutIdsForm(request.POST)
            include = chosen.cleaned_data["ids"] if chosen.is_valid() else []
            try:
                batch = batches.payout_batch_create(
                    actor=request.user,
                    filters=filters,
                    include=include,
                    grouping=form.cleaned_data.get("grouping") or PayoutBatch.Grouping.REWARD,
                )
            except PermissionDenied as exc:
                return forbidden(request, str(exc))
            except (batches.BatchRefused, batches.BatchConflict) as exc:
                messages.error(request, f"No batch was created. {_reasons(exc)}")
            else:
                messages.success(request, f"Created payout batch #{batch.pk}.")
                return HttpResponseRedirect(reverse("dashboard:payout", args=[batch.pk]))
        preview = selectors.batch_preview(filters)
    context = {"form": form, "preview": preview, "shown_max": selectors.MAX_WARNED_SHOWN}
    return render(request, "dashboard/payout_new.html", context)


def _reasons(exc: Exception) -> str:
    errors = getattr(exc, "errors", {})
    details = "; ".join(f"reward #{pk}: {why}" for pk, why in errors.items())
    return f"{exc} {details}".strip()


@staff_required
def payout_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not _can_view(request):
        return _refused_view(request)
    batch = get_object_or_404(
        PayoutBatch.objects.select_related("created_by", "paid_by", "closed_by"), pk=pk
    )
    items = selectors.batch_items(batch)
    context = {
        "batch": batch,
        "page": paginate(items, request),
        "sizes": PAGE_SIZES,
        "totals": selectors.batch_totals(batch),
        "warned": list(items.exclude(warnings=[])[:200]),
        "formats": FORMATS,
        "can_pay": batches.can_pay(request.user),
        "history": dashboard_selectors.audit_history(batch),
        "warning_text": selectors.WARNING_TEXT,
    }
    return render(request, "dashboard/payout.html", context)


@staff_required
def payout_file(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    if not _can_view(request):
        return _refused_view(request)
    batch = get_object_or_404(PayoutBatch, pk=pk)
    back = reverse("dashboard:payout", args=[batch.pk])
    if fmt not in FORMATS or not batch.is_active:
        messages.error(request, f"Nothing to download: the batch is {batch.status}.")
        return HttpResponseRedirect(back)
    try:
        return payout_response(fmt, BatchLines(batch), label=f"payout-{batch.pk}")
    except ValueError as exc:
        messages.error(request, f"The {FORMATS[fmt].label} file cannot be written: {exc}")
        return HttpResponseRedirect(back)


@staff_required
@require_POST
def payout_act(request: HttpRequest, pk: int, act: str) -> HttpResponseBase:
    """Mark paid (leaving out the checked rewards), cancel or reverse, with a note or reason."""
    batch = get_object_or_404(PayoutBatch, pk=pk)
    back = reverse("dashboard:payout", args=[batch.pk])
    form = PayoutIdsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was changed: a reward id is not valid.")
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    try:
        if act == "pay":
            batches.payout_batch_mark_paid(
                batch=batch, actor=request.user, exclude=data["ids"], note=data["text"]
            )
            done = f"Marked payout batch #{batch.pk} paid"
            if data["ids"]:
                done += f", without {len(data['ids'])} reward(s), now unpaid again"
        elif act == "cancel":
            batches.payout_batch_cancel(batch=batch, actor=request.user, reason=data["text"])
            done = f"Cancelled payout batch #{batch.pk}: its rewards are unpaid again"
        else:
            batches.payout_batch_reverse(batch=batch, actor=request.user, reason=data["text"])
            done = f"Reversed payout batch #{batch.pk}: its rewards are unpaid again"
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except batches.BatchRefused as exc:
        messages.error(request, f"Nothing was changed. {_reasons(exc)}")
    else:
        messages.success(request, f"{done}.")
    return HttpResponseRedirect(back)
