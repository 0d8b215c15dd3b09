from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from dashboard import charts, stats
from dashboard.access import staff_required
from dashboard.forms import PERIODS, PeriodForm

# The deliveries the problems card counts: failed or rejected, in the last 24 hours.
PROBLEMS = {"status": ["failed", "rejected"], "received": "24h"}


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    days = PeriodForm(request.GET).period()
    period = stats.window(days)
    figures = stats.lead_figures(period)
    rows = figures.days
    pending = stats.pending_approval()
    context = {
        "days": days,
        "periods": PERIODS,
        "period": period,
        "previous": period.previous(),
        "metrics": figures.metrics,
        "pending": pending,
        "pending_count": sum(row["count"] for row in pending),
        "fulfilment_queue": stats.fulfilment_queue_size(),
        "problems": stats.delivery_problems(),
        "problems_url": f"{reverse('dashboard:deliveries')}?{urlencode(PROBLEMS, doseq=True)}",
        "top_promoters": figures.top_promoters,
        "refresh_minutes": stats.LEAD_FIGURES_SECONDS // 60,
        "chart": charts.leads_and_customers(rows),
        "chart_totals": (sum(r[1] for r in rows), sum(r[2] for r in rows)),
    }
    return render(request, "dashboard/overview.html", context)
