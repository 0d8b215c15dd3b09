"""Approve all the rewards the approvals queue's filter matches: a confirmation that names N and
the totals, then a progress page while a background task approves them in chunks."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode

from dashboard.access import forbidden, staff_required
from dashboard.forms import ApproveAllForm
from referralhub import bulk_approvals, services
from referralhub.models import BulkApproval, Provider

REFRESH_SECONDS = 5


@staff_required
def approve_all(request: HttpRequest) -> HttpResponse:
    """GET: what would be approved (N, totals per currency); POST: start it, if it is still
    exactly that, else show the new numbers to confirm again."""
    if not services.can_act(request.user, "approve"):
        return forbidden(request, "You do not have permission to approve rewards.")
    form = ApproveAllForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        # Unlike the list, an invalid filter is refused: ignoring it would approve every reward.
        problems = " ".join(" ".join(str(e) for e in errors) for errors in form.errors.values())
        messages.error(request, f"Nothing was approved: {problems}")
        return HttpResponseRedirect(reverse("dashboard:approvals"))
    filters = form.cleaned_data
    changed = False
    if request.method == "POST":
        try:
            bulk = bulk_approvals.bulk_approval_start(
                filters=filters,
                fingerprint=filters["fingerprint"],
                note=filters["note"],
                actor=request.user,
            )
        except PermissionDenied as exc:
            return forbidden(request, str(exc))
        except bulk_approvals.QueueChanged:
            changed = True
        except ValueError as exc:
            messages.error(request, f"Nothing was approved: {exc}")
            return HttpResponseRedirect(_queue_url(filters))
        else:
            progress = reverse("dashboard:bulk_approval", args=[bulk.pk])
            return HttpResponseRedirect(f"{progress}?auto=1")
    try:
        preview = bulk_approvals.preview(filters)
    except bulk_approvals.TooMany as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_queue_url(filters))
    context = {
        "form": form,
        "preview": preview,
        "filter_text": _filter_text(filters),
        "changed": changed,
        "back": _queue_url(filters),
    }
    return render(request, "dashboard/approve_all.html", context)


def _queue_url(filters: dict) -> str:
    query = {k: v for k, v in (("provider", filters.get("provider")),) if v}
    if filters.get("suspects"):
        query["suspects"] = "on"
    url = reverse("dashboard:approvals")
    return f"{url}?{urlencode(query)}" if query else url


def _filter_text(filters: dict) -> str:
    """The filter as a sentence: "from FirstPromoter, self-referral suspects only"."""
    parts = []
    if provider := filters.get("provider"):
        parts.append(f"from {Provider(provider).label}")
    if filters.get("suspects"):
        parts.append("self-referral suspects only")
    return ", ".join(parts) or "every provider, no filter"


@staff_required
def bulk_approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.can_act(request.user, "approve"):
        return forbidden(request, "You do not have permission to approve rewards.")
    bulk = get_object_or_404(BulkApproval.objects.select_related("actor"), pk=pk)
    context = {
        "bulk": bulk,
        "filter_text": _filter_text(bulk.filters),
        "skipped_shown": bulk.skipped_ids[:50],
        # Refreshing itself only when asked (?auto=1), with a way to stop: a page that reloads
        # on its own unasked fails WCAG's timing rule (2.2.1), and screen readers start over.
        "running": not bulk.finished,
        "refresh": REFRESH_SECONDS if not bulk.finished and request.GET.get("auto") else None,
        "back": _queue_url(bulk.filters),
    }
    return render(request, "dashboard/bulk_approval.html", context)
