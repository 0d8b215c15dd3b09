from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from dashboard import selectors
from dashboard.access import staff_required
from dashboard.forms import ReferralFilterForm
from dashboard.pagination import PAGE_SIZES, paginate
from referralhub.models import Promoter
from referralhub.people import person_of


@staff_required
def referral_list(request: HttpRequest) -> HttpResponse:
    form = ReferralFilterForm(request.GET)
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
