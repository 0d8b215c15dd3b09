from __future__ import annotations

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from dashboard import selectors
from dashboard.access import staff_required
from dashboard.exports import Column, ListExport, wanted
from dashboard.forms import PromoterFilterForm
from dashboard.pagination import PAGE_SIZES, paginate
from referralhub.models import Promoter


def _campaigns(promoter: Promoter) -> str:
    """As the list shows them: a FirstPromoter promoter's through its promotions (prefetched)."""
    through = [str(p.campaign) for p in promoter.promotions.all() if p.campaign]
    if through:
        return "; ".join(through)
    return str(promoter.campaign) if promoter.campaign else ""


PROMOTERS = ListExport(
    "promoters",
    [
        Column("Promoter", lambda promoter: promoter.pk),
        Column("Name", lambda promoter: promoter.display_name),
        Column("Email", lambda promoter: promoter.email),
        Column("Provider", lambda row: row.get_provider_display()),
        Column("Provider's id", lambda promoter: promoter.external_id),
        Column("Campaigns", _campaigns),
        Column("Company", lambda promoter: promoter.company_name),
        Column("Ref id or code", lambda promoter: promoter.code or promoter.default_ref_id),
        Column("Status", lambda promoter: promoter.status),
        Column("Joined", lambda promoter: promoter.provider_created_at or promoter.created),
    ],
)


@staff_required
def promoter_list(request: HttpRequest) -> HttpResponseBase:
    form = PromoterFilterForm(request.GET)
    if wanted(request):
        return PROMOTERS.download(request, form, selectors.promoters)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(selectors.promoters(filters), request)
    return render(
        request, "dashboard/promoters.html", {"form": form, "page": page, "sizes": PAGE_SIZES}
    )
