from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render

from dashboard import selectors
from dashboard.access import staff_required
from dashboard.exports import Column, ListExport, wanted
from dashboard.forms import ReferralFilterForm
from dashboard.pagination import PAGE_SIZES, paginate
from dashboard.templatetags.dashboard import suspicion_label
from referralhub.models import Promoter
from referralhub.people import person_of

REFERRALS = ListExport(
    "referrals",
    [
        Column("Lead", lambda lead: lead.pk),
        Column("Email", lambda lead: lead.email),
        Column("Name", lambda lead: lead.name),
        Column("Provider", lambda row: row.get_provider_display()),
        Column("Provider's id", lambda lead: lead.external_id),
        Column("Campaign", lambda lead: lead.campaign),
        Column("Promoter", lambda lead: lead.promoter and lead.promoter.display_name),
        Column("Promoter's email", lambda lead: lead.promoter and lead.promoter.email),
        Column("Ref id", lambda lead: lead.promotion and lead.promotion.ref_id),
        Column("State", lambda lead: lead.state),
        Column("Suspicion", lambda lead: suspicion_label(lead.suspicion)),
        Column("Signed up", lambda lead: lead.provider_created_at or lead.created),
        Column("Customer since", lambda lead: lead.customer_since),
        Column("Added", lambda lead: lead.created),
    ],
)


@staff_required
def referral_list(request: HttpRequest) -> HttpResponseBase:
    form = ReferralFilterForm(request.GET)
    if wanted(request):
        return REFERRALS.download(request, form, selectors.referrals)
    filters = form.cleaned_data if form.is_valid() else {}
    promoter = None
    if promoter_id := filters.get("promoter"):
        promoter = Promoter.objects.filter(pk=promoter_id).first()
    page = paginate(selectors.referrals(filters), request)
    return render(
        request,
        "dashboard/referrals.html",
        {"form": form, "page": page, "sizes": PAGE_SIZES, "promoter": promoter},
    )


@staff_required
def promoter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    promoter = get_object_or_404(Promoter.objects.select_related("campaign"), pk=pk)
    context = {
        "promoter": promoter,
        "person": person_of(promoter),
        **selectors.promoter_page(promoter),
    }
    return render(request, "dashboard/promoter.html", context)
