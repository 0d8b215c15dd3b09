from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard import selectors
from dashboard.access import staff_required
from dashboard.forms import PromoterFilterForm
from dashboard.pagination import PAGE_SIZES, paginate


@staff_required
def promoter_list(request: HttpRequest) -> HttpResponse:
    form = PromoterFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(selectors.promoters(filters), request)
    return render(
        request, "dashboard/promoters.html", {"form": form, "page": page, "sizes": PAGE_SIZES}
    )
