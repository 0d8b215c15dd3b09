from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from dashboard import selectors
from dashboard.access import staff_required
from referralhub.models import Lead
from referralhub.people import person_of


@staff_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Who may see the referrals list may see each of its leads."""
    lead = get_object_or_404(
        Lead.objects.select_related("promoter", "promotion", "campaign"), pk=pk
    )
    context = {"lead": lead, "person": person_of(lead.promoter), **selectors.lead_page(lead)}
    return render(request, "dashboard/lead.html", context)
